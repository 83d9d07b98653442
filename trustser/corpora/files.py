"""Corpora read from audio files as they ship: one adapter per corpus lists `Candidate`s, this builds the rest.

An adapter parses its corpus's naming and metadata into candidates (file, emotion code, speaker,
gender, ...). `build` maps emotions onto the label set, checks and decodes every file once (into the
audio cache) and applies the bad-data policy: with `skip`, a bad item is left out and listed in
`Corpus.dropped` (the corpus summary names it); with `fail`, the first one stops the audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from trustser.cache.store import content_key
from trustser.corpora.attributes import Scale
from trustser.corpora.attributes import ordered as in_attribute_order
from trustser.corpora.audio import AudioStore, BadAudio
from trustser.corpora.base import GENDERS, BadData, Corpus, Dropped, Utterance
from trustser.corpora.emotions import EmotionMapping, mapping, parse_source
from trustser.corpora.folds import Fold, partition_folds, session_folds
from trustser.corpora.registry import register
from trustser.specs.registrations import Example

SAMPLE_RATE = 16000
POLICIES = ("skip", "fail")
FOLDINGS = ("speaker", "session", "partition")
_GENDERS = {"f": "female", "female": "female", "w": "female", "m": "male", "male": "male"}


_UNKNOWN_GENDERS = ("", "unknown", "u", "n/a", "na", "none")


def gender(value: str) -> str | None:
    """ "female" or "male" from a corpus's spelling (F, Female, w, M, Male, ...); None where the corpus
    says it does not know; any other spelling as written (e.g. a typo, "femal"), which `build` rejects
    as bad data naming it."""
    text = str(value).strip()
    if text.lower() in _UNKNOWN_GENDERS:
        return None
    return _GENDERS.get(text.lower(), text)


@dataclass(frozen=True)
class Candidate:
    """One file the corpus's metadata describes, before emotion mapping and audio checks."""

    path: Path
    code: str  # the corpus's own emotion code, e.g. "ANG", "exc", "W"
    speaker: str
    gender: str | None  # "female" | "male"; None where the corpus does not know
    id: str = ""  # defaults to the file's stem
    sentence: str = ""
    age: int | None = None
    session: str = ""
    split: str = ""
    demographics: tuple[tuple[str, str], ...] = ()
    attributes: dict[str, float] | None = None  # attribute -> rating in the corpus's units, where it has them


class FileCorpus(Corpus):
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        name: str,
        root: Path,
        utterances: list[Utterance],
        files: dict[str, tuple[Path, str, int]],
        *,
        store: AudioStore,
        emotions: tuple[str, ...],
        folding: str,
        dropped: list[Dropped],
        attribute_scale: Scale | None = None,
    ):
        super().__init__(utterances)
        self.name, self.root, self.store, self.emotions, self.folding = name, root, store, emotions, folding
        self.attribute_scale = attribute_scale if any(u.attributes for u in utterances) else None
        self.files = files  # id -> (path, cache key, samples)
        self.dropped = tuple(dropped)

    def load_audio(self, utterance_id: str) -> np.ndarray:
        path, key, _ = self.files[utterance_id]
        return self.store.load(path, key)

    def seconds(self, utterance_id: str) -> float:
        return self.files[utterance_id][2] / self.sample_rate

    def audio_fingerprint(self) -> str:
        """Changes when any used file changes (its cache key covers path, size and modification time)."""
        return content_key(step="file-corpus", keys=[self.files[u.id][1] for u in self.utterances])

    def folds(self, k: int, seed: int = 0) -> list[Fold]:
        if self.folding == "session":
            return session_folds(self.utterances, seed)
        if self.folding == "partition":
            return partition_folds(self.utterances, seed)
        return super().folds(k, seed)

    def without_shorter_than(self, seconds: float, needed_by: str, on_bad_audio: str) -> "FileCorpus":
        """This corpus without the files shorter than `seconds` (what `needed_by` can use), each dropped as
        bad audio and named; under `fail` the first one stops the audit."""
        kept, dropped = [], list(self.dropped)
        for utterance in self.utterances:
            if self.seconds(utterance.id) >= seconds:
                kept.append(utterance)
                continue
            item = Dropped(
                str(self.files[utterance.id][0]),
                "too short",
                f"{self.seconds(utterance.id):.3f} s; {needed_by} needs at least {seconds} s",
                bad=True,
            )
            _refuse_if_failing(item, on_bad_audio)
            dropped.append(item)
        if len(kept) == len(self.utterances):
            return self
        if not kept:
            raise BadData(f"{self.name} at {self.root}: no utterance is long enough for {needed_by} ({seconds} s)")
        files = {u.id: self.files[u.id] for u in kept}
        return FileCorpus(
            self.name,
            self.root,
            kept,
            files,
            store=self.store,
            emotions=self.emotions,
            folding=self.folding,
            dropped=dropped,
            attribute_scale=self.attribute_scale,
        )

    def fold_scheme(self, k: int) -> str:
        if self.folding == "session":
            return f"leave-one-session-out ({len(set(self.column('session')))} sessions)"
        if self.folding == "partition":
            return f"official partitions ({', '.join(sorted(set(self.column('split'))))})"
        return super().fold_scheme(k)


