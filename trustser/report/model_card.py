"""`model_card.md`: the audit as a model-card section that travels with the model it describes.

Hugging Face `model-index` metadata as YAML front matter (one entry per audited model; every gate that was
measured is a metric with its value, and in `args` its bound, 95% interval and verdict), then what was
audited (models, corpus, folds, seed), every gate with value, interval and verdict, and the caveats of the
protocol: the protocol gates that did not pass and why, the gates that measured nothing and why, and a run cut
short. Like the other renderers it lays out records and never recomputes a metric.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from trustser.cache.store import atomic_path
from trustser.formatting import format_number
from trustser.report.completion import Completion
from trustser.report.profile import backbones_of, in_pillar_order
from trustser.report.records import TrustRecord
from trustser.vocabulary import Verdict

MEASURED = (Verdict.PASS, Verdict.WARN, Verdict.FAIL)  # the verdicts of gates with a value
TASK = {"type": "audio-classification", "name": "Speech emotion recognition"}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _metric(record: TrustRecord) -> dict:
    args = {"gate": f"{record.bound} {format_number(record.threshold)}", "verdict": str(record.verdict)}
    if record.ci_low is not None and record.ci_high is not None:
        args["ci95"] = [record.ci_low, record.ci_high]
    if record.n is not None:
        args["n"] = record.n
    return {"type": record.metric, "name": record.label, "value": record.value, "args": args, "verified": False}


def model_index(records: list[TrustRecord], backbones: list[str]) -> list[dict]:
    """`model-index` entries: each audited model's measured gates, one result per corpus they were measured on."""
    entries = []
    for backbone in backbones:
        measured = [r for r in in_pillar_order(records) if r.backbone == backbone and r.verdict in MEASURED]
        corpora = list(dict.fromkeys(r.corpus for r in measured))
        results = [
            {
                "task": dict(TASK),
                "dataset": {"type": corpus.partition(":")[0], "name": corpus},
                "metrics": [_metric(r) for r in measured if r.corpus == corpus],
            }
            for corpus in corpora
        ]
        entries.append({"name": backbone, "results": results})
    return entries


def _value(record: TrustRecord) -> str:
    return "—" if record.value is None else format_number(record.value)


def _interval(record: TrustRecord) -> str:
    if record.ci_low is None or record.ci_high is None:
        return "—"
    return f"[{format_number(record.ci_low)}, {format_number(record.ci_high)}]"


def _caveats(records: list[TrustRecord], meta: dict, completion: Completion) -> list[str]:
    lines = []
    if completion.headline:
        lines.append(f"- {_cell(completion.headline)} Gates without a record are not listed.")
    folds = meta.get("folds", "?")
    lines.append(
        f"- Test speakers are held out: {folds} speaker-independent folds; a finished model's own training data is "
        "not known to the audit, so only a declaration (its model card's `datasets`) can show the corpus was in it."
    )
    protocol = [r for r in in_pillar_order(records) if r.pillar == "protocol" and r.verdict != Verdict.PASS]
    lines += [f"- {_cell(r.verdict)} `{r.backbone}`, {_cell(r.label)}: {_cell(r.message)}" for r in protocol]
    unmeasured = [r for r in in_pillar_order(records) if r.pillar != "protocol" and r.verdict not in MEASURED]
    lines += [f"- {_cell(r.verdict)} `{r.backbone}`, {_cell(r.label)}: {_cell(r.message)}" for r in unmeasured]
    return lines


def render_model_card(records: list[TrustRecord], meta: dict, *, completion: Completion | None = None) -> str:
    completion = completion if completion is not None else Completion.all_reported(len(records))
    backbones = backbones_of(records, listed=meta.get("backbones", []))
    front = yaml.safe_dump({"model-index": model_index(records, backbones)}, sort_keys=False, allow_unicode=True)
    adjustments = meta.get("model_adjustments", {})
    lines = [
        "---",
        front.rstrip("\n"),
        "---",
        "",
        "## Trust audit (TrustSER)",
        "",
        f"Audited on corpus `{meta.get('corpus', '?')}` ({meta.get('folds', '?')} speaker-independent folds, "
        f"seed {meta.get('seed', '?')}), each gate judged against the release gates of `thresholds.toml`.",
        "",
        "### What was audited",
        "",
        *(f"- `{b}`" + (f": {'; '.join(map(_cell, adjustments[b]))}" if b in adjustments else "") for b in backbones),
        "",
        "### Gates",
        "",
        "| model | pillar | gate | value | 95% CI | bound | verdict | n |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{r.backbone}` | {r.pillar} | {_cell(r.label)} | {_value(r)} | {_interval(r)} | "
        f"{r.bound} {format_number(r.threshold)} | {r.verdict} | {'' if r.n is None else r.n} |"
        for r in in_pillar_order(records)
    ]
    lines += ["", "### Caveats", "", *_caveats(records, meta, completion)]
    return "\n".join(lines) + "\n"


def write_model_card(
    path: Path, records: list[TrustRecord], meta: dict, *, completion: Completion | None = None
) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(render_model_card(records, meta, completion=completion))
