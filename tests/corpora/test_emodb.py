"""EmoDB as it ships: wav/<speaker><text><emotion><version>.wav; sex and age from its speaker table."""

from collections import Counter

from tests.corpora.conftest import by_id, test_fold


def test_file_name_codes_and_speaker_table(load):
    utterances = by_id(load("emodb"))
    expected = {
        "03a01Na": ("neutral", "03", "male", 31),
        "08a02Fa": ("happy", "08", "female", 34),
        "09a04Ta": ("sad", "09", "female", 21),
        "15b01Wa": ("angry", "15", "male", 25),
    }
    for name, fields in expected.items():
        u = utterances[name]
        assert (u.emotion, u.speaker, u.gender, u.age) == fields


def test_boredom_is_dropped_and_counted(load):
    assert Counter(d.reason for d in load("emodb").dropped) == {"emotion outside the label set: boredom": 10}


def test_speaker_independent_gender_balanced_folds(load):
    corpus = load("emodb")
    folds = corpus.folds(4, seed=0)
    genders = {u.speaker: u.gender for u in corpus.utterances}
    for fold in folds:
        assert {genders[s] for s in fold.test_speakers} == {"female", "male"}
    assert sorted(Counter(test_fold(folds, s) for s in genders).values()) == [2, 2, 3, 3]
