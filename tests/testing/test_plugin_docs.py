"""docs/plugins.md's example runs as written: its two files pass as a plugin author's own test suite,
and the failure it quotes is the one `check_encoder` raises."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.doc_examples import code_blocks, write_python_file
from trustser.testing import check_encoder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    """A folder holding the doc's plugin module and its tests, each under the name on its first line."""
    folder = tmp_path_factory.mktemp("plugin")
    for name in ("my_plugin.py", "test_my_plugin.py"):
        write_python_file(folder, name)
    return folder


def test_the_example_passes_as_a_plugin_test_suite(plugin):
    # outside this repository: no rootdir conftest, only trustser and the two files importable
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(plugin)]), OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_plugin.py"],
        cwd=plugin,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "13 passed" in done.stdout  # 11 encoder rules, the corpus, the misdeclared encoder


def test_the_quoted_failure_is_what_check_encoder_raises(plugin):
    spec = importlib.util.spec_from_file_location("my_plugin", plugin / "my_plugin.py")
    my_plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(my_plugin)

    class Misdeclared(my_plugin.FrameProjection):
        num_layers = 3

    with pytest.raises(AssertionError) as raised:
        check_encoder(Misdeclared())
    (quoted,) = code_blocks("text")
    assert quoted.strip() == f"AssertionError: {raised.value}"
