"""MSP-Podcast as it ships: Audios/*.wav and Labels/labels_consensus.csv with official partitions."""

from collections import Counter

from tests.corpora.conftest import by_id, test_fold


def test_labels_speakers_genders_and_partitions_come_from_labels_consensus(load):
    utterances = by_id(load("msp_podcast"))
    expected = {
        "MSP-PODCAST_0101_0001": ("neutral", "spk101", "female", "Train"),
        "MSP-PODCAST_0102_0006": ("happy", "spk102", "male", "Train"),
        "MSP-PODCAST_0107_0027": ("sad", "spk107", "female", "Development"),
        "MSP-PODCAST_0109_0036": ("angry", "spk109", "female", "Test1"),
        "MSP-PODCAST_0112_0045": ("neutral", "spk112", "male", "Test2"),
    }
    for name, fields in expected.items():
        u = utterances[name]
        assert (u.emotion, u.speaker, u.gender, u.split) == fields


def test_other_classes_and_unknown_speakers_are_dropped_and_counted(load):
    corpus = load("msp_podcast")
    assert Counter(d.reason for d in corpus.dropped) == {
        "emotion outside the label set: surprise": 1,
        "emotion outside the label set: no agreement": 1,
        "unknown speaker or gender": 1,
    }


def test_folds_are_the_official_partitions(load):
    corpus = load("msp_podcast")
    folds = corpus.folds(4, seed=0)
    assert len(folds) == 2
    assert folds[0].train_speakers == tuple(f"spk{n}" for n in range(101, 107))
    assert folds[0].dev_speakers == ("spk107", "spk108")
    assert folds[0].test_speakers == ("spk109", "spk110") and folds[1].test_speakers == ("spk111", "spk112")
    for u in corpus.utterances:
        if u.split.startswith("Test"):
            assert test_fold(folds, u.speaker) == int(u.split[-1]) - 1