Lister = Callable[[Path], tuple[list["Candidate"], list[Dropped]]]
SampleWriter = Callable[[Path], None]


def on_sample(name: str, write_sample: SampleWriter, path: str = "") -> Example:
    """The spec `name:<directory>[/path]` on the sample `write_sample` writes into the scratch directory."""

    def build(scratch: Path) -> str:
        write_sample(scratch)
        return f"{name}:{scratch / path if path else scratch}"

    return Example(f"{name}:<sample>{'/' + path if path else ''}", build)


def register_dataset(
    name: str,
    *,
    codes: dict[str, str],
    candidates: Lister,
    folding: str,
    sample: SampleWriter | None = None,
    scale: Scale | None = None,
) -> None:
    """Make `name:<directory>[,CODE=emotion...]` a corpus: a dataset as it ships, listed by `candidates`.

    Its emotion codes are mapped (and the user's overrides checked) before any file is read, so a bad
    option fails at once, not after minutes of decoding. `sample(root)` writes a tiny sample of the
    dataset's layout into `root`: the contract test checks the corpus on it (without, it fails that test).
    `scale` is the rating scale of the attributes its candidates carry (arousal, dominance, valence).
    """
    if folding not in FOLDINGS:
        raise ValueError(f"{name}: folding must be one of {FOLDINGS}, got {folding!r}")

    @register(name, reads_files=True, checked_as=[on_sample(name, sample)] if sample else None)
    def dataset(argument: str | None, cache_root: Path, on_bad_audio: str = "skip") -> FileCorpus:
        root, options = parse_source(argument, name)
        if "scale" in options:
            raise ValueError(f"{name} rates its attributes on its own scale; scale= is a manifest's option")
        labels = mapping(codes, options)
        found, dropped = candidates(root)
        return build(
            name,
            root,
            found,
            labels=labels,
            cache_root=cache_root,
            on_bad_audio=on_bad_audio,
            folding=folding,
            dropped=dropped,
            scale=scale,
        )


