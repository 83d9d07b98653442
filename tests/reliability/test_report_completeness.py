"""Every collected trust test is a row of every report: a crash is an ERROR with its reason, a NaN is
"not measured", and neither stops the writers (issue: hostile inputs, items 2 and 3)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.suite_runs import ROOT, run_suite

TRUST_TESTS = """
import pytest

from trustser.gates.measurement import Measurement

@pytest.mark.trust("utility.uar")
def test_crashes(backbone, trust):
    raise RuntimeError("the evaluator fell over\\nwith a second line")

@pytest.mark.trust("utility.accuracy")
def test_not_a_number(backbone, trust):
    trust.check(Measurement(float("nan"), n=3))

@pytest.fixture
def broken_fixture():
    raise OSError("fixture could not open its input")

@pytest.mark.trust("fairness.statistical_parity_gender")
def test_setup_crashes(backbone, trust, broken_fixture):
    trust.check(Measurement(0.0, n=3))

@pytest.mark.trust("privacy.membership_advantage")
def test_passes(backbone, trust):
    trust.check(Measurement(0.0, n=3))
"""


def audit_of(tests: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict, str, str]:
    (tmp_path / "test_hostile.py").write_text(tests)
    report = tmp_path / "report"
    done = run_suite(
        tmp_path / "test_hostile.py",
        cwd=tmp_path,
        report=report,
        options=("--rootdir", str(tmp_path), "--thresholds", str(ROOT / "thresholds.toml"), "--backbone", "mfcc"),
        timeout=300,
    )
    document = json.loads((report / "trust_report.json").read_text())
    return done, document, (report / "report.md").read_text(), (report / "report.html").read_text()


def test_crashed_and_nan_tests_are_error_rows_in_every_report(tmp_path):
    done, document, markdown, html = audit_of(TRUST_TESTS, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    verdicts = {r["metric"]: r for r in document["records"]}
    assert len(document["records"]) == 4  # as many rows as collected tests
    assert {m: r["verdict"] for m, r in verdicts.items()} == {
        "utility.uar": "ERROR",
        "utility.accuracy": "ERROR",
        "fairness.statistical_parity_gender": "ERROR",
        "privacy.membership_advantage": "PASS",
    }
    assert "RuntimeError: the evaluator fell over" in verdicts["utility.uar"]["message"]
    assert "second line" not in verdicts["utility.uar"]["message"]  # one line
    assert "fixture could not open its input" in verdicts["fairness.statistical_parity_gender"]["message"]
    assert verdicts["utility.accuracy"]["value"] is None and "nan" in verdicts["utility.accuracy"]["message"]
    assert document["summary"] == {
        "status": "complete",
        "collected": 4,
        "reported": 4,
        "missing": [],
        "reason": None,
        "ERROR": 3,
        "PASS": 1,
    }
    lines = markdown.splitlines()
    folded = lines[lines.index("<details><summary>All 4 gates</summary>") : lines.index("</details>")]
    table = [line for line in folded if line.startswith("| ") and "`mfcc`" in line]
    assert len(table) == 4 and sum("| ERROR |" in line for line in table) == 3
    assert "| `mfcc` | — | ERROR | PASS | ERROR | — | — |" in lines  # by pillar: an ERROR never hidden
    assert sum(line.startswith("- ERROR `mfcc`") for line in lines) == 3  # each crash under Failing gates
    assert "not measured" in markdown and "3 ERROR" in markdown
    assert html.count('class="ERROR"') >= 3


def test_a_passing_run_writes_no_error_rows(tmp_path):
    passing = (
        "import pytest\n\nfrom trustser.gates.measurement import Measurement\n\n"
        '@pytest.mark.trust("privacy.membership_advantage")\n'
        "def test_passes(backbone, trust):\n    trust.check(Measurement(0.0, n=3))\n"
    )
    done, document, _, _ = audit_of(passing, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r["verdict"] for r in document["records"]] == ["PASS"]


def test_a_trust_test_without_a_gate_stops_the_run_at_collection(tmp_path):
    (tmp_path / "test_ungated.py").write_text(
        'import pytest\n\n@pytest.mark.trust("utility.no_such_metric")\n'
        "def test_x(backbone, trust):\n    trust.check(1.0)\n"
    )
    done = run_suite(
        tmp_path / "test_ungated.py",
        cwd=tmp_path,
        report=tmp_path / "report",
        options=("--rootdir", str(tmp_path), "--thresholds", str(ROOT / "thresholds.toml"), "--backbone", "mfcc"),
        timeout=300,
    )
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error, not a failed gate
    assert "utility.no_such_metric" in done.stderr and "test_x" in done.stderr
    assert done.stderr.count("no gate") == 1
