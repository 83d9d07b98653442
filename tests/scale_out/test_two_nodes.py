"""A head and a second node on this machine (`ray start --head`, `ray start --address`, one CPU each):
the second node is killed while it encodes a shard, and the extraction still finishes, on the head,
with the features of a local run."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from tests.scale_out.ray_runtime import RAY_ENV, ROOT, TwoNodeCluster
from tests.scale_out.test_ray_extraction import assert_same_features
from tests.scale_out.two_node_driver import SETTINGS
from trustser.cache.store import Cache
from trustser.encoders import create
from trustser.features.extraction import extract_features

pytest.importorskip("ray", reason="Ray is not installed: pip install 'trustser[ray]'")
TIME_LIMIT_S = 240


def test_the_extraction_finishes_with_the_same_features_when_a_node_dies(small_corpus, tmp_path):
    cluster = TwoNodeCluster().start()
    driver = subprocess.Popen(
        [sys.executable, "-m", "tests.scale_out.two_node_driver", cluster.address, str(tmp_path / "ray")]
        + [str(small_corpus.directory), small_corpus.key],
        cwd=ROOT,
        env=RAY_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(TIME_LIMIT_S, driver.kill)
    watchdog.start()
    lines, killed = [], 0
    try:
        for line in driver.stdout:
            lines.append(line.rstrip())
            if not killed and " committed by pid " in line:
                worker_pid = int(line.split(" committed by pid ")[1].split()[0])
                if worker_pid in cluster.worker_node_pids():  # it is now busy with its next shard
                    killed = cluster.kill_worker_node()
        driver.wait(timeout=30)
    finally:
        watchdog.cancel()
        if driver.poll() is None:
            driver.kill()
        cluster.stop()
    output = "\n".join(lines)
    assert driver.returncode == 0 and lines[-1] == "extraction finished", output
    assert killed, output
    assert "2 Ray workers" in output and "died during shard-" in output, output
    local = extract_features(create("ge2e"), small_corpus, Cache(tmp_path / "local"), SETTINGS, progress=print)
    distributed = extract_features(create("ge2e"), small_corpus, Cache(tmp_path / "ray"), SETTINGS, progress=print)
    committed = [line.split()[0] for line in lines if " committed by " in line]
    assert sorted(committed) == [f"shard-{i:05d}" for i in range(8)], output  # each shard once: none redone
    lost = output.split(" died during ")[1].split(";")[0]
    assert output.index(f"{lost} committed by") > output.index(" died during "), output  # redone on the head
    assert_same_features(local, distributed)
