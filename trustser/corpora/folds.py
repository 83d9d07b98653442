"""Speaker-independent, gender-balanced k-fold splits and the dev split for early stopping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: base.py builds a corpus's default folds with this module
    from trustser.corpora.base import Utterance


@dataclass(frozen=True)
class Fold:
    index: int
    train_speakers: tuple[str, ...]
    dev_speakers: tuple[str, ...]
    test_speakers: tuple[str, ...]


def _speakers_by_gender(utterances: list[Utterance]) -> dict[str, list[str]]:
    groups: dict[str, set[str]] = {}
    for u in utterances:
        groups.setdefault(u.gender, set()).add(u.speaker)
    return {gender: sorted(speakers) for gender, speakers in sorted(groups.items())}


def speaker_folds(utterances: list[Utterance], k: int, seed: int = 0) -> list[Fold]:
    """k folds whose test speakers are disjoint and, per gender, dealt round-robin.

    Each fold's dev speakers (one per gender where possible) come from its training speakers and
    are used only for early stopping.
    """
    by_gender = _speakers_by_gender(utterances)
    total = sum(len(s) for s in by_gender.values())
    if k < 2 or k > total:
        raise ValueError(f"cannot make {k} speaker-independent folds from {total} speakers")
    rng = np.random.default_rng(seed)
    test_sets: list[list[str]] = [[] for _ in range(k)]
    offset = 0
    for speakers in by_gender.values():
        order = [speakers[i] for i in rng.permutation(len(speakers))]
        for position, speaker in enumerate(order):
            test_sets[(offset + position) % k].append(speaker)
        offset += len(speakers)  # so a gender with few speakers does not always land in fold 0
    all_speakers = {s for ss in by_gender.values() for s in ss}
    folds = []
    for index, test in enumerate(test_sets):
        rest = sorted(all_speakers - set(test))
        dev = _pick_dev(rest, by_gender, rng)
        train = tuple(s for s in rest if s not in dev)
        folds.append(Fold(index, train, tuple(sorted(dev)), tuple(sorted(test))))
    check_speaker_independence(folds)
    return folds


def _pick_dev(candidates: list[str], by_gender: dict[str, list[str]], rng: np.random.Generator) -> set[str]:
    dev = set()
    for speakers in by_gender.values():
        pool = [s for s in speakers if s in candidates]
        if len(pool) >= 2:  # keep at least one training speaker of each gender
            dev.add(pool[int(rng.integers(len(pool)))])
    return dev


def check_speaker_independence(folds: list[Fold]) -> None:
    """Raise if any speaker is both trained (or tuned) on and tested in one fold."""
    for fold in folds:
        seen = set(fold.train_speakers) | set(fold.dev_speakers)
        leaked = seen & set(fold.test_speakers)
        if leaked:
            raise AssertionError(f"fold {fold.index}: speakers {sorted(leaked)} in both train and test")


def _speakers_of(utterances: list[Utterance], field: str) -> dict[str, set[str]]:
    """Speakers per value of `field` (session or split), refusing a speaker found under two values."""
    groups: dict[str, set[str]] = {}
    home: dict[str, str] = {}
    for u in utterances:
        value = getattr(u, field)
        if home.setdefault(u.speaker, value) != value:
            raise ValueError(f"speaker {u.speaker!r} appears in {field} {home[u.speaker]!r} and {value!r}")
        groups.setdefault(value, set()).add(u.speaker)
    return groups


def session_folds(utterances: list[Utterance], seed: int = 0) -> list[Fold]:
    """Leave-one-session-out: one fold per recording session (IEMOCAP: 5, MSP-IMPROV: 6).

    Dev speakers (one per gender where possible) come from the training sessions, as in `speaker_folds`.
    """
    by_session = _speakers_of(utterances, "session")
    if len(by_session) < 2:
        raise ValueError(f"leave-one-session-out needs at least 2 sessions, found {sorted(by_session)}")
    by_gender = _speakers_by_gender(utterances)
    rng = np.random.default_rng(seed)
    folds = []
    for index, session in enumerate(sorted(by_session)):
        test = by_session[session]
        rest = sorted({s for ss in by_session.values() for s in ss} - test)
        dev = _pick_dev(rest, by_gender, rng)
        train = tuple(s for s in rest if s not in dev)
        folds.append(Fold(index, train, tuple(sorted(dev)), tuple(sorted(test))))
    check_speaker_independence(folds)
    return folds


DEV_SPLITS = ("dev", "development", "valid", "validation")


def partition_folds(utterances: list[Utterance], seed: int = 0) -> list[Fold]:
    """Official partitions: train on "train", stop early on the dev split, one fold per test split.

    Split names are matched case-insensitively; every test split (e.g. MSP-Podcast's Test1 and Test2)
    is its own fold, in name order. Speakers must not cross partitions. Without a dev split, dev
    speakers are drawn from the training speakers as in `speaker_folds`.
    """
    by_split = {name.lower(): speakers for name, speakers in _speakers_of(utterances, "split").items()}
    unknown = sorted(s for s in by_split if s != "train" and s not in DEV_SPLITS and not s.startswith("test"))
    if unknown or "train" not in by_split:
        raise ValueError(f"partitions must be train, dev and test*; found {sorted(by_split)}")
    dev = {s for name in DEV_SPLITS for s in by_split.get(name, ())}
    if not dev:
        dev = _pick_dev(sorted(by_split["train"]), _speakers_by_gender(utterances), np.random.default_rng(seed))
    train = tuple(sorted(by_split["train"] - dev))
    dev = tuple(sorted(dev))
    tests = sorted(name for name in by_split if name.startswith("test"))
    if not tests:
        raise ValueError(f"no test partition among {sorted(by_split)}")
    folds = [Fold(i, train, dev, tuple(sorted(by_split[name]))) for i, name in enumerate(tests)]
    check_speaker_independence(folds)
    return folds
