"""Installed, the plugin is loaded into every pytest run of the environment: a team's own suite, which
collects no trust test and uses no trust option, must run exactly as it does with `-p no:trustser`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

# A team's suite whose names overlap the audit's: a fixture called `backbone`, a test parametrized over
# `backbone`, a trustser exception raised outside the audit, and a thresholds.toml of another tool.
CONFTEST = """
import os
import sys
from pathlib import Path

import pytest


@pytest.fixture
def backbone():
    return "resnet18"


def pytest_unconfigure(config):  # after the whole session, every plugin's sessionfinish included
    heavy = {"torch", "numpy"} & set(sys.modules)
    Path(config.rootpath, f"heavy-imports-{os.getpid()}.txt").write_text(" ".join(sorted(heavy)))
"""

TESTS = """
import sys

import pytest

from trustser.errors import NotApplicable


def test_own_backbone_fixture(backbone):
    assert backbone == "resnet18"


@pytest.mark.parametrize("backbone", ["small", "large"])
def test_own_backbone_parameter(backbone):
    assert backbone in ("small", "large")


def test_nothing_heavy_was_imported_so_far():
    assert not {"torch", "numpy"} & set(sys.modules)


def test_a_trustser_exception_outside_the_audit_is_an_ordinary_failure():
    raise NotApplicable("only a trust test turns this into a skip")


@pytest.mark.skip(reason="skipped by the team")
def test_skipped_by_the_team():
    pass
"""

FOREIGN_THRESHOLDS = "[latency]\np99_ms = 250\n"  # another tool's file of the same name in the rootdir

EXPECTED = {
    "test_own_backbone_fixture": "passed",
    "test_own_backbone_parameter[small]": "passed",
    "test_own_backbone_parameter[large]": "passed",
    "test_nothing_heavy_was_imported_so_far": "passed",
    "test_a_trustser_exception_outside_the_audit_is_an_ordinary_failure": "failure",
    "test_skipped_by_the_team": "skipped",
}


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Path:
    repository = tmp_path_factory.mktemp("team")
    (repository / "conftest.py").write_text(CONFTEST)
    (repository / "test_team.py").write_text(TESTS)
    (repository / "thresholds.toml").write_text(FOREIGN_THRESHOLDS)
    return repository


def run(team: Path, *options: str) -> tuple[dict[str, str], str]:
    """Each test's outcome (from the JUnit report), and the plugins pytest's header lists as loaded; no
    process of the run imported torch or numpy, up to its very end."""
    junit = team / "junit.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--junitxml", str(junit), *options],
        cwd=team,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == int(pytest.ExitCode.TESTS_FAILED), done.stdout + done.stderr  # the one planted failure
    outcomes = {case.get("name"): outcome(case) for case in ElementTree.parse(junit).getroot().iter("testcase")}
    plugins = next(line for line in done.stdout.splitlines() if line.startswith("plugins:"))
    heavy = {path.read_text() for path in team.glob("heavy-imports-*.txt")}  # one per process, xdist workers too
    assert heavy == {""}, heavy
    for path in [junit, *team.glob("heavy-imports-*.txt")]:
        path.unlink()
    return outcomes, plugins


def outcome(case: ElementTree.Element) -> str:
    return next((tag for tag in ("failure", "error", "skipped") if case.find(tag) is not None), "passed")


@pytest.mark.parametrize("parallel", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_team_suite_runs_the_same_with_the_plugin_and_without_it(team, parallel):
    with_plugin, plugins = run(team, *parallel)
    assert "trustser-" in plugins, plugins  # it was loaded, from its entry point
    without_plugin, plugins = run(team, *parallel, "-p", "no:trustser")
    assert "trustser-" not in plugins, plugins
    assert with_plugin == without_plugin == EXPECTED
    assert not (team / "trust-report").exists()
