"""The self-contained HTML trust report: trust profile radars, comparison table, curves, per-group bars.

Inline SVG and CSS only (no script, no external file), so the report opens anywhere and can be
attached to a CI run. Every string that comes from data (backbone and corpus specs, labels, group
names, messages) passes through `html.escape`; numbers are formatted, never pasted.
"""

from __future__ import annotations

import math
from collections import Counter
from html import escape

from trustser.report.radar import RadarAxis, radar_axes
from trustser.report.records import TrustRecord
from trustser.report.writers import corpus_summary_text

VERDICT_COLOURS = {"PASS": "#1a7f37", "WARN": "#9a6700", "FAIL": "#cf222e", "ERROR": "#8250df", "SKIP": "#6e7781"}
SERIES_COLOURS = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#6e7781")
PILLAR_ORDER = {"utility": 0, "privacy": 1, "fairness": 2, "safety": 3, "sustainability": 4}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#1f2328;max-width:1200px}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left}
th{background:#f6f8fa}.PASS{color:#1a7f37}.WARN{color:#9a6700}.FAIL{color:#cf222e;font-weight:600}.ERROR{color:#8250df;font-weight:600}.SKIP{color:#6e7781}
.radars{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-weight:600;text-align:center}
svg text{font-size:11px;fill:#1f2328}
"""


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4g}"


def _ordered(records: list[TrustRecord]) -> list[TrustRecord]:
    return sorted(records, key=lambda r: (PILLAR_ORDER.get(r.pillar, 9), r.metric, r.backbone))


def render_radar(axes: list[RadarAxis], backbone: str, size: int = 360) -> str:
    """One backbone's trust profile as an SVG polygon over the metric axes (gate = dashed ring)."""
    width = size + 220  # room for the axis labels left and right of the circle
    centre, centre_x, radius = size / 2, width / 2, size / 2 - 40
    n = len(axes)

    def point(index: int, r: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / n
        return centre_x + radius * r * math.cos(angle), centre + radius * r * math.sin(angle)

    parts = [f'<svg class="radar" role="img" width="{width}" height="{size}" viewBox="0 0 {width} {size}">',
             f"<title>trust profile of {escape(backbone)}</title>"]
    for ring in (0.25, 0.5, 0.75, 1.0):
        dash = ' stroke-dasharray="4 3" stroke="#cf222e"' if ring == 0.5 else ' stroke="#d0d7de"'
        parts.append(f'<circle cx="{centre_x:.1f}" cy="{centre:.1f}" r="{radius * ring:.1f}" fill="none"{dash}/>')
    vertices = []
    for index, axis in enumerate(axes):
        x, y = point(index, 1.0)
        parts.append(f'<line x1="{centre_x:.1f}" y1="{centre:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>')
        lx, ly = point(index, 1.08)
        anchor = "middle" if abs(lx - centre_x) < 10 else ("start" if lx > centre_x else "end")
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">{escape(axis.label)}</text>')
        r = axis.radii.get(backbone)
        vertices.append(point(index, 0.0 if r is None else r))
    polygon = " ".join(f"{x:.1f},{y:.1f}" for x, y in vertices)
    parts.append(f'<polygon points="{polygon}" fill="#0969da33" stroke="#0969da" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def render_line_chart(title: str, series: dict[str, list[tuple[float, float]]], x_label: str, y_label: str) -> str:
    """Lines over a shared x range taken from the data (e.g. success rate against SNR in dB)."""
    width, height, pad = 420, 260, 45
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys) if max(ys) > min(0.0, min(ys)) else 1.0
    sx = lambda x: pad + (width - 2 * pad) * ((x - x0) / ((x1 - x0) or 1.0))  # noqa: E731
    sy = lambda y: height - pad - (height - 2 * pad) * ((y - y0) / ((y1 - y0) or 1.0))  # noqa: E731
    parts = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#1f2328"/>',
             f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#1f2328"/>',
             f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">{escape(x_label)}</text>',
             f'<text x="12" y="{pad - 10}">{escape(y_label)} ({_fmt(y0)} to {_fmt(y1)})</text>',
             f'<text x="{pad}" y="{height - pad + 14}" text-anchor="middle">{_fmt(x0)}</text>',
             f'<text x="{width - pad}" y="{height - pad + 14}" text-anchor="middle">{_fmt(x1)}</text>']
    for index, (name, points) in enumerate(series.items()):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(points))
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{width - pad + 4}" y="{pad + 14 * index}" style="fill:{colour}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_bars(title: str, values: dict[str, float]) -> str:
    """Horizontal bars of one metric per group (e.g. UAR per gender or per speaker)."""
    finite = {k: v for k, v in values.items() if isinstance(v, (int, float)) and not math.isnan(v)}
    if not finite:
        return ""
    top = max(max(finite.values()), 1e-12)
    row, label_width, bar_width = 18, 120, 240
    height = row * len(finite) + 30
    parts = [f'<svg class="bars" width="{label_width + bar_width + 60}" height="{height}"><title>{escape(title)}</title>',
             f'<text x="0" y="12">{escape(title)}</text>']
    for index, (group, value) in enumerate(finite.items()):
        y = 22 + row * index
        parts.append(f'<text x="0" y="{y + 12}">{escape(str(group))}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{bar_width * max(value, 0) / top:.1f}" height="{row - 4}" fill="#0969da"/>')
        parts.append(f'<text x="{label_width + bar_width + 4}" y="{y + 12}">{_fmt(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _comparison_table(records: list[TrustRecord], backbones: list[str]) -> str:
    by_key = {(r.metric, r.backbone): r for r in records}
    head = "".join(f"<th>{escape(b)}</th>" for b in backbones)
    rows = []
    for metric in dict.fromkeys(r.metric for r in _ordered(records)):
        first = next(r for r in records if r.metric == metric)
        gate = f"{'≥' if first.bound == 'min' else '≤'} {_fmt(first.threshold)}"
        cells = []
        for backbone in backbones:
            r = by_key.get((metric, backbone))
            if r is None:
                cells.append("<td></td>")
                continue
            ci = f" [{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]" if r.ci_low is not None else ""
            cells.append(f'<td class="{escape(r.verdict)}" title="{escape(r.message)}">{_fmt(r.value)}{ci} {escape(r.verdict)}</td>')
        rows.append(f"<tr><td>{escape(first.pillar)}</td><td>{escape(first.label)}</td><td>{gate}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>pillar</th><th>metric</th><th>gate</th>{head}</tr>{''.join(rows)}</table>"


def _noise_charts(records: list[TrustRecord]) -> str:
    """UAR against SNR per noise type, one chart per backbone, from noise-robustness results."""
    charts = []
    for r in _ordered(records):
        conditions = r.details.get("conditions")
        if isinstance(conditions, list) and conditions and {"noise", "snr_db", "uar"} <= set(conditions[0]):
            series: dict[str, list[tuple[float, float]]] = {}
            for c in conditions:
                series.setdefault(str(c["noise"]), []).append((float(c["snr_db"]), float(c["uar"])))
            charts.append(render_line_chart(f"UAR under noise: {r.backbone}", series, "SNR (dB)", f"UAR, {r.backbone}"))
    return "".join(charts)


def _curves(records: list[TrustRecord]) -> str:
    """Records whose details carry a `curve` ([{x, y}] or [[x, y]]) are drawn per metric across backbones."""
    charts = []
    for metric in dict.fromkeys(r.metric for r in records if r.details.get("curve")):
        series = {}
        for r in records:
            if r.metric == metric and r.details.get("curve"):
                series[r.backbone] = [tuple(p) if isinstance(p, (list, tuple)) else (p["x"], p["y"]) for p in r.details["curve"]]
        label = next(r.label for r in records if r.metric == metric)
        charts.append(render_line_chart(label, series, "SNR (dB)", label))
    return "".join(charts)


def _per_group_values(details: dict, prefix: str = "") -> list[tuple[str, dict[str, float]]]:
    """Every `<something>_by_group` mapping of group -> number in a record's details, with its path."""
    found = []
    for key, value in details.items():
        if isinstance(value, dict) and key.endswith("by_group") and all(isinstance(v, (int, float)) for v in value.values()):
            found.append((prefix + key, value))
        elif isinstance(value, dict):
            found.extend(_per_group_values(value, f"{prefix}{key}."))
    return found


def _group_charts(records: list[TrustRecord]) -> str:
    """One bar chart per distinct per-group mapping (tests that share an evaluation share its chart)."""
    charts, seen = [], set()
    for r in _ordered(records):
        for path, values in _per_group_values(r.details):
            attribute = r.details.get("attribute", "")
            key = (r.backbone, path, attribute, tuple(sorted(values.items())))
            if key not in seen:
                seen.add(key)
                title = f"{path.split('.')[-1].replace('_', ' ')} {attribute}: {r.backbone}".replace("  ", " ")
                charts.append(render_bars(title, values))
    return "".join(charts)


def render_html(records: list[TrustRecord], meta: dict) -> str:
    backbones = list(dict.fromkeys([*meta.get("backbones", []), *(r.backbone for r in records)]))
    counts = Counter(r.verdict for r in records)
    summary = ", ".join(f'<span class="{v}">{counts.get(v, 0)} {v}</span>' for v in VERDICT_COLOURS)
    axes = radar_axes(_ordered(records), backbones)
    radars = "".join(
        f'<figure id="trust-profile-{index}">{render_radar(axes, b)}<figcaption>{escape(b)}</figcaption></figure>'
        for index, b in enumerate(backbones)
    ) if len(axes) >= 3 else "<p>Fewer than three measured metrics: no profile to draw.</p>"
    why = "".join(f'<li class="{escape(r.verdict)}">{escape(r.verdict)}: {escape(r.message)}</li>'
                  for r in _ordered(records) if r.verdict != "PASS")
    curves, noise, groups = _curves(records), _noise_charts(records), _group_charts(records)
    sections = [
        f"<h1>TrustSER trust report</h1><p>Corpus <code>{escape(str(meta.get('corpus', '?')))}</code>, seed "
        f"{escape(str(meta.get('seed', '?')))}. {summary}</p>",
        "<h2>Trust profile</h2><p>Each axis is a metric's margin to its gate (dashed ring); outside the ring passes. "
        f"Axes are scaled by the largest margin measured.</p><div class=\"radars\">{radars}</div>",
        f"<h2>Comparison</h2>{_comparison_table(records, backbones)}",
        f"<h2>Corpus</h2><pre>{escape(corpus_summary_text(meta['corpus_summary']))}</pre>" if meta.get("corpus_summary") else "",
        f"<h2>Success rate against SNR</h2>{curves}" if curves else "",
        f"<h2>Noise robustness</h2>{noise}" if noise else "",
        f"<h2>Per group</h2>{groups}" if groups else "",
        f"<h2>Why</h2><ul>{why}</ul>" if why else "",
    ]
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>TrustSER trust report</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(sections)}</body></html>\n")
