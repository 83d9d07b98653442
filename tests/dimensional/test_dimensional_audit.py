"""Finished regression models go through every pillar of a dimensional audit, as users run it:
`pytest trust_tests --task dimensional --model hf:<dir>,torch:...` on a tiny random
`Wav2Vec2ForSequenceClassification` (problem_type="regression", three outputs) saved locally and a
`torch:` model declaring `attributes`. Random weights make poor models, so verdicts may fail; what is
checked is that no test errs, every pillar measured each model, and the categorical gates SKIP saying why."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import pytest

from tests.encoders.tiny_checkpoints import save_wav2vec_family
from tests.suite_runs import ROOT, report_records, run_suite

PILLARS = ("protocol", "utility", "privacy", "fairness", "safety", "sustainability")
TORCH_MODEL = "torch:trustser.testing.examples:tiny_attribute_model"


@pytest.mark.slow  # about 90 s on two cores: every pillar, two models
def test_finished_regression_models_are_audited_end_to_end(tmp_path):
    regressor = save_wav2vec_family(tmp_path / "regressor", "wav2vec2", regression=True, feat_extract_norm="group")
    report = tmp_path / "report"
    done = run_suite(
        ROOT / "trust_tests",
        cwd=tmp_path,
        report=report,
        cache=tmp_path / "cache",
        options=(
            *("--corpus", "synthetic:speakers=4,sentences=2", "--task", "dimensional"),
            *("--model", f"hf:{regressor},{TORCH_MODEL}"),
        ),
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    suite = ET.parse(report / "junit.xml").getroot().find("testsuite")
    assert suite.get("errors") == "0", done.stdout[-3000:]

    records = report_records(report)
    models = {f"model:hf:{regressor}", f"model:{TORCH_MODEL}"}
    measured = {
        model: {r["pillar"] for r in records if r["backbone"] == model and r["verdict"] != "SKIP"} for model in models
    }
    assert all(pillars == set(PILLARS) for pillars in measured.values()), measured
    verdicts = {(r["backbone"], r["metric"]): r for r in records}
    for model in models:
        for metric in ("utility.ccc_arousal", "fairness.signed_error_difference_gender", "safety.noise_ccc_drop"):
            assert verdicts[(model, metric)]["verdict"] != "SKIP", verdicts[(model, metric)]
        assert verdicts[(model, "safety.pgd_shift_success_rate")]["verdict"] != "SKIP"
        uar = verdicts[(model, "utility.uar")]
        assert (
            uar["verdict"] == "SKIP" and "judges categorical models; this audit's task is dimensional" in uar["message"]
        )
    meta = json.loads((report / "trust_report.json").read_text())["meta"]
    assert meta["task"] == "dimensional" and meta["corpus_summary"]["attribute_scale"] == "1-7"
    markdown = (report / "report.md").read_text()
    assert "task dimensional" in markdown and "CCC of arousal" in markdown
    with open(report / "predictions.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {"true_arousal", "predicted_valence"} <= set(rows[0]) and 1 <= float(rows[0]["true_arousal"]) <= 7


def test_a_classifier_in_a_dimensional_audit_stops_the_run_naming_why(tmp_path):
    done = run_suite(
        ROOT / "trust_tests" / "test_utility.py",
        cwd=tmp_path,
        cache=tmp_path / "cache",
        options=(
            "--corpus",
            f"msp_podcast:{ROOT / 'fixtures' / 'corpora' / 'msp_podcast'}",
            "--task",
            "dimensional",
            "--model",
            "torch:trustser.testing.examples:tiny_model",
        ),
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 4, output[-2000:]
    assert (
        "is a classifier (labels ['neu', 'hap', 'sad', 'ang']); --task dimensional audits regression models" in output
    )
