"""The self-contained HTML trust report: trust profile, gate margins, comparison table, curves, per-group bars.

Inline SVG and CSS only (no script, no external file), so the report opens anywhere and can be
attached to a CI run. Every string that comes from data (backbone and corpus specs, labels, group
names, messages) passes through `html.escape`; numbers are formatted, never pasted. Every chart is
sized to its labels' estimated extent (text_boxes), so nothing is cut off in a 1280 px window.
"""

from __future__ import annotations

import math
from collections import Counter
from html import escape
from pathlib import Path

from trustser.cache.store import atomic_path
from trustser.formatting import format_number
from trustser.report.completion import Completion
from trustser.report.profile import backbones_of, in_pillar_order, pillar_scores
from trustser.report.profile_charts import VERDICT_COLOURS, render_margin_bars, render_pillar_radar
from trustser.report.records import TrustRecord
from trustser.report.reliability_chart import reliability_figures
from trustser.report.text_boxes import TextLabel, fitted, text_width
from trustser.report.writers import MODEL_ADJUSTMENTS_INTRO, TRANSFER_INTRO, completion_of, corpus_summary_text
from trustser.vocabulary import Verdict

SERIES_COLOURS = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#6e7781")
CHART_FONT_SIZE = 11
CHART_ROW = 16
CHART_PADDING = 8
MAX_NAME_CHARS = 40  # series and group names in the small charts
RELIABILITY_INTRO = (
    "Reliability diagrams of the test posteriors: each point is an equal-mass bin of utterances, at its mean "
    "confidence (the posterior of the predicted emotion) and its accuracy. On the dashed diagonal a model is right "
    "as often as it claims; below it, overconfident. ECE is the mean of the bins' distances to the diagonal (red)."
)

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#1f2328;max-width:1200px}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left}
th{background:#f6f8fa}.PASS{color:#1a7f37}.WARN{color:#9a6700}.FAIL{color:#cf222e;font-weight:600}.ERROR{color:#8250df;font-weight:600}.SKIP{color:#6e7781}
.charts{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}figure{margin:0}
figcaption{font-weight:600;text-align:center;overflow-wrap:anywhere;width:0;min-width:100%}.wide{overflow-x:auto;max-width:100%}
pre{overflow-x:auto}li,td{overflow-wrap:anywhere}
svg{font-size:11px}svg text{fill:#1f2328}
.cut-short{border:2px solid #cf222e;background:#ffebe9;padding:8px 12px}
"""


def _svg(
    css_class: str, title: str, labels: list[TextLabel], shapes: list[str], *, min_width: float, min_height: float
) -> str:
    """An SVG whose viewBox holds every label's estimated box as well as the shapes' own extent."""
    width = max(min_width, *(label.box().right + CHART_PADDING for label in labels))
    height = max(min_height, *(label.box().bottom + CHART_PADDING for label in labels))
    return (
        f'<svg class="{css_class}" width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">'
        f"<title>{escape(title)}</title>{''.join(shapes)}{''.join(label.svg() for label in labels)}</svg>"
    )


def _named(x: float, y: float, name: str, **options) -> TextLabel:
    shown = fitted(name, MAX_NAME_CHARS)
    return TextLabel(x, y, shown, CHART_FONT_SIZE, tooltip=name if shown != name else None, **options)


def render_line_chart(title: str, series: dict[str, list[tuple[float, float]]], x_label: str, y_label: str) -> str:
    """Lines over a shared x range taken from the data (e.g. success rate against SNR in dB), legend on the right."""
    plot_width, plot_height = 330, 170
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys) if max(ys) > min(0.0, min(ys)) else 1.0
    low, high = format_number(x0), format_number(x1)
    left = CHART_PADDING + max(text_width(low, CHART_FONT_SIZE) / 2, 4)  # the first x tick is centred on the axis
    top = CHART_PADDING + CHART_ROW + 4  # below the y label
    right, bottom = left + plot_width, top + plot_height
    sx = lambda x: left + plot_width * ((x - x0) / ((x1 - x0) or 1.0))  # noqa: E731
    sy = lambda y: bottom - plot_height * ((y - y0) / ((y1 - y0) or 1.0))  # noqa: E731
    labels = [
        _named(CHART_PADDING, CHART_PADDING + 11, f"{y_label} ({format_number(y0)} to {format_number(y1)})"),
        TextLabel(left, bottom + 14, low, CHART_FONT_SIZE, "middle"),
        TextLabel(right, bottom + 14, high, CHART_FONT_SIZE, "middle"),
        TextLabel((left + right) / 2, bottom + 14 + CHART_ROW, x_label, CHART_FONT_SIZE, "middle"),
    ]
    shapes = [
        f'<line x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" stroke="#1f2328"/>',
        f'<line x1="{left:.1f}" y1="{top:.1f}" x2="{left:.1f}" y2="{bottom:.1f}" stroke="#1f2328"/>',
    ]
    for index, (name, points) in enumerate(series.items()):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(points))
        shapes.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        labels.append(_named(right + 12, top + 11 + CHART_ROW * index, str(name), fill=colour))
    return _svg("chart", title, labels, shapes, min_width=right + CHART_PADDING, min_height=bottom + CHART_PADDING)


def render_bars(title: str, values: dict[str, float]) -> str:
    """Horizontal bars of one metric per group (e.g. UAR per gender or per speaker)."""
    finite = {k: v for k, v in values.items() if isinstance(v, (int, float)) and not math.isnan(v)}
    if not finite:
        return ""
    top = max(max(finite.values()), 1e-12)
    bar_width = 240
    names = [fitted(str(group), MAX_NAME_CHARS) for group in finite]
    bar_left = CHART_PADDING + max(text_width(name, CHART_FONT_SIZE) for name in names) + 12
    labels, shapes = [_named(CHART_PADDING, CHART_PADDING + 11, title)], []
    for index, (group, value) in enumerate(finite.items()):
        row_top = CHART_PADDING + CHART_ROW * (index + 1) + 4
        labels.append(_named(CHART_PADDING, row_top + 11, str(group)))
        shapes.append(
            f'<rect x="{bar_left:.1f}" y="{row_top + 2:.1f}" width="{bar_width * max(value, 0) / top:.1f}" '
            f'height="{CHART_ROW - 4}" fill="#0969da"/>'
        )
        labels.append(TextLabel(bar_left + bar_width + 6, row_top + 11, format_number(value), CHART_FONT_SIZE))
    return _svg("bars", title, labels, shapes, min_width=bar_left + bar_width, min_height=0)


def _comparison_table(records: list[TrustRecord], backbones: list[str], corpus: str = "") -> str:
    """Metric × backbone; a cross-corpus row (a record of another corpus than `corpus`, --test-corpus) is a row
    of its own, its metric named with its corpus."""
    by_key = {(r.metric, r.corpus, r.backbone): r for r in records}
    head = "".join(f"<th>{escape(b)}</th>" for b in backbones)
    rows = []
    for metric, on in dict.fromkeys((r.metric, r.corpus) for r in in_pillar_order(records)):
        first = next(r for r in records if r.metric == metric and r.corpus == on)
        gate = f"{'≥' if first.bound == 'min' else '≤'} {format_number(first.threshold)}"
        label = first.label if on == corpus or not corpus else f"{first.label} on {on}"
        cells = []
        for backbone in backbones:
            r = by_key.get((metric, on, backbone))
            if r is None:
                cells.append("<td></td>")
                continue
            ci = f" [{format_number(r.ci_low)}, {format_number(r.ci_high)}]" if r.ci_low is not None else ""
            cells.append(
                f'<td class="{escape(r.verdict)}" title="{escape(r.message)}">'
                f"{format_number(r.value)}{ci} {escape(r.verdict)}</td>"
            )
        rows.append(f"<tr><td>{escape(first.pillar)}</td><td>{escape(label)}</td><td>{gate}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>pillar</th><th>metric</th><th>gate</th>{head}</tr>{''.join(rows)}</table>"


def _noise_charts(records: list[TrustRecord]) -> str:
    """UAR against SNR per noise type, one chart per backbone, from noise-robustness results."""
    charts = []
    for r in in_pillar_order(records):
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
                series[r.backbone] = [
                    tuple(p) if isinstance(p, (list, tuple)) else (p["x"], p["y"]) for p in r.details["curve"]
                ]
        label = next(r.label for r in records if r.metric == metric)
        charts.append(render_line_chart(label, series, "SNR (dB)", label))
    return "".join(charts)


def _per_group_values(details: dict, prefix: str = "") -> list[tuple[str, dict[str, float]]]:
    """Every `<something>_by_group` mapping of group -> number in a record's details, with its path."""
    found = []
    for key, value in details.items():
        if (
            isinstance(value, dict)
            and key.endswith("by_group")
            and all(isinstance(v, (int, float)) for v in value.values())
        ):
            found.append((prefix + key, value))
        elif isinstance(value, dict):
            found.extend(_per_group_values(value, f"{prefix}{key}."))
    return found


def _group_charts(records: list[TrustRecord]) -> str:
    """One bar chart per distinct per-group mapping (tests that share an evaluation share its chart)."""
    charts, seen = [], set()
    for r in in_pillar_order(records):
        for path, values in _per_group_values(r.details):
            attribute = r.details.get("attribute", "")
            key = (r.backbone, path, attribute, tuple(sorted(values.items())))
            if key not in seen:
                seen.add(key)
                title = f"{path.split('.')[-1].replace('_', ' ')} {attribute}: {r.backbone}".replace("  ", " ")
                charts.append(render_bars(title, values))
    return "".join(charts)


def _profile_figures(records: list[TrustRecord], backbones: list[str]) -> tuple[str, str]:
    """(radars, margin bars): one figure of each per backbone."""
    scores = pillar_scores(records, backbones=backbones)
    radars, bars = [], []
    for index, backbone in enumerate(backbones):
        caption = f"<figcaption>{escape(backbone)}</figcaption>"
        radar = render_pillar_radar(scores[backbone], title=f"trust profile of {backbone}")
        radars.append(f'<figure id="trust-profile-{index}">{radar}{caption}</figure>')
        of_backbone = [r for r in records if r.backbone == backbone]
        if of_backbone:
            margins = render_margin_bars(of_backbone, title=f"gate margins of {backbone}")
            bars.append(f'<figure id="gate-margins-{index}">{margins}{caption}</figure>')
    return "".join(radars), "".join(bars)


def _model_adjustments(adjustments: dict[str, list[str]]) -> str:
    items = "".join(
        f"<li><code>{escape(backbone)}</code>: {escape(line)}</li>"
        for backbone, lines in adjustments.items()
        for line in lines
    )
    return f"<h2>Models</h2><p>{escape(MODEL_ADJUSTMENTS_INTRO)}</p><ul>{items}</ul>" if items else ""


def _transfer_matrix(matrix: dict | None) -> str:
    """Train × test UAR (trustser.report.transfer), one row per backbone; nothing without --test-corpus."""
    if not matrix:
        return ""
    corpora = [matrix["train_corpus"], *matrix["test_corpora"]]
    head = f"<th>backbone, trained on</th><th>{escape(corpora[0])} (in-corpus)</th>" + "".join(
        f"<th>{escape(c)}</th>" for c in corpora[1:]
    )
    rows = []
    for backbone, cells in matrix["uar"].items():
        row = []
        for corpus in corpora:
            cell = cells.get(corpus)
            if cell is None:
                row.append("<td>—</td>")
            else:
                value = "not measured" if cell[0] is None else format_number(cell[0])
                row.append(f'<td class="{escape(str(cell[1]))}">{value} {escape(str(cell[1]))}</td>')
        rows.append(f"<tr><td>{escape(backbone)}</td>{''.join(row)}</tr>")
    return (
        f"<h2>Cross-corpus transfer</h2><p>{escape(TRANSFER_INTRO)}</p>"
        f'<div class="wide"><table><tr>{head}</tr>{"".join(rows)}</table></div>'
    )


def _cut_short(completion: Completion) -> str:
    """The page's first paragraph when the run is not a release verdict; '' for a complete run."""
    if completion.headline is None:
        return ""
    return (
        f'<p class="cut-short" id="run-status"><strong>{escape(completion.headline)}</strong> '
        f"{escape(completion.explanation)}</p>"
    )


def _without_a_result(completion: Completion) -> str:
    if not completion.missing:
        return ""
    items = "".join(f"<li><code>{escape(nodeid)}</code></li>" for nodeid in completion.missing)
    return (
        f"<h2>Without a result</h2><p>Collected trust tests that reported no record: "
        f"{escape(completion.reason)}.</p><ul>{items}</ul>"
    )


def render_html(records: list[TrustRecord], meta: dict, *, completion: Completion | None = None) -> str:
    completion = completion_of(records, completion)
    backbones = backbones_of(records, listed=meta.get("backbones", []))
    counts = Counter(r.verdict for r in records)
    summary = ", ".join(f'<span class="{v}">{counts.get(v, 0)} {v}</span>' for v in VERDICT_COLOURS)
    if completion.status != "complete":
        summary += f", {len(completion.missing)} without a result ({completion.status})"
    radars, margin_bars = _profile_figures(records, backbones)
    why = "".join(
        f'<li class="{escape(r.verdict)}">{escape(r.verdict)}: {escape(r.message)}</li>'
        for r in in_pillar_order(records)
        if r.verdict != Verdict.PASS
    )
    curves, noise, groups = _curves(records), _noise_charts(records), _group_charts(records)
    reliability = reliability_figures(records, backbones, str(meta.get("corpus", "")))
    sections = [
        _cut_short(completion),
        f"<h1>TrustSER trust report</h1><p>Corpus <code>{escape(str(meta.get('corpus', '?')))}</code>, seed "
        f"{escape(str(meta.get('seed', '?')))}. {summary}</p>",
        "<h2>Trust profile</h2><p>A gate's margin is how far its value is inside the bound, relative to the threshold, "
        "clipped to [−1, 1]; a pillar's score is its worst margin among the gates that measured a value. "
        "The dashed ring "
        "is the gate (margin 0): on or outside it, every measured value of the pillar is within its gate; inside it, "
        "at least one is not. The rim is +1, the centre −1. Gate margins below show which gate sets each score.</p>"
        f'<div class="charts">{radars}</div>',
        f'<h2>Gate margins</h2><div class="charts">{margin_bars}</div>' if margin_bars else "",
        _without_a_result(completion),
        _transfer_matrix(meta.get("transfer_matrix")),
        f'<h2>Comparison</h2><div class="wide">'
        f"{_comparison_table(records, backbones, str(meta.get('corpus', '')))}</div>",
        f"<h2>Corpus</h2><pre>{escape(corpus_summary_text(meta['corpus_summary']))}</pre>"
        if meta.get("corpus_summary")
        else "",
        _model_adjustments(meta.get("model_adjustments") or {}),
        f'<h2>Calibration</h2><p>{escape(RELIABILITY_INTRO)}</p><div class="charts">{reliability}</div>'
        if reliability
        else "",
        f'<h2>Success rate against SNR</h2><div class="charts">{curves}</div>' if curves else "",
        f'<h2>Noise robustness</h2><div class="charts">{noise}</div>' if noise else "",
        f'<h2>Per group</h2><div class="charts">{groups}</div>' if groups else "",
        f"<h2>Why</h2><ul>{why}</ul>" if why else "",
    ]
    title = "TrustSER trust report" + ("" if completion.status == "complete" else f" ({completion.status})")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head><body>{''.join(sections)}</body></html>\n"
    )


def write_html(path: Path, records: list[TrustRecord], meta: dict, *, completion: Completion | None = None) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(render_html(records, meta, completion=completion))
