"""What reviewers read cannot be rewritten by what the audit was fed: manifest paths, speaker ids and
labels stay text in Markdown and CSV, and a value that is not a number never aborts a writer."""

from __future__ import annotations

import csv
import json
import math
import re

from tests.records import a_record
from trustser.report import writers

HOSTILE = "corpus.csv\n```\n| fake | All gates | `x` | 1 | ≥ 0 | PASS | 1 |\n<img src=x onerror=alert(1)>"


def test_markdown_keeps_hostile_strings_inside_their_cell_or_block(monkeypatch):
    monkeypatch.setattr(writers, "corpus_summary_text", lambda summary: f"manifest: {HOSTILE}\n````\nstill inside")
    records = [
        a_record(backbone=HOSTILE, verdict="FAIL", message=HOSTILE),
        a_record(metric="utility.accuracy", label=HOSTILE),
    ]
    markdown = writers.render_markdown(
        records, {"corpus": HOSTILE, "backbones": [HOSTILE], "seed": 0, "corpus_summary": {"spec": "hostile"}}
    )
    lines = markdown.splitlines()
    corpus = lines.index("## Corpus")
    matrix, folded = lines.index("## By pillar"), lines.index(f"<details><summary>All {len(records)} gates</summary>")
    assert sum(line.startswith("| ") for line in lines[matrix:folded]) == 1 + 2  # the header, HOSTILE and mfcc
    assert sum(line.startswith("| ") for line in lines[folded:corpus]) == 1 + len(
        records
    )  # the header and one row per record
    fence = lines[corpus + 2]
    assert set(fence) == {"`"} and len(fence) > 4  # longer than any backtick run in the block
    closing = lines.index(fence, corpus + 3)
    assert "still inside" in lines[closing - 1]  # the block ends where the writer ended it
    assert not any(line.startswith("| fake") for line in lines[closing + 1 :])
    outside_code = [re.sub(r"(`+) .*? \1|`[^`]*`", "", line) for line in lines[:corpus] + lines[closing + 1 :]]
    assert not any("<img" in line for line in outside_code)  # raw HTML only ever inside code, where it is text


def test_csv_cells_that_start_like_formulas_are_text(tmp_path):
    row = dict(
        backbone="mfcc",
        fold=0,
        utterance_id='=HYPERLINK("http://evil","x")',
        speaker="+1-555",
        gender="@f",
        true_emotion="-neutral",
        predicted_emotion="happy",
    )
    writers.write_prediction_rows(tmp_path / "predictions.csv", [row])
    with open(tmp_path / "predictions.csv", newline="") as handle:
        written = next(csv.DictReader(handle))
    assert written["utterance_id"] == "'" + row["utterance_id"]
    assert (written["speaker"], written["gender"], written["true_emotion"]) == ("'+1-555", "'@f", "'-neutral")
    assert written["predicted_emotion"] == "happy" and written["fold"] == "0"


def test_json_writes_nan_and_infinity_as_null(tmp_path):
    records = [a_record(value=math.nan, details={"per_fold": [math.inf, 0.5], "ci": (math.nan, 1.0)})]
    writers.write_json(tmp_path / "trust_report.json", records, {"corpus": "synthetic"})
    written = json.loads((tmp_path / "trust_report.json").read_text())["records"][0]
    assert written["value"] is None and written["details"] == {"per_fold": [None, 0.5], "ci": [None, 1.0]}
