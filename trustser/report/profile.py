"""The trust profile: how far inside (or outside) its gates each backbone is, pillar by pillar.

Metrics differ in unit and direction (a UAR should be high, a success rate low, parameters are
counted in millions), so the profile compares each value with its own gate. A gate's margin is

    (value − threshold) / max(|threshold|, EPSILON)   for a `min` gate,
    (threshold − value) / max(|threshold|, EPSILON)   for a `max` gate,

positive inside the bound and negative outside, clipped to [−1, 1] so that one metric far beyond
its gate (a model with a tenth of the allowed parameters) cannot dwarf the rest. A pillar's score is
its worst (smallest) margin among the gates that measured a value (PASS, WARN, FAIL): a pillar is as
trustworthy as its weakest gate. A pillar without such a gate has no score (None), not a zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from trustser.report.records import TrustRecord
from trustser.vocabulary import PILLARS, Verdict, most_severe

MEASURED = tuple(v for v in Verdict if v.measured)
EPSILON = 1e-9
"""Keeps a gate at 0 from dividing by zero; any value off such a gate then has a margin of ±1."""


def gate_margin(record: TrustRecord) -> float | None:
    """How far the value is inside its gate, relative to the threshold, clipped to [−1, 1]; None if not measured."""
    if record.verdict not in MEASURED or record.value is None or not math.isfinite(record.value):
        return None
    inside = record.value - record.threshold if record.bound == "min" else record.threshold - record.value
    return max(-1.0, min(1.0, inside / max(abs(record.threshold), EPSILON)))


def profile_radius(score: float) -> float:
    """A score in [−1, 1] as a radar radius in [0, 1]: the gate (margin 0) is the middle ring."""
    return (score + 1.0) / 2.0


def pillars_of(records: list[TrustRecord]) -> list[str]:
    """The six pillars, then any other pillar the records name, so no record drops out of a summary."""
    return list(dict.fromkeys([*PILLARS, *(r.pillar for r in records)]))


def in_pillar_order(records: list[TrustRecord]) -> list[TrustRecord]:
    """Records by pillar (the six first, in their order), then metric, then backbone."""
    rank = {pillar: index for index, pillar in enumerate(PILLARS)}
    return sorted(records, key=lambda r: (rank.get(r.pillar, len(PILLARS)), r.metric, r.backbone))


def backbones_of(records: list[TrustRecord], *, listed: Sequence[str] = ()) -> list[str]:
    """The audited backbones in the order they were given, then any other that has records."""
    return list(dict.fromkeys([*listed, *(r.backbone for r in records)]))


def pillar_scores(records: list[TrustRecord], *, backbones: Sequence[str] = ()) -> dict[str, dict[str, float | None]]:
    """backbone -> pillar -> worst gate margin among its measured gates (None: no gate measured a value)."""
    scores: dict[str, dict[str, float | None]] = {}
    for backbone in backbones_of(records, listed=backbones):
        scores[backbone] = {}
        for pillar in pillars_of(records):
            margins = [
                m for r in records if r.backbone == backbone and r.pillar == pillar if (m := gate_margin(r)) is not None
            ]
            scores[backbone][pillar] = min(margins) if margins else None
    return scores


def worst_verdict(verdicts: list[str]) -> str | None:
    """The most severe of `verdicts` (trustser.vocabulary.SEVERITY; unknown strings count as worst)."""
    return most_severe(verdicts)


def worst_verdicts(records: list[TrustRecord], *, backbones: Sequence[str] = ()) -> dict[str, dict[str, str | None]]:
    """backbone -> pillar -> the most severe verdict of its gates there (None: no gate of that pillar ran)."""
    return {
        backbone: {
            pillar: worst_verdict([r.verdict for r in records if r.backbone == backbone and r.pillar == pillar])
            for pillar in pillars_of(records)
        }
        for backbone in backbones_of(records, listed=backbones)
    }