def build(
    name: str,
    root: Path,
    candidates: list[Candidate],
    *,
    labels: EmotionMapping,
    cache_root: Path,
    on_bad_audio: str = "skip",
    folding: str = "speaker",
    dropped: list[Dropped] | None = None,
    scale: Scale | None = None,
) -> FileCorpus:
    """Map, check and decode `candidates` into a corpus; `dropped` carries the adapter's own drops."""
    if on_bad_audio not in POLICIES:
        raise ValueError(f"on_bad_audio must be one of {POLICIES}, got {on_bad_audio!r}")
    store = AudioStore(cache_root, SAMPLE_RATE)
    dropped = list(dropped or [])
    for item in dropped:
        _refuse_if_failing(item, on_bad_audio)
    utterances, files = [], {}
    ordered = sorted(candidates, key=lambda c: c.id or c.path.stem)
    for candidate in tqdm(ordered, desc=f"read {name}", unit="file", leave=False):  # decoding is slow only once
        utterance_id = candidate.id or candidate.path.stem
        if utterance_id in files:
            admitted = Dropped(str(candidate.path), "duplicate utterance id", utterance_id, bad=True)
        else:
            admitted = _admit(candidate, labels, store, scale)
        if isinstance(admitted, Dropped):
            _refuse_if_failing(admitted, on_bad_audio)
            dropped.append(admitted)
            continue
        files[utterance_id] = (candidate.path, *admitted)
        utterances.append(
            Utterance(
                utterance_id,
                candidate.speaker,
                candidate.gender,
                labels.emotion(candidate.code),
                candidate.sentence,
                candidate.age,
                candidate.session,
                candidate.split,
                candidate.demographics,
                in_attribute_order(candidate.attributes or {}),
            )
        )
    if not utterances:
        raise BadData(f"{name} at {root}: no usable utterances ({len(dropped)} dropped)")
    return FileCorpus(
        name,
        root,
        utterances,
        files,
        store=store,
        emotions=labels.emotions,
        folding=folding,
        dropped=dropped,
        attribute_scale=scale,
    )


def _admit(
    candidate: Candidate, labels: EmotionMapping, store: AudioStore, scale: Scale | None
) -> Dropped | tuple[str, int]:
    """The candidate's cached audio (key, samples), or why it is left out."""
    problem = _label_problem(candidate, labels) or _speaker_problem(candidate) or _rating_problem(candidate, scale)
    if problem is not None:
        return problem
    try:
        return store.prepare(candidate.path)
    except BadAudio as error:
        return Dropped(str(candidate.path), error.reason, error.detail, bad=True)


def _label_problem(candidate: Candidate, labels: EmotionMapping) -> Dropped | None:
    if candidate.code not in labels.codes:
        known = ", ".join(sorted(labels.codes))
        return Dropped(str(candidate.path), "unknown emotion label", f"{candidate.code!r}; known: {known}", bad=True)
    if labels.emotion(candidate.code) is None:
        return Dropped(str(candidate.path), f"emotion outside the label set: {labels.codes[candidate.code]}")
    return None


def _speaker_problem(candidate: Candidate) -> Dropped | None:
    if candidate.gender is not None and candidate.gender not in GENDERS:
        return Dropped(
            str(candidate.path), "unrecognised gender", f"{candidate.gender!r}; known: F, M, female, male, w", bad=True
        )
    if not candidate.speaker or candidate.gender is None:
        # Folds are speaker-independent and gender is the audited attribute: both are needed.
        return Dropped(str(candidate.path), "unknown speaker or gender", f"{candidate.speaker!r}, {candidate.gender!r}")
    return None


def _rating_problem(candidate: Candidate, scale: Scale | None) -> Dropped | None:
    ratings = candidate.attributes or {}
    if ratings and scale is None:
        raise ValueError(f"{candidate.path}: attributes {sorted(ratings)} given, but the corpus names no scale")
    bad = {n: v for n, v in ratings.items() if not (np.isfinite(v) and scale.low <= v <= scale.high)}
    if bad:
        detail = f"{bad} outside the corpus's {scale.describe()} scale"
        return Dropped(str(candidate.path), "invalid attribute rating", detail, bad=True)
    return None


def _refuse_if_failing(item: Dropped, on_bad_audio: str) -> None:
    if item.bad and on_bad_audio == "fail":
        detail = f" ({item.detail})" if item.detail else ""
        raise BadData(f"{item.item}: {item.reason}{detail} [--on-bad-audio fail; use skip to leave such items out]")
