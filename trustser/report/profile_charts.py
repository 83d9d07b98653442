"""The trust profile drawn as inline SVG: a radar of pillar scores and bars of gate margins, per backbone.

Both charts only lay out what trustser.report.profile defines. Labels are placed from their
estimated extents (text_boxes) and each viewBox is the extent of everything drawn plus a padding,
so whatever a label says, it is neither cut off nor drawn over another.
"""

from __future__ import annotations

import math
from html import escape

from trustser.report.profile import gate_margin, pillars_of, profile_radius
from trustser.report.records import TrustRecord
from trustser.report.text_boxes import ASCENT_EM, DESCENT_EM, Box, TextLabel, bounds, fitted, text_width
from trustser.vocabulary import Verdict

VERDICT_COLOURS = {
    Verdict.PASS: "#1a7f37",
    Verdict.WARN: "#9a6700",
    Verdict.FAIL: "#cf222e",
    Verdict.ERROR: "#8250df",
    Verdict.SKIP: "#6e7781",
}
FONT_SIZE = 12
LINE_HEIGHT = 16  # taller than a line's estimated box (1.15 em), so stacked lines keep a gap
PADDING = 8
GAP = 12  # between a label column and the bars
GATE_COLOUR = "#cf222e"
GRID_COLOUR = "#d0d7de"
MUTED_COLOUR = "#6e7781"
PROFILE_COLOUR = "#0969da"

RADAR_RADIUS = 110
RADAR_LABEL_GAP = 10  # between the rim and an axis label
RADAR_RINGS = (-0.5, 0.0, 0.5, 1.0)  # in margin units; 0.0 is the gate

BAR_SPAN = 240  # pixels from margin −1 to +1
ROW_HEIGHT = 20
INDENT = 12  # metric labels under their pillar's heading
MAX_LABEL_CHARS = 52  # the longest metric label of thresholds.toml has 49


def _svg_open(css_class: str, width: float, height: float, title: str) -> str:
    return (
        f'<svg class="{css_class}" role="img" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}"><title>{escape(title)}</title>'
    )


def _axis_labels(pillar: str, score: float | None, angle: float) -> list[TextLabel]:
    """The pillar's name and score just outside the rim, centred on the axis around the circle: above
    the top axis, below the bottom ones, beside the others (local coordinates, centre at 0, 0)."""
    cos, sin = math.cos(angle), math.sin(angle)
    anchor = "middle" if abs(cos) < 0.3 else ("start" if cos > 0 else "end")
    reach = RADAR_RADIUS + RADAR_LABEL_GAP
    lines = [pillar, "not measured" if score is None else f"worst margin {score:+.2f}"]
    block_top = reach * sin - LINE_HEIGHT * len(lines) * (1 - sin) / 2
    fill = MUTED_COLOUR if score is None else None
    first_baseline = block_top + (LINE_HEIGHT - (ASCENT_EM + DESCENT_EM) * FONT_SIZE) / 2 + ASCENT_EM * FONT_SIZE
    return [
        TextLabel(reach * cos, first_baseline + LINE_HEIGHT * index, text, FONT_SIZE, anchor, fill)
        for index, text in enumerate(lines)
    ]


def render_pillar_radar(scores: dict[str, float | None], *, title: str) -> str:
    """One backbone's pillar scores on a radar: radius (score + 1) / 2, the gate as the dashed middle
    ring, a pillar without a measured gate as a grey dashed axis with no point."""
    pillars = list(scores)
    angles = [-math.pi / 2 + 2 * math.pi * index / len(pillars) for index in range(len(pillars))]
    local = [label for pillar, angle in zip(pillars, angles) for label in _axis_labels(pillar, scores[pillar], angle)]
    extent = bounds([Box(-RADAR_RADIUS, -RADAR_RADIUS, RADAR_RADIUS, RADAR_RADIUS), *(label.box() for label in local)])
    cx, cy = PADDING - extent.left, PADDING - extent.top
    width, height = extent.right - extent.left + 2 * PADDING, extent.bottom - extent.top + 2 * PADDING

    def at(angle: float, radius: float) -> tuple[float, float]:
        return cx + RADAR_RADIUS * radius * math.cos(angle), cy + RADAR_RADIUS * radius * math.sin(angle)

    parts = [_svg_open("radar", width, height, title)]
    for ring in RADAR_RINGS:
        stroke = (
            f'stroke="{GATE_COLOUR}" stroke-width="2" stroke-dasharray="6 4"'
            if ring == 0.0
            else f'stroke="{GRID_COLOUR}"'
        )
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{RADAR_RADIUS * profile_radius(ring):.1f}" fill="none" {stroke}/>'
        )
    for pillar, angle in zip(pillars, angles):
        x, y = at(angle, 1.0)
        dash = ' stroke-dasharray="3 3"' if scores[pillar] is None else ""
        parts.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="{GRID_COLOUR}"{dash}/>')
    points = [
        (at(angle, profile_radius(scores[p])), scores[p]) for p, angle in zip(pillars, angles) if scores[p] is not None
    ]
    joined = " ".join(f"{x:.1f},{y:.1f}" for (x, y), _ in points)
    if len(points) >= 3:
        parts.append(
            f'<polygon points="{joined}" fill="{PROFILE_COLOUR}33" stroke="{PROFILE_COLOUR}" stroke-width="2"/>'
        )
    elif len(points) == 2:
        parts.append(f'<polyline points="{joined}" fill="none" stroke="{PROFILE_COLOUR}" stroke-width="2"/>')
    for (x, y), score in points:
        colour = VERDICT_COLOURS[Verdict.PASS] if score >= 0 else VERDICT_COLOURS[Verdict.FAIL]
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
    parts += [label.moved(cx, cy).svg() for label in local]
    parts.append("</svg>")
    return "".join(parts)


