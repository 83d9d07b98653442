"""The corpus contract: utterances with labels and demographics, their audio, and a fingerprint."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from trustser.corpora.attributes import ATTRIBUTES, Scale
from trustser.corpora.folds import Fold, speaker_folds

EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry")
"""The four classes of the original TrustSER study, in label-index order."""

GENDERS: tuple[str, ...] = ("female", "male")
"""The genders an utterance may carry: the audited attribute, so a speaker of unknown gender is left out."""


@dataclass(frozen=True)
class Utterance:
    id: str
    speaker: str
    gender: str  # one of GENDERS
    emotion: str
    sentence: str = ""
    age: int | None = None  # years, where the corpus documents it
    session: str = ""  # recording session, for corpora folded by session (IEMOCAP, MSP-IMPROV)
    split: str = ""  # official partition (e.g. MSP-Podcast's Train/Development/Test1)
    demographics: tuple[tuple[str, str], ...] = ()  # further (name, value) pairs a manifest carries
    # (attribute, rating) pairs in ATTRIBUTES order, in the corpus's units (`Corpus.attribute_scale`)
    attributes: tuple[tuple[str, float], ...] = ()


_OPTIONAL = {"age": None, "session": "", "split": "", "demographics": (), "attributes": ()}


def _identity(utterance: Utterance) -> dict:
    """The utterance as fingerprinted: optional fields only when set, so older corpora keep their keys."""
    return {k: v for k, v in asdict(utterance).items() if k not in _OPTIONAL or v != _OPTIONAL[k]}


NO_CATEGORY = -1  # the class index of an utterance of a corpus without emotion categories


class Corpus:
    """Base class for corpora. Subclasses fill `name`, `sample_rate`, `utterances` and `load_audio`.

    A corpus with customary folds (sessions, official partitions) overrides `folds`; `dropped` lists
    what its metadata described but the corpus left out, and why (for the corpus summary).
    """

    name: str = "corpus"
    sample_rate: int = 16000
    emotions: tuple[str, ...] = EMOTIONS
    dropped: tuple["Dropped", ...] = ()
    attribute_scale: Scale | None = None  # the scale of the utterances' attributes, where they carry any

    def __init__(self, utterances: list[Utterance]):
        self.utterances = list(utterances)
        self._by_id = {u.id: u for u in self.utterances}

    def __len__(self) -> int:
        return len(self.utterances)

    def load_audio(self, utterance_id: str) -> np.ndarray:
        """Mono float32 waveform at `sample_rate`."""
        raise NotImplementedError

    def audio_fingerprint(self) -> str:
        """What identifies the audio content (e.g. generator version and settings, or file hashes)."""
        raise NotImplementedError

    def fingerprint(self) -> str:
        """Content hash of metadata and audio identity, used in cache keys."""
        payload = json.dumps(
            {
                "name": self.name,
                "sample_rate": self.sample_rate,
                "emotions": self.emotions,
                "audio": self.audio_fingerprint(),
                "utterances": [_identity(u) for u in self.utterances],
                # only where set, so a corpus without attributes keeps its fingerprint
                **({"scale": [self.attribute_scale.low, self.attribute_scale.high]} if self.attribute_scale else {}),
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def labels(self) -> np.ndarray:
        """Emotion class indices in `emotions` order, one per utterance; NO_CATEGORY (-1) throughout for a corpus
        that rates attributes only (no emotions), which only a dimensional audit reads (its heads learn the
        attributes; a categorical split of it is refused: trustser.corpora.split.require_task)."""
        if not self.emotions:
            return np.full(len(self.utterances), NO_CATEGORY, dtype=np.int64)
        index = {emotion: i for i, emotion in enumerate(self.emotions)}
        return np.array([index[u.emotion] for u in self.utterances], dtype=np.int64)

    @property
    def attribute_names(self) -> tuple[str, ...]:
        """The attributes every utterance carries, in ATTRIBUTES order (none without a scale)."""
        if self.attribute_scale is None or not self.utterances:
            return ()
        common = set.intersection(*(set(dict(u.attributes)) for u in self.utterances))
        return tuple(name for name in ATTRIBUTES if name in common)

    def attribute_values(self, *, normalised: bool = True) -> np.ndarray:
        """[utterances, attributes] in `attribute_names` order: normalised to [0, 1] by the corpus's scale
        (what heads learn), or in the corpus's own units."""
        names = self.attribute_names
        values = np.array([[dict(u.attributes)[n] for n in names] for u in self.utterances], dtype=np.float64)
        values = values.reshape(len(self.utterances), len(names))
        return self.attribute_scale.normalise(values) if normalised and names else values

    def column(self, field: str) -> np.ndarray:
        return np.array([getattr(u, field) for u in self.utterances])

    def folds(self, k: int, seed: int = 0) -> list[Fold]:
        """The corpus's customary folds; by default k speaker-independent, gender-balanced folds."""
        return speaker_folds(self.utterances, k, seed)

    def fold_scheme(self, k: int) -> str:
        """How `folds` splits the corpus, in words (for the corpus summary)."""
        return f"speaker-independent, gender-balanced {k}-fold"

    def seconds(self, utterance_id: str) -> float:
        """Duration of one utterance in seconds (file corpora answer without decoding again)."""
        return len(self.load_audio(utterance_id)) / self.sample_rate

    def without_shorter_than(self, seconds: float, needed_by: str, on_bad_audio: str) -> "Corpus":
        """This corpus without the utterances shorter than `seconds` (what `needed_by` can use), each dropped
        as bad audio and named; under `fail` the first one stops the audit (BadData).

        A shallow copy with fewer utterances: the audio, the folds' rule and the fingerprint's rule are the
        corpus's own (file corpora name the file instead: `FileCorpus.without_shorter_than`)."""
        kept, dropped = [], list(self.dropped)
        for utterance in self.utterances:
            duration = self.seconds(utterance.id)
            if duration >= seconds:
                kept.append(utterance)
                continue
            detail = f"{duration:.3f} s; {needed_by} needs at least {seconds} s"
            if on_bad_audio == "fail":
                raise BadData(
                    f"{utterance.id}: too short ({detail}) [--on-bad-audio fail; use skip to leave such items out]"
                )
            dropped.append(Dropped(utterance.id, "too short", detail, bad=True))
        if len(kept) == len(self.utterances):
            return self
        if not kept:
            raise BadData(f"{self.name}: no utterance is long enough for {needed_by} ({seconds} s)")
        subset = copy.copy(self)
        subset.utterances, subset._by_id, subset.dropped = kept, {u.id: u for u in kept}, tuple(dropped)
        return subset


@dataclass(frozen=True)
class Dropped:
    """An item the corpus metadata describes but the audit leaves out: which, why, and in detail."""

    item: str  # file path or utterance id
    reason: str  # short category, e.g. "emotion outside the label set", "undecodable audio"
    detail: str = ""
    bad: bool = False  # bad data (missing, undecodable, empty, NaN, unknown label), as opposed to by design


class BadData(ValueError):
    """Bad corpus data under `--on-bad-audio fail`; the message names the file."""
