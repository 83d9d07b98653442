"""MSP-IMPROV as it ships: session*/S01A/P/MSP-IMPROV-S01A-F01-P-FM01.wav and Evaluation.txt."""

from collections import Counter

from tests.corpora.conftest import by_id, test_fold


def test_consensus_label_file_name_speaker_and_session(load):
    utterances = by_id(load("msp_improv"))
    expected = {
        "MSP-IMPROV-S01N-F01-R-FM01": ("neutral", "F01", "female", "session1"),
        "MSP-IMPROV-S02H-M03-S-FM03": ("happy", "M03", "male", "session3"),
        "MSP-IMPROV-S03S-F06-T-FM06": ("sad", "F06", "female", "session6"),
        "MSP-IMPROV-S04A-M02-P-FM02": ("angry", "M02", "male", "session2"),
    }
    for name, fields in expected.items():
        u = utterances[name]
        assert (u.emotion, u.speaker, u.gender, u.session) == fields


def test_the_raters_consensus_not_the_acted_target_is_the_label(load):
    corpus = load("msp_improv")
    # S05N files were acted as neutral, but the raters' consensus is O (other): dropped.
    assert not any(u.id.startswith("MSP-IMPROV-S05N") for u in corpus.utterances)
    assert Counter(d.reason for d in corpus.dropped) == {"emotion outside the label set: other": 12}


def test_one_fold_per_session(load):
    corpus = load("msp_improv")
    folds = corpus.folds(4, seed=0)
    assert len(folds) == 6
    for u in corpus.utterances:
        assert test_fold(folds, u.speaker) == int(u.session[-1]) - 1
