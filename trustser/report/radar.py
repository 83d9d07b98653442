"""The "trust profile": each metric's distance from its gate, on axes scaled from the data.

Metrics differ in unit and direction (a UAR should be high, a success rate low, parameters are
counted in millions), so an axis cannot show raw values. Each axis shows the gate margin instead:
how far the value is on the good side of its threshold, relative to the threshold,

    margin = (value − threshold) / |threshold|   for a `min` gate,
    margin = (threshold − value) / |threshold|   for a `max` gate,

and each axis is scaled by the largest |margin| any backbone reaches on it (no fixed range): the
gate sits on the middle ring, passing values lie outside it, failing ones inside, and the best
backbone on an axis touches the rim (or the centre, if it fails worst).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trustser.report.records import TrustRecord


@dataclass(frozen=True)
class RadarAxis:
    metric: str
    label: str
    pillar: str
    radii: dict[str, float | None]  # backbone -> radius in [0, 1] (0.5 = on the gate); None = not measured


def gate_margin(record: TrustRecord) -> float | None:
    if record.value is None or math.isnan(record.value):
        return None
    scale = abs(record.threshold) or 1.0
    signed = record.value - record.threshold if record.bound == "min" else record.threshold - record.value
    return signed / scale


def radar_axes(records: list[TrustRecord], backbones: list[str]) -> list[RadarAxis]:
    """One axis per metric measured for at least one backbone, in the records' order."""
    axes: list[RadarAxis] = []
    for metric in dict.fromkeys(r.metric for r in records):
        of_metric = {r.backbone: r for r in records if r.metric == metric}
        margins = {b: gate_margin(of_metric[b]) if b in of_metric else None for b in backbones}
        measured = [abs(m) for m in margins.values() if m is not None]
        if not measured:
            continue
        extent = max(measured) or 1.0
        radii = {b: None if m is None else 0.5 + 0.5 * m / extent for b, m in margins.items()}
        first = next(iter(of_metric.values()))
        axes.append(RadarAxis(metric, first.label, first.pillar, radii))
    return axes
