"""report.md for a reviewer: verdict counts, backbone × pillar, failing gates, then every gate folded away."""

from __future__ import annotations

import re

import pytest

from trustser.report.records import TrustRecord
from trustser.report.writers import render_markdown

HOSTILE_BACKBONE = "hf:evil|model`x`\n| injected | row |"


def gate(metric: str, backbone: str, verdict: str, value: float | None = 0.5, **changes) -> TrustRecord:
    fields = dict(
        pillar=metric.split(".")[0],
        metric=metric,
        label=metric.split(".")[1],
        backbone=backbone,
        corpus="synthetic",
        value=value,
        threshold=0.6,
        bound="min",
        verdict=verdict,
        n=10,
        message=f"{metric} said {verdict}",
    )
    return TrustRecord(**{**fields, **changes})


def audit_records() -> list[TrustRecord]:
    return [
        gate("utility.uar", "mfcc", "FAIL", 0.367, label="UAR"),
        gate("utility.accuracy", "mfcc", "PASS", 0.7),
        gate("privacy.speaker_id_accuracy", "mfcc", "ERROR", None, message="RuntimeError: the evaluator fell over"),
        gate("privacy.gender_inference_uar", "mfcc", "WARN", 0.8, bound="max", threshold=0.75),
        gate("safety.fgsm_success_rate", "mfcc", "SKIP", None),
        gate("safety.pgd_success_rate", "mfcc", "SKIP", None),
        gate("utility.uar", "ge2e", "PASS", 0.7, label="UAR"),
        gate("fairness.worst_speaker_uar", "ge2e", "WARN", 0.5),
        gate("fairness.uar_difference_gender", "ge2e", "PASS", 0.05, bound="max", threshold=0.1),
        gate("sustainability.parameters", "ge2e", "SKIP", None),
    ]


def matrix_rows(markdown: str) -> dict[str, list[str]]:
    """The backbone × pillar table: first cell -> the other cells, split where GitHub splits (unescaped `|`)."""
    lines = markdown.splitlines()
    start = lines.index("## By pillar")
    table = [
        line for line in lines[start : lines.index("## Failing gates")] if line.startswith("| ")
    ]  # not the delimiter row
    rows = [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in table]
    return {row[0]: row[1:] for row in rows}


def test_report_opens_with_the_backbone_by_pillar_matrix_of_worst_verdicts():
    markdown = render_markdown(
        audit_records(), {"corpus": "synthetic", "backbones": ["mfcc", "ge2e", "egemaps"], "seed": 0}
    )
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert headings[:3] == ["# TrustSER trust report", "## By pillar", "## Failing gates"]
    rows = matrix_rows(markdown)
    assert rows["backbone"] == ["protocol", "utility", "privacy", "fairness", "safety", "sustainability"]
    # FAIL beats PASS, ERROR beats WARN, only SKIPs: SKIP
    assert rows["`mfcc`"] == ["—", "FAIL", "ERROR", "—", "SKIP", "—"]
    assert rows["`ge2e`"] == ["—", "PASS", "—", "WARN", "—", "SKIP"]
    assert rows["`egemaps`"] == ["—"] * 6  # audited, but no record: no gate ran


def test_failing_gates_list_fail_and_error_with_value_gate_and_reason():
    markdown = render_markdown(audit_records(), {"corpus": "synthetic", "backbones": ["mfcc", "ge2e"], "seed": 0})
    lines = markdown.splitlines()
    start = lines.index("## Failing gates")
    failing = [
        line for line in lines[start : lines.index("<details><summary>All 10 gates</summary>")] if line.startswith("- ")
    ]
    assert failing == [
        "- FAIL `mfcc`, UAR: 0.367 vs ≥ 0.6 — utility.uar said FAIL",
        "- ERROR `mfcc`, speaker_id_accuracy: not measured vs ≥ 0.6 — RuntimeError: the evaluator fell over",
    ]
    passing = render_markdown(
        [gate("utility.uar", "mfcc", "PASS", 0.7)], {"corpus": "synthetic", "backbones": ["mfcc"], "seed": 0}
    )
    assert "No gate failed and no test crashed." in passing


