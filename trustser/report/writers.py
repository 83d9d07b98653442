"""Renderers of the audit's records: JSON (the schema), Markdown (a pull-request comment), HTML, CSV.

Renderers never recompute a metric; they only lay out records.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter
from pathlib import Path

from trustser.cache import atomic_path
from trustser.report.records import SCHEMA_VERSION, TrustRecord

PREDICTION_COLUMNS = ("backbone", "fold", "utterance_id", "speaker", "gender", "true_emotion", "predicted_emotion")


def write_json(path: Path, records: list[TrustRecord], meta: dict) -> None:
    document = {
        "schema_version": SCHEMA_VERSION,
        "meta": meta,
        "summary": dict(Counter(r.verdict for r in records)),
        "records": [r.as_dict() for r in records],
    }
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(document, indent=2, sort_keys=True, allow_nan=False))


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(records: list[TrustRecord], meta: dict) -> str:
    counts = Counter(r.verdict for r in records)
    lines = [
        "# TrustSER trust report",
        "",
        f"Corpus `{_cell(meta.get('corpus', '?'))}`, backbones {', '.join(f'`{_cell(b)}`' for b in meta.get('backbones', []))}, "
        f"seed {meta.get('seed', '?')}.",
        "",
        "**" + ", ".join(f"{counts.get(v, 0)} {v}" for v in ("PASS", "WARN", "FAIL", "SKIP")) + "**",
        "",
        "| pillar | metric | backbone | value | gate | verdict | n |",
        "|---|---|---|---|---|---|---|",
    ]
    order = {"utility": 0, "privacy": 1, "fairness": 2, "safety": 3, "sustainability": 4}
    for r in sorted(records, key=lambda r: (order.get(r.pillar, 9), r.metric, r.backbone)):
        value = "n/a" if r.value is None else f"{r.value:.4g}"
        gate = f"{'≥' if r.bound == 'min' else '≤'} {r.threshold:.4g}"
        lines.append(
            f"| {r.pillar} | {_cell(r.label)} | `{_cell(r.backbone)}` | {value} | {gate} | {r.verdict} | {r.n if r.n is not None else ''} |"
        )
    if meta.get("corpus_summary"):
        lines += ["", "## Corpus", "", "```", corpus_summary_text(meta["corpus_summary"]), "```"]
    failures = [r for r in records if r.verdict in ("FAIL", "WARN", "SKIP")]
    if failures:
        lines += ["", "## Why", ""] + [f"- {r.verdict}: {_cell(r.message)}" for r in failures]
    listen = [(r, inside) for r in records for _, inside in listening_examples(r)]
    if listen:
        lines += ["", "## Listen", ""] + [f"- {_cell(r.label)}, `{_cell(r.backbone)}`: [{_cell(inside)}]({inside.replace(' ', '%20')})"
                                          for r, inside in listen]
    return "\n".join(lines) + "\n"


def corpus_summary_text(summary: dict) -> str:
    from trustser.corpora.summary import CorpusSummary

    return CorpusSummary(**summary).render()


def write_markdown(path: Path, records: list[TrustRecord], meta: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(render_markdown(records, meta))


def write_html(path: Path, records: list[TrustRecord], meta: dict) -> None:
    from trustser.report.html import render_html

    with atomic_path(path) as tmp:
        tmp.write_text(render_html(records, meta))


def write_prediction_rows(path: Path, rows: list[dict]) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=PREDICTION_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)


def merge_prediction_parts(parts: list[Path], target: Path) -> None:
    """Concatenate per-backbone prediction CSVs (written by workers) into one file."""
    rows: list[dict] = []
    for part in sorted(parts):
        with open(part, newline="") as handle:
            rows.extend(csv.DictReader(handle))
    write_prediction_rows(target, rows)


def listening_examples(record: TrustRecord) -> list[tuple[Path, str]]:
    """(stored file, path inside the report) of each audio example a record names: for every
    `<id>.<kind>.wav` in `details["examples"]`, also the `<id>.original.wav` beside it."""
    pairs = []
    folder = f"examples/{_safe(record.backbone)}/{record.metric.split('.', 1)[1]}"
    for example in record.details.get("examples") or ():
        source = Path(example)
        original = source.with_name(f"{source.name.rsplit('.', 2)[0]}.original.wav")
        pairs += [(original, f"{folder}/{original.name}"), (source, f"{folder}/{source.name}")]
    return pairs


def copy_listening_examples(records: list[TrustRecord], report_dir: Path) -> None:
    for record in records:
        for source, inside in listening_examples(record):
            if source.exists():
                (report_dir / inside).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, report_dir / inside)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "unnamed"
