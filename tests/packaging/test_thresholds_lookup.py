"""Which thresholds file gates a run: `--thresholds`, else thresholds.toml in the rootdir, else, for the
packaged suite only (`pytest --pyargs trustser.trust_tests`), the packaged defaults."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MALFORMED = ROOT / "fixtures" / "thresholds" / "unknown_key.toml"  # names utility.uar.minimum
USAGE_ERROR = int(pytest.ExitCode.USAGE_ERROR)


def collect(directory: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *arguments],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_packaged_suite_runs_on_the_packaged_defaults(tmp_path):
    done = collect(tmp_path, "--pyargs", "trustser.trust_tests")
    assert done.returncode == 0, done.stdout + done.stderr
    # deselected: the cross-corpus tests (they need --test-corpus) and export parity's (--export-parity)
    assert "168/207 tests collected (39 deselected)" in done.stdout


def test_a_thresholds_file_in_the_rootdir_comes_before_the_packaged_defaults(tmp_path):
    shutil.copy(MALFORMED, tmp_path / "thresholds.toml")
    done = collect(tmp_path, "--pyargs", "trustser.trust_tests")
    assert (
        done.returncode == USAGE_ERROR
        and f"{tmp_path / 'thresholds.toml'}: unknown key 'utility.uar.minimum'" in done.stderr
    )


def test_the_thresholds_option_comes_before_the_rootdir(tmp_path):
    shutil.copy(MALFORMED, tmp_path / "thresholds.toml")
    done = collect(tmp_path, "--pyargs", "trustser.trust_tests", "--thresholds", str(ROOT / "thresholds.toml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_teams_own_suite_never_falls_back_to_the_packaged_defaults(tmp_path):
    shutil.copytree(ROOT / "trust_tests", tmp_path / "trust_tests", ignore=shutil.ignore_patterns("__pycache__"))
    done = collect(tmp_path, "trust_tests")
    assert done.returncode == USAGE_ERROR, done.stdout + done.stderr
    assert f"no thresholds file: pass --thresholds, or add thresholds.toml to the rootdir {tmp_path}" in done.stderr
    assert "trustser init" in done.stderr
