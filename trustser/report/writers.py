"""Renderers of the audit's records: JSON (the schema), Markdown (a pull-request comment), HTML, CSV.

Renderers never recompute a metric; they only lay out records.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from collections import Counter
from pathlib import Path

from trustser.cache.store import atomic_path
from trustser.formatting import format_number, safe_name
from trustser.report.completion import Completion
from trustser.report.profile import backbones_of, in_pillar_order, pillars_of, worst_verdicts
from trustser.report.records import SCHEMA_VERSION, TrustRecord
from trustser.vocabulary import SEVERITY, VERDICTS, Verdict

PREDICTION_COLUMNS = ("backbone", "fold", "utterance_id", "speaker", "gender", "true_emotion", "predicted_emotion")
# a dimensional audit's rows: each attribute's rating and prediction, in the corpus's units
ATTRIBUTE_PREDICTION_COLUMNS = tuple(
    f"{kind}_{name}" for kind in ("true", "predicted") for name in ("arousal", "dominance", "valence")
)


def completion_of(records: list[TrustRecord], completion: Completion | None) -> Completion:
    """The run's completion; a renderer given none lays out `records` as every test of a finished run."""
    return completion if completion is not None else Completion.all_reported(len(records))


def write_json(path: Path, records: list[TrustRecord], meta: dict, *, completion: Completion | None = None) -> None:
    """The report document; its summary holds the run's status beside the verdict counts, so a consumer
    that reads only the summary sees an interrupted or incomplete run for what it is."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "meta": meta,
        "summary": {**Counter(r.verdict for r in records), **completion_of(records, completion).summary()},
        "records": [r.as_dict() for r in records],
    }
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(finite_or_null(document), indent=2, sort_keys=True, allow_nan=False))


def finite_or_null(value: object) -> object:
    """`value` with every NaN or infinite float replaced by None: JSON has no such numbers, and a metric
    that came out as one was not measured."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(item) for item in value]
    return value


def _cell(text: str) -> str:
    """User text (labels, messages, spec strings) on one Markdown line that cannot open code, HTML or a table cell."""
    flat = re.sub(r"[\r\n\u2028\u2029]+", " ", str(text))
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    """`text` as an inline code span that no backtick inside it can close."""
    flat = re.sub(r"[\r\n\u2028\u2029]+", " ", str(text)).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    return f"{fence} {flat} {fence}" if fence != "`" else f"`{flat}`"


def _code_block(text: str) -> list[str]:
    """`text` as a fenced block whose fence is longer than any backtick run inside, so it cannot be closed early."""
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return [fence, text, fence]


FAILING = tuple(v for v in Verdict if v.failing)
NOT_AUDITED = "—"  # a matrix cell of a pillar no gate of this backbone ran in


def _value_text(value: float | None) -> str:
    return "not measured" if value is None or not math.isfinite(value) else format_number(value)


def _gate_text(record: TrustRecord) -> str:
    return f"{'≥' if record.bound == 'min' else '≤'} {record.threshold:.4g}"


def _pillar_matrix(records: list[TrustRecord], backbones: list[str]) -> list[str]:
    """Backbone × pillar, each cell the most severe verdict of that backbone's gates in that pillar."""
    worst = worst_verdicts(records, backbones=backbones)
    pillars = pillars_of(records)
    lines = ["| backbone | " + " | ".join(_cell(p) for p in pillars) + " |", "|---" * (len(pillars) + 1) + "|"]
    for backbone, cells in worst.items():
        lines.append(f"| {_code(backbone)} | " + " | ".join(_cell(cells[p] or NOT_AUDITED) for p in pillars) + " |")
    return lines


def _failing_gates(records: list[TrustRecord], completion: Completion) -> list[str]:
    failing = [r for r in in_pillar_order(records) if r.verdict in FAILING]
    if not failing and completion.status != "complete":
        return [f"No gate failed and no test crashed among the {completion.reported} trust tests that reported."]
    if not failing:
        return ["No gate failed and no test crashed."]
    return [
        f"- {r.verdict} {_code(r.backbone)}, {_cell(r.label)}: {_value_text(r.value)} vs {_gate_text(r)} "
        f"— {_cell(r.message)}"
        for r in failing
    ]


def _all_gates(records: list[TrustRecord]) -> list[str]:
    """The per-metric table, folded: GitHub renders Markdown inside <details> after a blank line. With
    cross-corpus rows (--test-corpus) a corpus column tells them from the in-corpus ones."""
    several = len({r.corpus for r in records}) > 1
    lines = [
        f"<details><summary>All {len(records)} gates</summary>",
        "",
        f"| pillar | metric | backbone |{' corpus |' * several} value | gate | verdict | n |",
        "|---|---|---|" + "---|" * several + "---|---|---|---|",
    ]
    for r in in_pillar_order(records):
        corpus = f" {_code(r.corpus)} |" if several else ""
        lines.append(
            f"| {_cell(r.pillar)} | {_cell(r.label)} | {_code(r.backbone)} |{corpus} {_value_text(r.value)} "
            f"| {_gate_text(r)} | {_cell(r.verdict)} | {r.n if r.n is not None else ''} |"
        )
    return [*lines, "", "</details>"]


