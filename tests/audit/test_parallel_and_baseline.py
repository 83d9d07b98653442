"""The audit under pytest-xdist and against a baseline report, run as users run it (a subprocess).

Both use the `tones` corpus of tests/planted/tones.py (small and fast) with two backbones, so that
xdist has two groups to place on its two workers.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.suite_runs import ROOT, audit_thresholds, report_records, run_suite

CORPUS = "tones:per_emotion=4"
BACKBONES = "mfcc,egemaps"


def run_audit(report: Path, cache: Path, *extra: str) -> tuple[int, list[dict], str]:
    thresholds = audit_thresholds(cache.parent / f"{cache.name}-thresholds")
    done = run_suite(
        ROOT / "trust_tests",
        cwd=ROOT,
        report=report,
        cache=cache,
        options=(
            *("-p", "tests.planted.tones", "--corpus", CORPUS, "--backbone", BACKBONES),
            *("--thresholds", str(thresholds), *extra),
        ),
    )
    return done.returncode, report_records(report), done.stdout + done.stderr


def outcome(records: list[dict]) -> dict[tuple[str, str], tuple[str, float | None]]:
    return {(r["metric"], r["backbone"]): (r["verdict"], r["value"]) for r in records}


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def parallel(tmp_path_factory, cache):
    """`pytest -n 2` first, on an empty cache: the workers build features and heads under file locks."""
    report = tmp_path_factory.mktemp("parallel")
    return report, run_audit(report, cache, "-n", "2")


def test_parallel_and_serial_audits_agree_and_keep_their_junit_properties(parallel, cache, tmp_path):
    report, (code, records, output) = parallel
    serial_code, serial_records, serial_output = run_audit(tmp_path, cache)
    assert outcome(records) == outcome(serial_records), output + serial_output
    assert code == serial_code, output + serial_output
    cases = ElementTree.parse(report / "junit.xml").getroot().iter("testcase")
    for case in cases:  # every test, the skipped ones included, says what it measured or why not
        names = {p.get("name") for p in case.iter("property")}
        assert {"pillar", "metric", "value", "threshold", "backbone", "corpus"} <= names, case.get("name")
    assert (report / "report.html").exists() and (report / "predictions.csv").exists()


def test_a_planted_regression_fails_exactly_the_regressed_tests(parallel, cache, tmp_path):
    """The baseline claims a smaller model and fewer FLOPs for mfcc than it has now: a regression of exactly
    those two metrics (the rest of the baseline is the run itself, so nothing else changed)."""
    report, (_, records, _) = parallel
    planted = {("sustainability.parameters", "mfcc"), ("sustainability.gflops_per_audio_second", "mfcc")}
    baseline = json.loads((report / "trust_report.json").read_text())
    for record in baseline["records"]:
        if (record["metric"], record["backbone"]) in planted:
            record["value"] = record["value"] * 0.5
    baseline_path = tmp_path / "baseline.json"
    baseline_path.write_text(json.dumps(baseline))
    code, regressed, output = run_audit(tmp_path / "run", cache, "--trust-baseline", str(baseline_path))
    before = outcome(records)
    changed = {key for key, (verdict, _) in outcome(regressed).items() if verdict != before[key][0]}
    assert changed == planted, output
    assert all(outcome(regressed)[key][0] == "FAIL" for key in planted)
    assert "regressed from baseline" in output and code == 1
