"""A team's conftest may own `--model` or `--seed`: installing TrustSER must not break its test runs,
and the audit stays reachable under the `--trust-` names (trustser.pytest_plugin.options)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TEAM_CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--model", default="resnet")
    parser.addoption("--seed", type=int, default=7)
"""

TEAM_TEST = """
def test_the_team_options(request):
    assert (request.config.getoption("--model"), request.config.getoption("--seed")) == ("convnext", 7)
"""


def pytest_run(repo: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *arguments],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )


@pytest.fixture
def team(tmp_path) -> Path:
    (tmp_path / "conftest.py").write_text(TEAM_CONFTEST)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_team.py").write_text(TEAM_TEST)
    return tmp_path


def test_a_team_conftest_keeps_its_own_option_names(team):
    done = pytest_run(team, "tests", "--model", "convnext", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "trustser" not in done.stdout  # inert: nothing said about the audit in an unrelated run


def test_the_audit_takes_its_trust_names_beside_a_team_conftest(team):
    done = pytest_run(
        team, "--pyargs", "trustser.trust_tests", "--collect-only", "-q", "--trust-backbone", "ge2e", "--model", "x"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected and all("[ge2e" in line for line in collected), done.stdout
    assert "--model, --seed belong to this repository's conftest here; use --trust-model, --trust-seed" in done.stdout


def test_the_short_names_work_where_they_are_free(tmp_path):
    done = pytest_run(tmp_path, "--pyargs", "trustser.trust_tests", "--collect-only", "-q", "--backbone", "mfcc")
    assert done.returncode == 0, done.stdout + done.stderr
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected and all("[mfcc" in line for line in collected), done.stdout
    assert "belong to this repository's conftest" not in done.stdout
