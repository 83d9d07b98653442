"""The reliability diagram of a backbone's posteriors, drawn as inline SVG from a record's details.

A record whose details carry a `reliability` ({confidence, accuracy, count} per equal-mass bin, as the
calibration evaluator writes it: trustser.pillars.utility.calibration) is drawn once per backbone and
corpus: each bin a point at (its mean confidence, its accuracy), joined in order of confidence, the
diagonal where confidence equals accuracy, and each bin's gap to it, what ECE averages weighted by the
bins' sizes, as a red segment. A point below the diagonal is a bin the model is overconfident about.
Labels are placed from their estimated extents (text_boxes) and the viewBox holds all of them.
"""

from __future__ import annotations

from html import escape

from trustser.formatting import format_number
from trustser.report.profile import in_pillar_order
from trustser.report.profile_charts import GATE_COLOUR, GRID_COLOUR, MUTED_COLOUR, PROFILE_COLOUR
from trustser.report.records import TrustRecord
from trustser.report.text_boxes import Box, TextLabel, bounds

PLOT = 200  # pixels from 0 to 1 on either axis
FONT_SIZE = 11
PADDING = 8
TICK_GAP = 4


def reliability_of(record: TrustRecord) -> tuple[list[float], list[float], list[int]] | None:
    """(confidence, accuracy, count) per bin from a record's details; None when it carries no diagram."""
    diagram = record.details.get("reliability")
    if not isinstance(diagram, dict):
        return None
    columns = [diagram.get(key) for key in ("confidence", "accuracy", "count")]
    if not all(isinstance(c, list) for c in columns) or len({len(c) for c in columns}) != 1 or not columns[0]:
        return None
    if not all(isinstance(v, (int, float)) for c in columns for v in c):
        return None  # a bin whose value was not finite (written as null) leaves the diagram undrawn
    confidence, accuracy, count = columns
    return [float(v) for v in confidence], [float(v) for v in accuracy], [int(v) for v in count]


def render_reliability_diagram(
    confidence: list[float], accuracy: list[float], count: list[int], *, title: str, summary: str
) -> str:
    """Accuracy against confidence per bin, on a square from 0 to 1; `summary` (e.g. the ECE) above it."""
    local = [
        TextLabel(0, -TICK_GAP - 16, summary, FONT_SIZE),
        TextLabel(0, -TICK_GAP, "accuracy", FONT_SIZE, fill=MUTED_COLOUR),
        TextLabel(PLOT, PLOT + TICK_GAP + 2 * FONT_SIZE + 6, "confidence", FONT_SIZE, "end", fill=MUTED_COLOUR),
    ]
    for tick in (0.0, 0.5, 1.0):
        text = format_number(tick)
        local.append(TextLabel(PLOT * tick, PLOT + TICK_GAP + FONT_SIZE, text, FONT_SIZE, "middle"))
        if tick > 0:
            local.append(TextLabel(-TICK_GAP, PLOT * (1 - tick) + FONT_SIZE / 3, text, FONT_SIZE, "end"))
    extent = bounds([Box(0, 0, PLOT, PLOT), *(label.box() for label in local)])
    left, top = PADDING - extent.left, PADDING - extent.top
    width, height = extent.right - extent.left + 2 * PADDING, extent.bottom - extent.top + 2 * PADDING

    def at(c: float, a: float) -> tuple[float, float]:
        return left + PLOT * min(max(c, 0.0), 1.0), top + PLOT * (1 - min(max(a, 0.0), 1.0))

    (x0, y0), (x1, y1) = at(0, 0), at(1, 1)
    parts = [
        f'<svg class="reliability" role="img" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}"><title>{escape(title)}</title>',
        f'<rect x="{x0:.1f}" y="{y1:.1f}" width="{PLOT}" height="{PLOT}" fill="none" stroke="{GRID_COLOUR}"/>',
        f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{MUTED_COLOUR}" '
        'stroke-dasharray="4 3"/>',
    ]
    points = [at(c, a) for c, a in zip(confidence, accuracy)]
    for (x, y), c in zip(points, confidence):
        _, diagonal = at(c, c)
        parts.append(
            f'<line x1="{x:.1f}" y1="{diagonal:.1f}" x2="{x:.1f}" y2="{y:.1f}" '
            f'stroke="{GATE_COLOUR}" stroke-width="2"/>'
        )
    joined = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    parts.append(f'<polyline points="{joined}" fill="none" stroke="{PROFILE_COLOUR}" stroke-width="1.5"/>')
    for (x, y), c, a, n in zip(points, confidence, accuracy, count):
        tip = f"{n} utterances: confidence {format_number(c)}, accuracy {format_number(a)}"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{PROFILE_COLOUR}"><title>{escape(tip)}</title></circle>'
        )
    parts += [label.moved(left, top).svg() for label in local]
    parts.append("</svg>")
    return "".join(parts)


def reliability_figures(records: list[TrustRecord], backbones: list[str], corpus: str = "") -> str:
    """One diagram per backbone and corpus whose records carry one (the ECE and Brier records share theirs);
    one of another corpus than `corpus` (--test-corpus) names it in its caption."""
    figures, seen = [], set()
    rank = {backbone: index for index, backbone in enumerate(backbones)}
    ordered = sorted(in_pillar_order(records), key=lambda r: rank.get(r.backbone, len(rank)))
    for r in ordered:
        diagram = reliability_of(r)
        if diagram is None or (r.backbone, r.corpus) in seen:
            continue
        seen.add((r.backbone, r.corpus))
        ece, bins = r.details.get("ece"), len(diagram[0])
        summary = f"ECE {format_number(ece)}, {bins} equal-mass bins" if isinstance(ece, (int, float)) else ""
        svg = render_reliability_diagram(*diagram, title=f"reliability of {r.backbone} on {r.corpus}", summary=summary)
        caption = r.backbone if r.corpus == corpus or not corpus else f"{r.backbone} on {r.corpus}"
        caption = f"<figcaption>{escape(caption)}</figcaption>"
        figures.append(f'<figure id="reliability-{len(figures)}">{svg}{caption}</figure>')
    return "".join(figures)
