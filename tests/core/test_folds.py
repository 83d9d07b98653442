"""Folds are speaker-independent, gender-balanced, cover every speaker once, and are seeded."""

import pytest

from trustser.corpora.base import Utterance
from trustser.corpora.folds import Fold, check_speaker_independence, speaker_folds


def corpus(females=4, males=4, per_speaker=3):
    utterances = []
    for gender, count in (("female", females), ("male", males)):
        for s in range(count):
            for i in range(per_speaker):
                utterances.append(Utterance(f"{gender[0]}{s}-{i}", f"{gender[0]}{s}", gender, "neutral"))
    return utterances


def test_folds_partition_speakers_and_balance_gender():
    folds = speaker_folds(corpus(), k=4, seed=1)
    tested = [s for f in folds for s in f.test_speakers]
    assert sorted(tested) == sorted({u.speaker for u in corpus()})
    for fold in folds:
        assert sorted(s[0] for s in fold.test_speakers) == ["f", "m"]
        assert not set(fold.train_speakers) & set(fold.test_speakers)
        assert not set(fold.dev_speakers) & set(fold.test_speakers)
        assert {s[0] for s in fold.train_speakers} == {"f", "m"}


def test_folds_are_seeded():
    assert speaker_folds(corpus(), 4, seed=3) == speaker_folds(corpus(), 4, seed=3)
    assert speaker_folds(corpus(), 4, seed=3) != speaker_folds(corpus(), 4, seed=4)


def test_too_many_folds_is_an_error():
    with pytest.raises(ValueError, match="9 speaker-independent folds from 8 speakers"):
        speaker_folds(corpus(), 9)


def test_leak_is_detected():
    with pytest.raises(AssertionError, match="s1"):
        check_speaker_independence([Fold(0, ("s1", "s2"), (), ("s1",))])