TRANSFER_INTRO = (
    "UAR of the heads trained on the first corpus, in-corpus (held-out speakers) and on each --test-corpus as a "
    "whole, over the emotions both corpora share:"
)


def _matrix_cell(cell: list | None) -> str:
    return NOT_AUDITED if cell is None else f"{_value_text(cell[0])} {_cell(cell[1])}"


def _transfer_matrix(matrix: dict | None) -> list[str]:
    """Train × test UAR (trustser.report.transfer), one row per backbone; nothing without --test-corpus."""
    if not matrix:
        return []
    corpora = [matrix["train_corpus"], *matrix["test_corpora"]]
    lines = ["", "## Cross-corpus transfer", "", TRANSFER_INTRO, ""]
    lines += [
        "| backbone, trained on "
        + " | ".join(_code(c) for c in corpora[:1])
        + " (in-corpus) | "
        + " | ".join(_code(c) for c in corpora[1:])
        + " |",
        "|---" * (len(corpora) + 1) + "|",
    ]
    for backbone, cells in matrix["uar"].items():
        lines.append(f"| {_code(backbone)} | " + " | ".join(_matrix_cell(cells.get(c)) for c in corpora) + " |")
    return lines


CALIBRATION_INTRO = (
    "How far the posteriors are from how often they are right (ECE over equal-mass bins, Brier score; per gender, "
    "each gender's utterances on their own), with 95% speaker-bootstrap intervals:"
)


def _with_interval(value: object, interval: object) -> str:
    if not isinstance(value, (int, float)):
        return "not measured"
    if isinstance(interval, (list, tuple)) and all(isinstance(v, (int, float)) for v in interval):
        return f"{format_number(value)} [{format_number(interval[0])}, {format_number(interval[1])}]"
    return format_number(value)


def _by_group(values: object) -> str:
    if not isinstance(values, dict):
        return ""
    return ", ".join(
        f"{_cell(group)} {_value_text(v) if isinstance(v, (int, float)) else 'n/a'}" for group, v in values.items()
    )


def _calibration(records: list[TrustRecord], corpus: str) -> list[str]:
    """Per backbone (and corpus), the calibration evaluations' numbers beside each other; none without them."""
    rows: dict[tuple[str, str], dict[str, dict]] = {}
    for r in in_pillar_order(records):
        kind = "overall" if "reliability" in r.details else "by_group" if "ece_by_group" in r.details else None
        if kind is not None:
            rows.setdefault((r.backbone, r.corpus), {}).setdefault(kind, r.details)
    if not rows:
        return []
    lines = ["", "## Calibration", "", CALIBRATION_INTRO, ""]
    lines += ["| backbone | ECE | Brier score | ECE by gender | Brier score by gender |", "|---|---|---|---|---|"]
    for (backbone, on), found in rows.items():
        overall, groups = found.get("overall", {}), found.get("by_group", {})
        ci = overall.get("ci") or {}
        name = _code(backbone) + ("" if on == corpus or not corpus else f" on {_code(on)}")
        lines.append(
            f"| {name} | {_with_interval(overall.get('ece'), ci.get('ece'))} "
            f"| {_with_interval(overall.get('brier'), ci.get('brier'))} "
            f"| {_by_group(groups.get('ece_by_group'))} | {_by_group(groups.get('brier_by_group'))} |"
        )
    return lines


def _verdict_counts(records: list[TrustRecord], completion: Completion) -> str:
    counts = Counter(r.verdict for r in records)
    text = ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICTS)
    if completion.status != "complete":
        # the counts of a run cut short never read as a verdict on its own, even quoted alone
        text += f", {len(completion.missing)} without a result ({completion.status})"
    return f"**{text}**"


def _cut_short(completion: Completion) -> list[str]:
    """The first lines of the report of a run that is not a release verdict (none for a complete run)."""
    if completion.headline is None:
        return []
    return [f"**{completion.headline}** {_cell(completion.explanation)}", ""]


def _without_a_result(completion: Completion) -> list[str]:
    if not completion.missing:
        return []
    return [
        "",
        "## Without a result",
        "",
        f"Collected trust tests that reported no record: {_cell(completion.reason)}.",
        "",
        *(f"- {_code(nodeid)}" for nodeid in completion.missing),
    ]


