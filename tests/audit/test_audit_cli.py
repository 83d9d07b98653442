"""The audit's command line: collection, malformed thresholds, options, JUnit properties."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pytest_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", str(ROOT / "trust_tests"), "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "fixture, key",
    [("unknown_key.toml", "utility.uar.minimum"), ("wrong_type.toml", "safety.fgsm_success_rate.budget_db")],
)
def test_malformed_thresholds_fail_at_collection_naming_the_key(fixture, key, tmp_path):
    done = pytest_run("--collect-only", "--thresholds", str(ROOT / "fixtures" / "thresholds" / fixture), cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error
    assert key in done.stderr and fixture in done.stderr


def test_every_pillar_test_is_parametrized_over_the_default_backbones(tmp_path):
    done = pytest_run("--collect-only", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    tests = [line for line in done.stdout.splitlines() if "::" in line]
    assert {t.split("::")[0].split("/")[-1] for t in tests} == {
        f"test_{pillar}.py" for pillar in ("protocol", "utility", "privacy", "fairness", "safety", "sustainability")
    }
    backbone_of = [t.split("[", 1)[1].split("-")[0].rstrip("]") for t in tests]  # ids: [mfcc] or [mfcc-fgsm]
    assert (
        len(tests) == 3 * backbone_of.count("mfcc") == 3 * backbone_of.count("egemaps") == 3 * backbone_of.count("ge2e")
    )


@pytest.mark.parametrize(
    "option, message",
    [
        (("--batch-seconds", "0"), "--batch-seconds must be positive"),
        (("--device", "tpu"), "expected auto|cpu|cuda|cuda:N"),
        (("--feature-dtype", "int8"), "invalid choice: 'int8'"),
        (("--head-max-epochs", "0"), "--head-max-epochs must be at least 1"),
    ],
)
def test_bad_compute_options_stop_the_run_before_any_test(option, message, tmp_path):
    done = pytest_run("--collect-only", *option, cwd=tmp_path)
    assert done.returncode in (2, 4), done.stdout + done.stderr  # usage errors: argparse's and pytest's
    assert message in done.stderr


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_a_gpu_the_machine_lacks_is_a_usage_error(tmp_path):
    done = pytest_run("--collect-only", "--device", "cuda", cwd=tmp_path)
    assert done.returncode == 4 and "torch sees no CUDA GPU" in done.stderr and "--device cpu" in done.stderr
