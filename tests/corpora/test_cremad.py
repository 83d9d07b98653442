"""CREMA-D as it ships: AudioWAV/<actor>_<sentence>_<emotion>_<level>.wav and VideoDemographics.csv."""

from collections import Counter

from tests.corpora.conftest import FIXTURES, by_id, test_fold
from trustser.corpora.folds import check_speaker_independence


def test_each_file_gets_emotion_speaker_gender_and_age_from_its_name_and_the_demographics(load):
    corpus = load("cremad")
    utterances = by_id(corpus)
    assert (utterances["1001_DFA_NEU_XX"].emotion, utterances["1001_DFA_NEU_XX"].speaker) == ("neutral", "1001")
    assert (utterances["1001_DFA_NEU_XX"].gender, utterances["1001_DFA_NEU_XX"].age) == ("male", 20)
    assert (utterances["1002_IEO_HAP_MD"].emotion, utterances["1002_IEO_HAP_MD"].gender) == ("happy", "female")
    assert (utterances["1008_TIE_ANG_MD"].emotion, utterances["1008_TIE_ANG_MD"].age) == ("angry", 55)
    assert utterances["1005_ITH_SAD_MD"].sentence == "ITH"
    for utterance in corpus.utterances:
        assert utterance.speaker == utterance.id[:4]
        assert utterance.gender == ("female" if int(utterance.speaker) % 2 == 0 else "male")


def test_disgust_is_dropped_and_counted_and_every_file_is_accounted_for(load):
    corpus = load("cremad")
    assert Counter(d.reason for d in corpus.dropped) == {"emotion outside the label set: disgust": 8}
    assert not any(d.bad for d in corpus.dropped)
    assert len(corpus) + len(corpus.dropped) == len(list((FIXTURES / "cremad" / "AudioWAV").glob("*.wav")))


def test_folds_are_speaker_independent_and_gender_balanced(load):
    corpus = load("cremad")
    folds = corpus.folds(4, seed=0)
    check_speaker_independence(folds)
    genders = {u.speaker: u.gender for u in corpus.utterances}
    assert sorted(len(f.test_speakers) for f in folds) == [2, 2, 2, 2]
    for fold in folds:
        assert sorted(genders[s] for s in fold.test_speakers) == ["female", "male"]
    for utterance in corpus.utterances:  # every file is tested in exactly one fold: its speaker's
        test_fold(folds, utterance.speaker)


def test_label_set_is_configurable(load):
    corpus = load("cremad", options=",emotions=neutral+happy+sad+angry+disgust")
    assert corpus.emotions == ("neutral", "happy", "sad", "angry", "disgust")
    assert len(corpus) == 40 and not corpus.dropped
    assert corpus.labels().max() == 4