def render_markdown(records: list[TrustRecord], meta: dict, *, completion: Completion | None = None) -> str:
    """A reviewer reads, in order: whether the run was cut short, the verdict counts, backbone × pillar,
    what failed, what has no result, then everything else."""
    completion = completion_of(records, completion)
    backbones = backbones_of(records, listed=meta.get("backbones", []))
    lines = [
        *_cut_short(completion),
        "# TrustSER trust report",
        "",
        f"Corpus {_code(meta.get('corpus', '?'))}, backbones {', '.join(_code(b) for b in meta.get('backbones', []))}, "
        f"seed {_cell(meta.get('seed', '?'))}"
        + (", task dimensional (arousal, dominance, valence)." if meta.get("task") == "dimensional" else "."),
        "",
        _verdict_counts(records, completion),
        "",
        "## By pillar",
        "",
        f"The most severe verdict of each backbone's gates in each pillar ({' > '.join(SEVERITY)}; "
        f"{NOT_AUDITED}: no gate ran).",
        "",
        *_pillar_matrix(records, backbones),
        "",
        "## Failing gates",
        "",
        *_failing_gates(records, completion),
        *_transfer_matrix(meta.get("transfer_matrix")),
        *_calibration(records, str(meta.get("corpus", ""))),
        *_without_a_result(completion),
        "",
        *_all_gates(records),
    ]
    if meta.get("corpus_summary"):
        lines += ["", "## Corpus", "", *_code_block(corpus_summary_text(meta["corpus_summary"]))]
    if meta.get("model_adjustments"):
        lines += ["", "## Models", "", MODEL_ADJUSTMENTS_INTRO, ""]
        lines += [
            f"- {_code(backbone)}: {_cell(line)}"
            for backbone, adjusted in meta["model_adjustments"].items()
            for line in adjusted
        ]
    others = [r for r in in_pillar_order(records) if r.verdict != Verdict.PASS and r.verdict not in FAILING]
    if others:
        lines += ["", "## Warnings and skips", ""]
        lines += [f"- {_cell(r.verdict)} {_code(r.backbone)}, {_cell(r.label)}: {_cell(r.message)}" for r in others]
    listen = [(r, inside) for r in records for _, inside in listening_examples(r)]
    if listen:
        lines += ["", "## Listen", ""] + [
            f"- {_cell(r.label)}, {_code(r.backbone)}: [{_cell(inside)}]({inside.replace(' ', '%20')})"
            for r, inside in listen
        ]
    return "\n".join(lines) + "\n"


def corpus_summary_text(summary: dict) -> str:
    from trustser.corpora.summary import CorpusSummary

    return CorpusSummary(**summary).render()


def write_markdown(path: Path, records: list[TrustRecord], meta: dict, *, completion: Completion | None = None) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(render_markdown(records, meta, completion=completion))


MODEL_ADJUSTMENTS_INTRO = "What the audit changed to judge each finished model:"


def write_model_adjustments(path: Path, backbone: str, adjustments: list[str]) -> None:
    """One finished model's adjustments (eval mode, labels left out or merged), a piece of the report."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"backbone": backbone, "adjustments": list(adjustments)}))


def read_model_adjustments(parts: list[Path]) -> dict[str, list[str]]:
    """Backbone -> adjustments, from the pieces `write_model_adjustments` left (in backbone order)."""
    found = {}
    for part in sorted(parts):
        piece = json.loads(part.read_text())
        found[piece["backbone"]] = list(piece["adjustments"])
    return dict(sorted(found.items()))


def write_prediction_rows(path: Path, rows: list[dict]) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as handle:
            rated = any(key in ATTRIBUTE_PREDICTION_COLUMNS for row in rows for key in row)
            columns = [*PREDICTION_COLUMNS[:5], *ATTRIBUTE_PREDICTION_COLUMNS] if rated else PREDICTION_COLUMNS
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows({key: _inert_cell(value) for key, value in row.items()} for row in rows)


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _inert_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe
    (OWASP's advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def merge_prediction_parts(parts: list[Path], target: Path) -> None:
    """Concatenate per-backbone prediction CSVs (written by workers) into one file."""
    rows: list[dict] = []
    for part in sorted(parts):
        with open(part, newline="") as handle:
            rows.extend(csv.DictReader(handle))
    write_prediction_rows(target, rows)


def listening_examples(record: TrustRecord) -> list[tuple[Path, str]]:
    """(stored file relative to the cache, path inside the report) of each audio example a record names:
    for every `<id>.<kind>.wav` in `details["examples"]`, also the `<id>.original.wav` beside it."""
    pairs = []
    folder = f"examples/{safe_name(record.backbone)}/{safe_name(record.metric.split('.', 1)[-1])}"
    for example in record.details.get("examples") or ():
        source = Path(str(example))
        original = source.with_name(f"{source.name.rsplit('.', 2)[0]}.original.wav")
        pairs += [(original, f"{folder}/{safe_name(original.name)}"), (source, f"{folder}/{safe_name(source.name)}")]
    return pairs


def copy_listening_examples(records: list[TrustRecord], report_dir: Path, cache_root: Path) -> list[str]:
    """Copy each record's examples from the cache's examples folder into the report, private (files
    0600, folders 0700: they are speakers' voices).

    A cached result is not trusted to name its files: one that resolves outside `<cache>/examples` or
    is not a WAV file is not copied. Returns what was refused, for a warning."""
    examples = (cache_root / "examples").resolve()
    refused = []
    for record in records:
        for source, inside in listening_examples(record):
            resolved = (cache_root / source).resolve()
            if not resolved.is_relative_to(examples) or resolved.suffix != ".wav":
                refused.append(str(source))
                continue
            if resolved.is_file():
                target = report_dir / inside
                with atomic_path(target) as tmp:  # mkstemp: created 0600, in folders created 0700
                    shutil.copyfile(resolved, tmp)
    return refused
