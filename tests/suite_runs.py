"""Running a trust suite in a child pytest, as a user would: the one command line the audit tests build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.planted.thresholds_edit import thresholds_with

ROOT = Path(__file__).resolve().parents[1]
SHORT_ENERGY_WINDOW = {"sustainability.energy_kwh_per_audio_hour": {"window_seconds": 0.5, "windows": 1}}
"""Inference energy in one 0.5 s window instead of the shipped three of 4 s: 12 s of codecarbon windows per
backbone and audit are a measurement's cost, not what an audit test checks (tests/sustainability checks the
windows themselves); the gates and their bounds stay the shipped ones."""


def suite_command(
    *targets: str | Path,
    report: Path | None = None,
    cache: Path | None = None,
    options: Sequence[str] = (),
    pythonpath: Sequence[Path] = (ROOT,),
    environment: dict[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """`python -m pytest TARGETS -q -p no:cacheprovider [--trust-cache CACHE] [--trust-report REPORT
    --junitxml REPORT/junit.xml] OPTIONS`, and its environment: `pythonpath` first on the child's
    sys.path and `environment` added to this process's.

    One torch thread: the audited models are tiny, and on a shared machine torch's thread pool costs
    up to 10x the time.
    """
    command = [sys.executable, "-m", "pytest", *map(str, targets), "-q", "-p", "no:cacheprovider"]
    if cache is not None:
        command += ["--trust-cache", str(cache)]
    if report is not None:
        command += ["--trust-report", str(report), "--junitxml", str(report / "junit.xml")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, pythonpath)), OMP_NUM_THREADS="1", **(environment or {}))
    return [*command, *options], env


def run_suite(
    *targets: str | Path,
    cwd: Path,
    report: Path | None = None,
    cache: Path | None = None,
    options: Sequence[str] = (),
    pythonpath: Sequence[Path] = (ROOT,),
    environment: dict[str, str] | None = None,
    timeout: int = 600,
) -> subprocess.CompletedProcess:
    """Run `suite_command(...)` in `cwd` to its end."""
    command, env = suite_command(
        *targets, report=report, cache=cache, options=options, pythonpath=pythonpath, environment=environment
    )
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def audit_thresholds(directory: Path, changes: dict[str, dict[str, object]] | None = None) -> Path:
    """`directory`/thresholds.toml: the shipped thresholds.toml with `SHORT_ENERGY_WINDOW` and `changes`."""
    merged = {metric: dict(settings) for metric, settings in SHORT_ENERGY_WINDOW.items()}
    for metric, settings in (changes or {}).items():
        merged.setdefault(metric, {}).update(settings)
    directory.mkdir(parents=True, exist_ok=True)
    return thresholds_with(ROOT / "thresholds.toml", directory / "thresholds.toml", merged)


def report_records(report: Path) -> list[dict]:
    """The records of the trust_report.json in `report`."""
    return json.loads((report / "trust_report.json").read_text())["records"]
