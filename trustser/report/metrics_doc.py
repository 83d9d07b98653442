"""docs/metrics.md, generated from the metric declarations (trustser.gates.declaration), so it cannot drift from them.

    python -m trustser.report.metrics_doc docs/metrics.md    # or: make docs

A test compares the committed file with what this renders.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from pathlib import Path

from trustser.gates.declaration import Metric
from trustser.pillars import declared_metrics
from trustser.vocabulary import PILLARS

INTRODUCTION = """\
# Trust metrics

Every metric TrustSER gates, with its exact definition, its chance level (the value of a model or
attacker with no signal) and the library or convention it matches. Generated from the metric
declarations in `trustser/pillars/<pillar>/checks.py` by `make docs`; do not edit by hand.

Conventions, for every metric:
- All rates are proportions in [0, 1], not percent.
- Folds are speaker-independent: no speaker is in both the training and the test side of a fold.
- Where a record has a 95% confidence interval (`ci_low`, `ci_high`), it comes from a bootstrap that
  resamples speakers, not utterances, so one talkative speaker cannot narrow it.
- A gate's `min` means higher is better (the value must stay at or above the bound), `max` that lower
  is better. The default bound is the one the shipped thresholds.toml sets; its comments say why.
- Settings are keys of the metric's `[pillar.metric]` table in thresholds.toml; the trust test passes
  them, `trust.settings`, whole to the function that measures the metric.
- Each metric judges classifiers (`--task categorical`, the default), models of arousal, dominance and
  valence (`--task dimensional`), or both, as its "Task" line says; under another task its gate is a
  SKIP saying so. Dimensional values in attribute points are in the corpus's units (its rating scale,
  docs/corpora.md); CCC is the same on any scale.
"""


def _type_name(kind: object) -> str:
    if typing.get_origin(kind) is tuple:
        return f"list of {typing.get_args(kind)[0].__name__}"
    return getattr(kind, "__name__", str(kind))


def _default(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(repr(v) if isinstance(v, str) else f"{v:g}" for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def _bound(metric: Metric) -> str:
    value = f"{metric.default:,.0f}".replace(",", "_") if metric.default >= 1000 else f"{metric.default:g}"
    return f"`{metric.bound} = {value}` ({'higher' if metric.bound == 'min' else 'lower'} is better)"


def render_metric(metric: Metric) -> list[str]:
    lines = [f"### {metric.label}", "", f"`{metric.name}`, gate {_bound(metric)}.", "", metric.definition, ""]
    lines += [f"- Task: {' and '.join(metric.tasks)}."]
    if metric.chance:
        lines += [f"- Chance level: {metric.chance}."]
    if metric.reference:
        lines += [f"- Reference: {metric.reference}."]
    if metric.settings is not None:
        kinds = metric.setting_fields()
        settings = ", ".join(
            f"`{f.name}` ({_type_name(kinds[f.name][0])}, default `{_default(getattr(metric.settings, f.name))}`)"
            for f in dataclasses.fields(metric.settings)
        )
        lines += [f"- Settings: {settings}."]
    return lines + [""]


def render_metrics_doc(metrics: dict[str, Metric] | None = None) -> str:
    metrics = declared_metrics() if metrics is None else metrics
    lines = [INTRODUCTION]
    for pillar in PILLARS:
        mine = [m for m in metrics.values() if m.pillar == pillar]
        if mine:
            lines += [f"## {pillar.capitalize()}", ""]
            for metric in mine:
                lines += render_metric(metric)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/metrics.md")
    target.write_text(render_metrics_doc())
    print(f"wrote {target}")
