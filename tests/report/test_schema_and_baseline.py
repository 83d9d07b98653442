"""The report's JSON Schema, and regression gating against a baseline report."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest

from tests.records import a_record
from trustser.formatting import plain_details
from trustser.gates.thresholds import Gate, Judgement, worst
from trustser.pillars.utility.calibration import evaluate_calibration
from trustser.report.baseline import BaselineError, load_baseline
from trustser.report.schema import report_schema
from trustser.report.writers import write_json


def schema() -> dict:
    return report_schema()


def test_written_report_validates_and_the_schema_rejects_a_broken_one(tmp_path):
    path = tmp_path / "trust_report.json"
    records = [
        a_record(),
        a_record(value=None, verdict="SKIP", n=None, ci_low=None),
        a_record(ci_low=0.6, ci_high=0.8, baseline=0.71),
    ]
    write_json(path, records, {"corpus": "synthetic", "backbones": ["mfcc"], "seed": 0, "folds": 4, "baseline": None})
    document = json.loads(path.read_text())
    jsonschema.validate(document, schema())
    document["records"][0]["verdict"] = "MAYBE"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema())
    document["records"][0].update(verdict="PASS", metric="utility.undeclared")
    with pytest.raises(jsonschema.ValidationError, match="utility.undeclared"):
        jsonschema.validate(document, schema())  # the metric list comes from the declarations


def test_a_calibration_records_reliability_diagram_is_held_to_the_schema(tmp_path):
    rng = np.random.default_rng(0)
    posteriors, y_true = rng.dirichlet(np.ones(4), 40), rng.integers(0, 4, 40)
    result = evaluate_calibration(posteriors, y_true, posteriors.argmax(1), speakers=np.arange(40) % 4, n_resamples=5)
    record = a_record(metric="utility.ece", label="expected calibration error", details=plain_details(result))
    path = tmp_path / "trust_report.json"
    write_json(path, [record], {"corpus": "synthetic", "backbones": ["mfcc"], "seed": 0, "folds": 4, "baseline": None})
    document = json.loads(path.read_text())
    jsonschema.validate(document, schema())
    assert document["records"][0]["details"]["reliability"]["count"] == [4] * 10
    del document["records"][0]["details"]["reliability"]["count"]
    with pytest.raises(jsonschema.ValidationError, match="'count' is a required property"):
        jsonschema.validate(document, schema())


def test_regression_tolerance_absolute_relative_and_direction():
    uar = Gate("utility.uar", "min", 0.6, regression_abs=0.02)
    assert uar.judge_regression(0.69, 0.70, "m").verdict == "PASS"
    failed = uar.judge_regression(0.67, 0.70, "mfcc on synthetic")
    assert failed.verdict == "FAIL" and "0.67 regressed from baseline 0.7" in failed.message
    assert uar.judge_regression(0.90, 0.70, "m").verdict == "PASS"  # better is never a regression
    energy = Gate("sustainability.energy_kwh_per_audio_hour", "max", 0.01, regression_rel=0.25)
    assert energy.judge_regression(1.2e-4, 1e-4, "m").verdict == "PASS"
    assert energy.judge_regression(1.3e-4, 1e-4, "m").verdict == "FAIL"
    strict = Gate("sustainability.parameters", "max", 1e8)
    assert strict.judge_regression(1001, 1000, "m").verdict == "FAIL"
    assert Gate("utility.uar", "min", 0.6, level="warn").judge_regression(0.1, 0.7, "m").verdict == "WARN"


def test_worst_verdict_names_every_failure():
    combined = worst(Judgement("FAIL", "below gate"), Judgement("FAIL", "regressed"), Judgement("PASS", "fine"))
    assert combined == Judgement("FAIL", "below gate; regressed")
    assert worst(Judgement("PASS", "a"), Judgement("WARN", "b")).verdict == "WARN"


def test_baseline_loading_names_the_file_on_bad_input(tmp_path):
    good = tmp_path / "good.json"
    write_json(
        good,
        [a_record(), a_record(backbone="ge2e", value=None, verdict="SKIP")],
        {"corpus": "synthetic", "backbones": ["mfcc"], "seed": 0, "folds": 4},
    )
    assert load_baseline(good) == {("utility.uar", "mfcc", "synthetic"): 0.7}
    for name, text, message in [
        ("missing.json", None, "not found"),
        ("broken.json", "{", "not a JSON trust report"),
        ("old.json", '{"schema_version": "0", "records": []}', "schema_version"),
        ("partial.json", '{"schema_version": "1", "records": [{"metric": "utility.uar"}]}', r"records\[0\]"),
    ]:
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        with pytest.raises(BaselineError, match=message) as error:
            load_baseline(path)
        assert name in str(error.value)