def test_every_gate_is_folded_under_details_with_a_blank_line_for_github():
    records = audit_records()
    markdown = render_markdown(records, {"corpus": "synthetic", "backbones": ["mfcc", "ge2e"], "seed": 0})
    lines = markdown.splitlines()
    opening = lines.index(f"<details><summary>All {len(records)} gates</summary>")
    closing = lines.index("</details>")
    assert (
        lines[opening + 1] == "" and lines[closing - 1] == ""
    )  # GitHub renders Markdown inside only after a blank line
    folded = [line for line in lines[opening:closing] if line.startswith("| ")]
    assert folded[0] == "| pillar | metric | backbone | value | gate | verdict | n |"
    assert len(folded) == 1 + len(records)
    assert "| utility | UAR | `mfcc` | 0.367 | ≥ 0.6 | FAIL | 10 |" in folded
    others = lines[lines.index("## Warnings and skips") :]
    assert "- WARN `ge2e`, worst_speaker_uar: fairness.worst_speaker_uar said WARN" in others
    assert not any(
        line.startswith(("- FAIL", "- ERROR", "- PASS")) for line in others
    )  # listed once, under Failing gates


def test_a_hostile_backbone_name_stays_one_cell_of_the_matrix():
    records = [
        gate("utility.uar", HOSTILE_BACKBONE, "FAIL"),
        gate("privacy.gender_inference_uar", HOSTILE_BACKBONE, "PASS"),
    ]
    markdown = render_markdown(records, {"corpus": "synthetic", "backbones": [HOSTILE_BACKBONE], "seed": 0})
    rows = matrix_rows(markdown)
    assert len(rows) == 2  # the header and the one backbone: the newline opened no row
    ((name, cells),) = [(name, cells) for name, cells in rows.items() if name != "backbone"]
    assert cells == ["—", "FAIL", "PASS", "—", "—", "—"]
    assert (
        "\n" not in name and "injected" in name and name.startswith("``")
    )  # one code span that its backtick cannot close
    assert not any(line.startswith("| injected") for line in markdown.splitlines())


def test_github_flavoured_rendering_keeps_the_hostile_backbone_in_one_cell():
    markdown_it = pytest.importorskip("markdown_it")
    records = [gate("utility.uar", HOSTILE_BACKBONE, "FAIL")]
    markdown = render_markdown(records, {"corpus": "synthetic", "backbones": [HOSTILE_BACKBONE], "seed": 0})
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(markdown)
    first_table = tokens[next(i for i, t in enumerate(tokens) if t.type == "table_open") :]
    first_table = first_table[: next(i for i, t in enumerate(first_table) if t.type == "table_close")]
    body = first_table[next(i for i, t in enumerate(first_table) if t.type == "tbody_open") :]
    cells = [t.content for t in body if t.type == "inline"]
    # a table drops cells beyond the header's count, so a split name would show as a shifted row, not a longer one
    assert "hf:evil" in cells[0] and "injected" in cells[0] and "row" in cells[0]
    assert cells[1:] == ["—", "FAIL", "—", "—", "—", "—"]


def test_calibration_numbers_overall_and_per_gender_sit_in_one_table():
    overall = {"ece": 0.2, "brier": 0.4, "ci": {"ece": [0.15, 0.25], "brier": [0.35, 0.45]}, "reliability": {}}
    by_gender = {"ece_by_group": {"female": 0.3, "male": 0.05}, "brier_by_group": {"female": 0.5, "male": 0.3}}
    records = [
        gate("utility.ece", HOSTILE_BACKBONE, "FAIL", 0.2, bound="max", details=overall),
        gate("utility.brier", HOSTILE_BACKBONE, "PASS", 0.4, bound="max", details=overall),
        gate("fairness.ece_difference_gender", HOSTILE_BACKBONE, "FAIL", 0.25, bound="max", details=by_gender),
        *audit_records(),
    ]
    markdown = render_markdown(records, {"corpus": "synthetic", "backbones": [HOSTILE_BACKBONE], "seed": 0})
    section = markdown[markdown.index("## Calibration") : markdown.index("<details>")]
    [row] = [line for line in section.splitlines() if line.startswith("| `")]
    assert row.endswith("| 0.2 [0.15, 0.25] | 0.4 [0.35, 0.45] | female 0.3, male 0.05 | female 0.5, male 0.3 |")
    assert row.count(" | ") == 4  # the hostile name stays in its cell
    assert "## Calibration" not in render_markdown(audit_records(), {"corpus": "synthetic", "backbones": ["mfcc"]})
