"""One local Ray runtime (2 CPUs) per test module, and a small synthetic corpus, for the scale-out tests."""

from __future__ import annotations

import shutil

import pytest

from tests.scale_out.ray_runtime import OBJECT_STORE_BYTES, RAY_ENV, short_temp_dir

SMALL_CORPUS = "synthetic:speakers=4,sentences=4"


@pytest.fixture(scope="module")
def ray_runtime():
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'trustser[ray]'")
    temp_dir = short_temp_dir()
    with pytest.MonkeyPatch.context() as patch:
        for name in ("RAY_AUTH_MODE", "PYTHONPATH", "OMP_NUM_THREADS", "RAY_USAGE_STATS_ENABLED"):
            patch.setenv(name, RAY_ENV[name])  # the runtime's processes inherit them
        ray.init(
            num_cpus=2,
            num_gpus=0,
            include_dashboard=False,
            object_store_memory=OBJECT_STORE_BYTES,
            _node_ip_address="127.0.0.1",
            _temp_dir=str(temp_dir),
            log_to_driver=False,
        )
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus")


@pytest.fixture(scope="module")
def small_corpus(corpus_root):
    from trustser.corpora import create

    return create(SMALL_CORPUS, corpus_root, "skip")
