"""A team's plugin declares a gate of its own, outside the trustser package, and a trust test for it: the
gate is validated from the team's thresholds.toml, fails when planted, and is reported like a built-in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.doc_examples import python_file

ROOT = Path(__file__).resolve().parents[2]

# the two files docs/plugins.md shows ("Your own gate"), as written there
TEAM_GATES = python_file("team_gates.py")
TEAM_TEST = python_file("trust_tests/test_team.py")


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("team")
    (repo / "team_gates.py").write_text(TEAM_GATES)
    (repo / "trust_tests").mkdir()
    (repo / "trust_tests" / "test_team.py").write_text(TEAM_TEST)
    shutil.copy(ROOT / "thresholds.toml", repo / "thresholds.toml")
    return repo


def audit(team: Path, gate: str, *options: str) -> tuple[subprocess.CompletedProcess, Path]:
    (team / "thresholds.toml").write_text(
        (ROOT / "thresholds.toml").read_text() + f"\n[sustainability.team_speaker_load]\n{gate}\n"
    )
    report = team / f"report-{len(list(team.glob('report-*')))}"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "trust_tests",
            "-p",
            "team_gates",
            "-p",
            "no:cacheprovider",
            "-q",
            "--backbone",
            "mfcc",
            "--corpus",
            "synthetic:speakers=4,sentences=2",
            "--trust-cache",
            str(team / "cache"),
            "--trust-report",
            str(report),
            "--junitxml",
            str(report / "junit.xml"),
            *options,
        ],
        cwd=team,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(team), str(ROOT)])),
    )
    return done, report


def test_the_teams_gate_passes_and_is_reported_in_every_format(team):
    done, report = audit(team, "max = 10\nper_speaker = 1.0")
    assert done.returncode == 0, done.stdout + done.stderr
    [record] = json.loads((report / "trust_report.json").read_text())["records"]
    assert (record["metric"], record["value"], record["verdict"]) == ("sustainability.team_speaker_load", 4.0, "PASS")
    for name in ("report.md", "report.html"):
        assert "team speaker load" in (report / name).read_text()
    assert 'value="sustainability.team_speaker_load"' in (report / "junit.xml").read_text()


def test_the_teams_gate_fails_when_planted(team):
    done, report = audit(team, "max = 10\nper_speaker = 3.0")  # 4 speakers x 3 > 10
    assert done.returncode == 1, done.stdout + done.stderr
    [record] = json.loads((report / "trust_report.json").read_text())["records"]
    assert record["verdict"] == "FAIL" and "team speaker load 12 > max 10" in record["message"]


def test_the_teams_gate_is_validated_from_its_declaration(team):
    done, _ = audit(team, "max = 10\nper_speaker = 0.0")
    assert done.returncode == int(pytest.ExitCode.USAGE_ERROR), done.stdout + done.stderr
    assert "'sustainability.team_speaker_load.per_speaker' must be a finite number > 0" in done.stderr


def test_the_teams_gate_is_gated_against_a_baseline_like_a_built_in_one(team):
    done, before = audit(team, "max = 10\nper_speaker = 1.0")
    assert done.returncode == 0, done.stdout + done.stderr
    baseline = ("--trust-baseline", str(before / "trust_report.json"))

    done, report = audit(team, "max = 10\nper_speaker = 2.0", *baseline)  # 8: within max, worse than 4
    assert done.returncode == 1, done.stdout + done.stderr
    [record] = json.loads((report / "trust_report.json").read_text())["records"]
    assert (record["verdict"], record["baseline"]) == ("FAIL", 4.0)
    assert "team speaker load 8 regressed from baseline 4" in record["message"]

    done, report = audit(team, "max = 10\nper_speaker = 2.0\nregression_abs = 5", *baseline)
    assert done.returncode == 0, done.stdout + done.stderr
    [record] = json.loads((report / "trust_report.json").read_text())["records"]
    assert record["verdict"] == "PASS" and "within 5 of baseline 4" in record["message"]
