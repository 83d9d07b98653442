"""--executor: parsed when pytest configures, a usage error (exit code 4) when it cannot be used, naming
what to do; `local` imports nothing of Ray."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from trustser.compute.executor import INSTALL_RAY, LOCAL, Executor, ExecutorError

ROOT = Path(__file__).resolve().parents[2]
WITHOUT_RAY = "import sys; sys.modules['ray'] = None; import pytest; sys.exit(pytest.main(sys.argv[1:]))"


def test_local_is_the_in_process_default():
    assert Executor.parse("local") == LOCAL and not LOCAL.distributed and str(LOCAL) == "local"


@pytest.mark.parametrize("spec", ["ray", "ray:auto", "ray:ray://head:10001", "ray:10.0.0.5:6379"])
def test_ray_specs_start_a_runtime_here_or_attach_to_a_cluster(spec):
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'trustser[ray]'")
    executor = Executor.parse(spec)
    assert executor.distributed and str(executor) == spec
    assert executor.address == (None if spec == "ray" else spec.removeprefix("ray:"))


@pytest.mark.parametrize("spec", ["spark", "ray:", "local:x", "dask:auto"])
def test_an_unknown_executor_names_the_choices(spec):
    with pytest.raises(ExecutorError, match=r"expected local\|ray\|ray:ADDRESS"):
        Executor.parse(spec)


def test_without_ray_the_error_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    assert Executor.parse("local") == LOCAL
    with pytest.raises(ExecutorError, match="Ray is not installed") as raised:
        Executor.parse("ray:auto")
    assert INSTALL_RAY in str(raised.value) and INSTALL_RAY == "pip install 'trustser[ray]'"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("ray", "install it with: pip install 'trustser[ray]'"), ("spark", "expected local|ray|ray:ADDRESS")],
)
def test_the_audit_stops_at_configuration_with_a_usage_error(spec, expected):
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_RAY, "trust_tests", "--collect-only", "-q", "--executor", spec],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error, before any test
    assert "ERROR: --executor" in done.stderr and spec in done.stderr and expected in done.stderr
