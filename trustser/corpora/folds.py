"""Speaker-independent, gender-balanced k-fold splits and the dev split for early stopping; on request
(`--folds-disjoint sentence`), folds disjoint in sentences too."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
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
    # Sentence-disjoint folds only (`sentence_disjoint`): the sentences, as `sentence_key`s, this fold
    # tests on and never trains or stops early on. Empty: the fold is disjoint in speakers only.
    held_out_sentences: tuple[str, ...] = ()


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


def sentence_key(text: str) -> str:
    """A sentence or transcript as compared across utterances: case, punctuation and spacing ignored
    ("It's late." and "it's late" are one sentence); "" for none."""
    return " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())


def sentence_disjoint(folds: list[Fold], utterances: list[Utterance], seed: int = 0) -> list[Fold]:
    """`folds` made disjoint in sentences as well as speakers: the corpus's distinct sentences are dealt
    into one group per fold (seeded), each fold tests its test speakers on its group's sentences only,
    and leaves the utterances of those sentences out of training and early stopping.

    What this costs (training utterances left out, test utterances not tested) is in
    `sentence_disjoint_cost`. Raises ValueError saying why when it is not possible: utterances without
    a sentence, fewer sentences than folds, or a fold left without training, dev or test utterances.
    """
    keys = [sentence_key(u.sentence) for u in utterances]
    unknown = [u.id for u, key in zip(utterances, keys) if not key]
    refused = "--folds-disjoint sentence is not possible on this corpus"
    if unknown:
        raise ValueError(
            f"{refused}: {len(unknown)} of {len(utterances)} utterances have no sentence or transcript "
            f"(e.g. {unknown[0]!r}; a manifest gives them in a `text` or `sentence` column)"
        )
    sentences = sorted(set(keys))
    if len(sentences) < len(folds):
        raise ValueError(f"{refused}: {len(sentences)} distinct sentences cannot be dealt into {len(folds)} folds")
    order = [sentences[i] for i in np.random.default_rng(seed).permutation(len(sentences))]
    made = [replace(fold, held_out_sentences=tuple(sorted(order[fold.index :: len(folds)]))) for fold in folds]
    for fold in made:
        held = set(fold.held_out_sentences)
        for side, speakers, tested in (
            ("training", fold.train_speakers, False),
            ("dev", fold.dev_speakers, False),
            ("test", fold.test_speakers, True),
        ):
            chosen = set(speakers)
            rows = [key for u, key in zip(utterances, keys) if u.speaker in chosen and (key in held) == tested]
            if speakers and not rows:
                raise ValueError(
                    f"{refused}: fold {fold.index} would have no {side} utterances (its test sentences are "
                    f"{len(held)} of {len(sentences)}; its {side} speakers say {'none' if tested else 'only'} of them)"
                )
    return made


def sentence_disjoint_cost(folds: list[Fold], utterances: list[Utterance]) -> str:
    """What sentence-disjoint folds leave out, in words (for the corpus summary); "" for other folds."""
    if not any(fold.held_out_sentences for fold in folds):
        return ""
    keys = [sentence_key(u.sentence) for u in utterances]
    left_out = trained = tested = testable = 0
    for fold in folds:
        held, learners, testers = (
            set(fold.held_out_sentences),
            {*fold.train_speakers, *fold.dev_speakers},
            set(fold.test_speakers),
        )
        for u, key in zip(utterances, keys):
            if u.speaker in learners:
                trained += 1
                left_out += key in held
            elif u.speaker in testers:
                testable += 1
                tested += key in held
    sentences = len({s for fold in folds for s in fold.held_out_sentences})
    return (
        f"sentence-disjoint ({sentences} sentences in {len(folds)} groups): {left_out} of {trained} training "
        f"utterances left out over the folds (their sentence is tested), {tested} of {testable} test "
        "utterances tested (the others' sentences are trained on)"
    )
