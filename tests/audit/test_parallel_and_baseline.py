"""The audit under pytest-xdist and against a baseline report, run as users run it (a subprocess).

Both use the `tones` corpus of tests/planted/tones.py (small and fast) with two backbones, so that
xdist has two groups to place on its two workers.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.suite_runs import ROOT, audit_thresholds, report_records, run_suite
from trustser.pytest_plugin.xdist import auto_workers, available_cores, backbone_of

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


def test_each_backbone_runs_on_one_worker_of_its_own(parallel):
    """Their progress lines say which worker built each backbone's features and heads: one each, not the same."""
    _, (_, _, output) = parallel
    workers = {
        backbone: set(re.findall(rf"^\[(gw\d+)\] (?:extract {backbone} |{backbone} fold)", output, flags=re.M))
        for backbone in BACKBONES.split(",")
    }
    assert all(len(found) == 1 for found in workers.values()), workers
    assert len(set.union(*workers.values())) == 2, workers


def test_a_node_id_names_its_backbone_among_its_parameters():
    backbones = ["mfcc", "hf:/models/my-mfcc", "ge2e"]
    assert backbone_of("trust_tests/test_safety.py::test_white_box_attack[ge2e-fgsm]", backbones) == "ge2e"
    assert backbone_of("trust_tests/test_x.py::test_y[fgsm-ge2e]", backbones) == "ge2e"
    assert backbone_of("trust_tests/test_x.py::test_y[hf:/models/my-mfcc]", backbones) == "hf:/models/my-mfcc"
    assert backbone_of("trust_tests/test_x.py::test_y[a-mfcc-b]", backbones) == "mfcc"
    assert backbone_of("trust_tests/test_x.py::test_y[wavlm]", backbones) is None
    assert backbone_of("trust_tests/test_x.py::test_y", backbones) is None


def test_auto_workers_are_one_per_backbone_at_most_one_per_core():
    assert auto_workers(["mfcc"]) == 1
    assert auto_workers(["b"] * 1000) == available_cores()
    assert auto_workers(["mfcc", "egemaps", "ge2e"], executor="ray") == 1  # the cluster is the parallelism


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
