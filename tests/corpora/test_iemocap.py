"""IEMOCAP as it ships: Session*/sentences/wav/<dialog>/<utt>.wav and EmoEvaluation/<dialog>.txt."""

from collections import Counter

from tests.corpora.conftest import by_id, test_fold


def test_emoevaluation_lines_give_emotion_and_the_utterance_id_gives_speaker_and_gender(load):
    utterances = by_id(load("iemocap"))
    expected = {
        "Ses01F_impro01_F000": ("neutral", "Ses01F", "female", "Session1"),
        "Ses01F_impro01_M001": ("happy", "Ses01M", "male", "Session1"),
        "Ses03F_impro01_F002": ("happy", "Ses03F", "female", "Session3"),  # exc, merged into happy
        "Ses05M_script01_1_M000": ("sad", "Ses05M", "male", "Session5"),
        "Ses04M_script01_1_F001": ("angry", "Ses04F", "female", "Session4"),
    }
    for name, fields in expected.items():
        u = utterances[name]
        assert (u.emotion, u.speaker, u.gender, u.session) == fields


def test_frustrated_and_no_agreement_fall_outside_the_label_set(load):
    corpus = load("iemocap")
    assert Counter(d.reason for d in corpus.dropped) == {
        "emotion outside the label set: frustrated": 10,
        "emotion outside the label set: no agreement": 5,
    }


def test_excited_can_be_kept_apart_from_happy(load):
    corpus = load("iemocap", options=",emotions=neutral+happy+sad+angry+excited,map=exc:excited")
    assert Counter(corpus.column("emotion"))["excited"] == 10
    assert Counter(corpus.column("emotion"))["happy"] == 10


def test_folds_leave_one_session_out_whatever_k(load):
    corpus = load("iemocap")
    folds = corpus.folds(4, seed=0)
    assert len(folds) == 5
    for u in corpus.utterances:
        assert test_fold(folds, u.speaker) == int(u.session[-1]) - 1
    for fold in folds:
        assert len(fold.dev_speakers) == 2 and len(fold.train_speakers) == 6
