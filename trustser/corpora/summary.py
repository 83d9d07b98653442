"""What the audit runs on: utterances per emotion and gender, speakers, hours, folds, and what was dropped.

Printed at the start of the audit and stored in the report directory as `corpus_summary.json`, so
a reader sees the data behind every number, including each bad file that was left out and why.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trustser.cache.store import atomic_path
from trustser.corpora.base import Corpus
from trustser.corpora.folds import Fold, sentence_disjoint_cost

SHOWN_BAD_ITEMS = 20  # the text lists this many bad items, and this many left out by design; the JSON lists all


@dataclass(frozen=True)
class CorpusSummary:
    spec: str
    name: str
    emotions: tuple[str, ...]
    utterances: int
    speakers: int
    speakers_by_gender: dict[str, int]
    hours: float
    counts: dict[str, dict[str, int]]  # emotion -> gender -> utterances
    fold_scheme: str
    folds: int
    dropped: dict[str, int]  # reason -> items left out
    bad_items: tuple[str, ...]  # "file: reason (detail)" for every bad item left out
    left_out: tuple[str, ...] = ()  # "file: reason" for every item left out by design (e.g. an emotion outside the set)
    # the attributes every utterance is rated on, each with its mean and range in the corpus's units
    attributes: dict[str, dict[str, float]] = field(default_factory=dict)
    attribute_scale: str = ""  # e.g. "1-7"; "" for a corpus without attributes

    def as_dict(self) -> dict:
        return asdict(self)

    def render(self) -> str:
        genders = sorted(self.speakers_by_gender)
        width = max(len(e) for e in (*self.emotions, "emotion"))
        duration = f"{self.hours:.2f} h" if self.hours >= 0.1 else f"{self.hours * 3600:.1f} s"
        lines = [
            f"corpus {self.spec}: {self.utterances} utterances, {duration}, {self.speakers} speakers "
            f"({', '.join(f'{n} {g}' for g, n in sorted(self.speakers_by_gender.items()))})",
            f"folds: {self.fold_scheme}, {self.folds} folds",
        ]
        if self.emotions:  # a corpus rating attributes only has no categories to count
            lines.append(f"{'emotion':<{width}}  " + "  ".join(f"{g:>7}" for g in genders))
        for emotion in self.emotions:
            lines.append(f"{emotion:<{width}}  " + "  ".join(f"{self.counts[emotion].get(g, 0):>7}" for g in genders))
        if self.attributes:
            rated = ", ".join(
                f"{name} mean {a['mean']:.2f} ({a['min']:g}-{a['max']:g})" for name, a in self.attributes.items()
            )
            lines.append(f"attributes on a {self.attribute_scale} scale: {rated}")
        if self.dropped:
            total = sum(self.dropped.values())
            reasons = "; ".join(f"{n} {reason}" for reason, n in sorted(self.dropped.items()))
            lines.append(f"dropped {total}: {reasons}")
        for item in self.bad_items[:SHOWN_BAD_ITEMS]:
            lines.append(f"  bad: {item}")
        if len(self.bad_items) > SHOWN_BAD_ITEMS:
            lines.append(
                f"  ... and {len(self.bad_items) - SHOWN_BAD_ITEMS} more bad items (corpus_summary.json lists all)"
            )
        for item in self.left_out[:SHOWN_BAD_ITEMS]:
            lines.append(f"  left out: {item}")
        if len(self.left_out) > SHOWN_BAD_ITEMS:
            lines.append(
                f"  ... and {len(self.left_out) - SHOWN_BAD_ITEMS} more left out (corpus_summary.json lists all)"
            )
        return "\n".join(lines)

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.as_dict(), indent=1))


def summarise(corpus: Corpus, folds: list[Fold], spec: str, k: int) -> CorpusSummary:
    """The summary of `corpus` as the audit uses it (`k` is the requested fold count)."""
    counts = {emotion: {} for emotion in corpus.emotions}
    categorised = (u for u in corpus.utterances if u.emotion in counts)  # none in a dimensional-only corpus
    for (emotion, gender), n in sorted(Counter((u.emotion, u.gender) for u in categorised).items()):
        counts[emotion][gender] = n
    speakers = {u.speaker: u.gender for u in corpus.utterances}
    seconds = sum(corpus.seconds(u.id) for u in corpus.utterances)
    sentences = sentence_disjoint_cost(folds, corpus.utterances)
    named = [(d.bad, f"{d.item}: {d.reason}" + (f" ({d.detail})" if d.detail else "")) for d in corpus.dropped]
    return CorpusSummary(
        spec=spec,
        name=corpus.name,
        emotions=tuple(corpus.emotions),
        utterances=len(corpus.utterances),
        speakers=len(speakers),
        speakers_by_gender=dict(sorted(Counter(speakers.values()).items())),
        hours=seconds / 3600,
        counts=counts,
        fold_scheme=corpus.fold_scheme(k) + (f"; {sentences}" if sentences else ""),
        folds=len(folds),
        dropped=dict(sorted(Counter(d.reason for d in corpus.dropped).items())),
        bad_items=tuple(text for bad, text in named if bad),
        left_out=tuple(text for bad, text in named if not bad),
        attributes=_attributes(corpus),
        attribute_scale=corpus.attribute_scale.describe() if corpus.attribute_names else "",
    )


def _attributes(corpus: Corpus) -> dict[str, dict[str, float]]:
    values = corpus.attribute_values(normalised=False)
    return {
        name: {"mean": float(values[:, i].mean()), "min": float(values[:, i].min()), "max": float(values[:, i].max())}
        for i, name in enumerate(corpus.attribute_names)
    }
