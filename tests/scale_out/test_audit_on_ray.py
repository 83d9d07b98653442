"""The audit with `--executor ray` gives the values, CIs and verdicts of `--executor local` (mfcc and ge2e,
on a small synthetic corpus and on the default one), and shows the cluster's progress."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.scale_out.conftest import SMALL_CORPUS
from tests.scale_out.ray_runtime import RAY_ENV, ROOT

pytest.importorskip("ray", reason="Ray is not installed: pip install 'trustser[ray]'")
SMALL = (*("--corpus", SMALL_CORPUS, "--folds", "2"), *("-k", "utility or privacy or fairness or noise"))
# make test runs the small corpus (heads, privacy's shadow and DP heads, fairness, noise); the default corpus
# runs under -m slow, which .ci/run runs too: extraction, heads, fairness, noise and FGSM (three minutes),
# and with privacy and every white-box attack (six minutes)
DEFAULT = ("--corpus", "synthetic", "-k", "utility or fairness or noise or fgsm")
DEFAULT_ALL = ("--corpus", "synthetic", "-k", "utility or privacy or fairness or noise or white_box")


def audit(executor: str, workdir, scope: tuple[str, ...]) -> tuple[dict, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "trust_tests", *scope, "--executor", executor]
        + ["--backbone", "mfcc,ge2e", "--head-max-epochs", "3", "-p", "no:cacheprovider", "-q"]
        + ["--trust-cache", str(workdir / "cache"), "--trust-report", str(workdir / "report")],
        cwd=ROOT,
        env=RAY_ENV,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: some gates fail, as they should here
    records = json.loads((workdir / "report" / "trust_report.json").read_text())["records"]
    fields = ("value", "verdict", "ci_low", "ci_high", "n")
    return {(r["metric"], r["backbone"]): tuple(r[f] for f in fields) for r in records}, done.stdout + done.stderr


@pytest.mark.parametrize(
    "scope",
    [SMALL, pytest.param(DEFAULT, marks=pytest.mark.slow), pytest.param(DEFAULT_ALL, marks=pytest.mark.slow)],
    ids=["small", "default", "default-all"],
)
def test_ray_gives_the_local_audit_s_values_and_verdicts(scope, tmp_path):
    local, _ = audit("local", tmp_path / "local", scope)
    distributed, output = audit("ray", tmp_path / "ray", scope)
    assert len(local) >= 10 and {backbone for _, backbone in local} == {"mfcc", "ge2e"}
    assert distributed == local
    for backbone in ("mfcc", "ge2e"):  # progress in the pytest output while the cluster works
        assert f"extract {backbone} on synthetic" in output
    assert "Ray workers" in output and "h of audio" in output and "audio s/s per worker" in output
