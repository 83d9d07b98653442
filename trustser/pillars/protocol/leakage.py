"""How test data can reach training: the evaluators of the protocol pillar, over plain folds and rows.

Each fold trains (and stops early) on some utterances and tests on others (`trustser.corpora.split`).
Test data reaches training when a test speaker is also trained on (`find_speaker_overlap`), when one
recording sits on both sides under two ids (`classify_duplicates`, over the pairs the fingerprints
match), or when a test utterance's words were heard in training (`find_lexical_overlap`), whose effect is
the UAR on seen against unseen sentences (`seen_sentence_gap`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from trustser.corpora.folds import Fold
from trustser.corpora.split import CorpusSplit

SHOWN = 5  # names a message lists before "and N more" (the details list all)


@dataclass(frozen=True)
class LeakedSpeaker:
    fold: int
    speaker: str
    side: str  # "train" or "dev": where the test speaker is also used


@dataclass(frozen=True)
class SpeakerOverlap:
    leaked_speakers: int  # distinct test speakers also trained or tuned on in their fold
    test_speakers: int
    leaks: tuple[LeakedSpeaker, ...]

    @property
    def note(self) -> str:
        named = [f"{leak.speaker} (fold {leak.fold}: test and {leak.side})" for leak in self.leaks]
        return _listed(named, "no test speaker is trained or tuned on")


def find_speaker_overlap(folds: list[Fold]) -> SpeakerOverlap:
    """The test speakers of each fold who are also among its training or dev speakers."""
    leaks = [
        LeakedSpeaker(fold.index, speaker, side)
        for fold in folds
        for side, speakers in (("train", fold.train_speakers), ("dev", fold.dev_speakers))
        for speaker in sorted(set(fold.test_speakers) & set(speakers))
    ]
    tested = {s for fold in folds for s in fold.test_speakers}
    return SpeakerOverlap(len({leak.speaker for leak in leaks}), len(tested), tuple(leaks))


@dataclass(frozen=True)
class DuplicatePair:
    first: str  # utterance ids
    second: str
    speakers: tuple[str, str]
    bit_error_rate: float  # of their fingerprints
    fold: int | None  # the first fold where one is trained on and the other tested; None if none is
    sides: tuple[str, str]  # where each sits in that fold (or in the first fold using both)

    def named(self) -> str:
        where = f"fold {self.fold}: {self.sides[0]}/{self.sides[1]}" if self.fold is not None else "one split"
        return (
            f"{self.first} ({self.speakers[0]}) = {self.second} ({self.speakers[1]}) "
            f"[{where}, {self.bit_error_rate:.0%} bits differ]"
        )


@dataclass(frozen=True)
class DuplicateAudit:
    across: tuple[DuplicatePair, ...]  # one recording trained on and tested in some fold
    within: tuple[DuplicatePair, ...]  # one recording twice, never on both sides of a fold
    fingerprinted: int  # utterances compared
    too_short: int  # utterances too short (or silent) to fingerprint

    def note(self, pairs: tuple[DuplicatePair, ...], none: str) -> str:
        return _listed([pair.named() for pair in pairs], none)


def fold_sides(split: CorpusSplit) -> np.ndarray:
    """[folds, utterances] of "train" (trained or stopped early on), "test" or "" (unused in that fold)."""
    sides = np.full((len(split.folds), len(split.corpus)), "", dtype=object)
    for position, fold in enumerate(split.folds):
        sides[position, split.train_rows(fold)] = "train"
        sides[position, split.dev_rows(fold)] = "train"
        sides[position, split.test_rows(fold)] = "test"
    return sides


def classify_duplicates(
    pairs: list[tuple[int, int, float]], split: CorpusSplit, *, fingerprinted: int, too_short: int
) -> DuplicateAudit:
    """The fingerprint-matched pairs (rows i < j, bit error rate), split by whether a fold trains on one
    and tests the other."""
    sides = fold_sides(split)
    utterances = split.corpus.utterances
    across, within = [], []
    for first, second, rate in pairs:
        crossing = [f for f in range(len(split.folds)) if {sides[f, first], sides[f, second]} == {"train", "test"}]
        used = crossing or [f for f in range(len(split.folds)) if sides[f, first] and sides[f, second]]
        fold = used[0] if used else None
        pair = DuplicatePair(
            utterances[first].id,
            utterances[second].id,
            (utterances[first].speaker, utterances[second].speaker),
            rate,
            split.folds[fold].index if crossing else None,
            (str(sides[fold, first]), str(sides[fold, second])) if fold is not None else ("", ""),
        )
        (across if crossing else within).append(pair)
    return DuplicateAudit(tuple(across), tuple(within), fingerprinted, too_short)


@dataclass(frozen=True)
class LexicalOverlap:
    share: float  # of the test utterances with a sentence, those whose sentence occurs in their fold's training
    seen: int
    unseen: int
    without_sentence: int  # test utterances the corpus gives no sentence or transcript for
    sentences: int  # distinct sentences among the test utterances
    share_by_fold: tuple[float, ...]

    @property
    def note(self) -> str:
        return f"{self.seen} of {self.seen + self.unseen} test utterances say a sentence heard in training"


def seen_in_training(split: CorpusSplit, fold: Fold, rows: np.ndarray) -> np.ndarray:
    """For each of `rows`, whether its sentence is among those the fold trains or stops early on."""
    heard = {key for key in split.sentence_keys[np.concatenate([split.train_rows(fold), split.dev_rows(fold)])]}
    heard.discard("")
    return np.array([key in heard for key in split.sentence_keys[rows]], dtype=bool)


def held_back_rows(split: CorpusSplit, fold: Fold) -> np.ndarray:
    """The fold's test speakers' utterances with a sentence that its test set leaves out: under
    sentence-disjoint folds, those of the sentences it trains on (none for other folds)."""
    rows = np.setdiff1d(split.indices(fold.test_speakers), split.test_rows(fold))
    return rows[split.sentence_keys[rows] != ""]


def find_lexical_overlap(split: CorpusSplit) -> LexicalOverlap | None:
    """The share of test utterances whose sentence occurs among their fold's training utterances; None
    when no test utterance has a sentence."""
    seen = unseen = without = 0
    shares, sentences = [], set()
    for fold in split.folds:
        rows = split.test_rows(fold)
        known = rows[split.sentence_keys[rows] != ""]
        without += len(rows) - len(known)
        heard = seen_in_training(split, fold, known)
        seen, unseen = seen + int(heard.sum()), unseen + int((~heard).sum())
        sentences.update(split.sentence_keys[known])
        if len(known):
            shares.append(float(heard.mean()))
    if seen + unseen == 0:
        return None
    return LexicalOverlap(seen / (seen + unseen), seen, unseen, without, len(sentences), tuple(shares))


@dataclass(frozen=True)
class SeenSentenceGap:
    gap: float  # UAR on seen sentences minus UAR on unseen sentences
    uar_seen: float
    uar_unseen: float
    seen: int  # utterances
    unseen: int
    from_held_back: int  # test speakers' utterances outside their fold's test set, predicted for the seen side

    @property
    def note(self) -> str:
        return (
            f"UAR {self.uar_seen:.3f} on {self.seen} utterances of sentences heard in training, "
            f"{self.uar_unseen:.3f} on {self.unseen} of unheard ones"
        )


def why_unmeasurable(seen: np.ndarray) -> str:
    """Why the seen-sentence gap cannot be measured on test utterances with these `seen` flags; "" if it can."""
    if not seen.any():
        return "no test utterance says a sentence heard in training"
    if seen.all():
        return (
            "every test utterance says a sentence heard in training (lexical overlap 100%), so none shows UAR on "
            "unheard sentences; --folds-disjoint sentence tests on unheard sentences"
        )
    return ""


def seen_sentence_gap(
    y_true: np.ndarray, y_pred: np.ndarray, seen: np.ndarray, *, from_held_back: int = 0
) -> SeenSentenceGap:
    """UAR on utterances whose sentence was heard in training minus UAR on the others (all of unseen
    speakers); ValueError when one side is empty (`why_unmeasurable` says why)."""
    seen = np.asarray(seen, dtype=bool)
    reason = why_unmeasurable(seen)
    if reason:
        raise ValueError(reason)
    uar_seen = float(balanced_accuracy_score(y_true[seen], y_pred[seen]))
    uar_unseen = float(balanced_accuracy_score(y_true[~seen], y_pred[~seen]))
    return SeenSentenceGap(
        uar_seen - uar_unseen, uar_seen, uar_unseen, int(seen.sum()), int((~seen).sum()), from_held_back
    )


def _listed(names: list[str], none: str) -> str:
    if not names:
        return none
    more = f"; and {len(names) - SHOWN} more (the report's details list all)" if len(names) > SHOWN else ""
    return "; ".join(names[:SHOWN]) + more