def _row_baseline(row_top: float) -> float:
    return row_top + (ROW_HEIGHT - (ASCENT_EM + DESCENT_EM) * FONT_SIZE) / 2 + ASCENT_EM * FONT_SIZE


def render_margin_bars(records: list[TrustRecord], *, title: str) -> str:
    """One backbone's gates as horizontal bars of their margin (−1 to +1, the gate at 0), grouped under
    their pillar; a gate that measured nothing (SKIP, ERROR) has its verdict and no bar."""
    groups = [
        (pillar, [(r, fitted(r.label, MAX_LABEL_CHARS)) for r in sorted(of_pillar, key=lambda r: r.metric)])
        for pillar in pillars_of(records)
        if (of_pillar := [r for r in records if r.pillar == pillar])
    ]
    label_column = max(
        [text_width(pillar, FONT_SIZE) for pillar, _ in groups]
        + [INDENT + text_width(name, FONT_SIZE) for _, rows in groups for _, name in rows],
        default=0.0,
    )
    bar_left = PADDING + label_column + GAP
    zero, bar_right = bar_left + BAR_SPAN / 2, bar_left + BAR_SPAN
    value_x = bar_right + GAP

    labels = [
        TextLabel(bar_left, _row_baseline(PADDING), "−1", FONT_SIZE, "start", MUTED_COLOUR),
        TextLabel(zero, _row_baseline(PADDING), "0 = gate", FONT_SIZE, "middle", GATE_COLOUR),
        TextLabel(bar_right, _row_baseline(PADDING), "+1", FONT_SIZE, "end", MUTED_COLOUR),
    ]
    bars = []
    row_top = PADDING + ROW_HEIGHT
    for pillar, rows in groups:
        labels.append(TextLabel(PADDING, _row_baseline(row_top), pillar, FONT_SIZE))
        row_top += ROW_HEIGHT
        for r, name in rows:
            labels.append(
                TextLabel(
                    PADDING + INDENT,
                    _row_baseline(row_top),
                    name,
                    FONT_SIZE,
                    fill=MUTED_COLOUR,
                    tooltip=r.label if name != r.label else None,
                )
            )
            margin = gate_margin(r)
            colour = VERDICT_COLOURS.get(r.verdict, MUTED_COLOUR)
            if margin is not None:
                length = abs(margin) * BAR_SPAN / 2
                left = zero if margin >= 0 else zero - length
                bars.append(
                    f'<rect x="{left:.1f}" y="{row_top + 4:.1f}" width="{length:.1f}" '
                    f'height="{ROW_HEIGHT - 8}" fill="{colour}"/>'
                )
            shown = r.verdict if margin is None else f"{margin:+.2f} {r.verdict}"
            labels.append(TextLabel(value_x, _row_baseline(row_top), shown, FONT_SIZE, "start", colour))
            row_top += ROW_HEIGHT
    width = max(label.box().right for label in labels) + PADDING
    height = row_top + PADDING
    gate = (
        f'<line x1="{zero:.1f}" y1="{PADDING + ROW_HEIGHT:.1f}" x2="{zero:.1f}" y2="{row_top:.1f}" '
        f'stroke="{GATE_COLOUR}" stroke-width="1.5" stroke-dasharray="4 3"/>'
    )
    frame = (
        f'<rect x="{bar_left:.1f}" y="{PADDING + ROW_HEIGHT:.1f}" width="{BAR_SPAN}" '
        f'height="{row_top - PADDING - ROW_HEIGHT:.1f}" fill="none" stroke="{GRID_COLOUR}"/>'
    )
    return "".join(
        [_svg_open("margins", width, height, title), frame, *bars, gate, *(label.svg() for label in labels), "</svg>"]
    )
