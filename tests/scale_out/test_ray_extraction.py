"""Extraction on a local Ray runtime (2 CPUs): the same store as a local run, resumable, observable, and a
worker's error names its node and the utterance."""

from __future__ import annotations

import dataclasses
import shutil
import socket

import numpy as np
import pytest
import soundfile

from trustser.cache.store import Cache
from trustser.compute.executor import Executor
from trustser.corpora.synthetic import SyntheticCorpus
from trustser.encoders import create
from trustser.features.extraction import ExtractionError, ExtractionSettings, extract_features
from trustser.features.store import shard_name

pytest.importorskip("ray", reason="Ray is not installed: pip install 'trustser[ray]'")

# Short batches, so that the small corpus still makes several shards for two workers to share.
LOCAL = ExtractionSettings(batch_seconds=8.0, loader_workers=0)
ON_RAY = ExtractionSettings(batch_seconds=8.0, executor=Executor("ray"))


def assert_same_features(local, distributed) -> None:
    assert distributed.utterance_ids == local.utterance_ids
    for index in range(len(local.utterance_ids)):
        np.testing.assert_allclose(
            distributed.utterance_frames(index), local.utterance_frames(index), rtol=0, atol=1e-6
        )
    np.testing.assert_array_equal(distributed.samples, local.samples)
    np.testing.assert_allclose(distributed.pooled().numpy(), local.pooled().numpy(), rtol=0, atol=1e-6)


@pytest.fixture(scope="module", params=["mfcc", "ge2e"])
def both_stores(request, ray_runtime, small_corpus, tmp_path_factory):
    """(backbone, local store, store written by Ray workers, the Ray run's progress lines)."""
    root, backbone, lines = tmp_path_factory.mktemp("stores"), request.param, []
    local = extract_features(create(backbone), small_corpus, Cache(root / "local"), LOCAL, progress=lambda _: None)
    distributed = extract_features(create(backbone), small_corpus, Cache(root / "ray"), ON_RAY, progress=lines.append)
    return backbone, local, distributed, lines


def test_ray_workers_store_the_features_of_a_local_run(both_stores, small_corpus):
    _, local, distributed, lines = both_stores
    assert_same_features(local, distributed)
    assert len(distributed.shards) >= 6  # about four shards per worker: the work was shared out
    assert distributed.directory.name == local.directory.name  # same cache key: the executor is not in it
    assert distributed.extraction_energy["kwh"] > 0  # measured in the workers, summed over shards
    assert distributed.extraction_energy["audio_seconds"] == pytest.approx(local.extraction_energy["audio_seconds"])
    assert "2 Ray workers" in lines[1] and socket.gethostname() in lines[1]
    committed = [line for line in lines if " committed by " in line]
    assert len(committed) == len(distributed.shards)
    assert all("h of audio" in line and "audio s/s per worker" in line for line in committed)
    assert f"{len(small_corpus)}/{len(small_corpus)} utterances" in committed[-1]
    workers = {line.split(" committed by ")[1].split(":")[0] for line in committed}
    assert len(workers) == 2  # both workers encoded shards


@pytest.mark.parametrize("both_stores", ["mfcc"], indirect=True)
def test_a_resumed_distributed_run_redoes_only_the_uncommitted_shard(both_stores, small_corpus, tmp_path):
    backbone, _, first, _ = both_stores
    directory, lost = tmp_path / "features" / first.directory.name, 3
    shutil.copytree(first.directory, directory)
    kept = {
        shard: (directory / f"{shard_name(shard)}.bin").stat().st_mtime_ns
        for shard in range(len(first.shards))
        if shard != lost
    }
    (directory / "index.json").unlink()  # as if the run had been killed before its end...
    (directory / f"{shard_name(lost)}.json").unlink()  # ...while shard 3 was in progress
    lines = []
    resumed = extract_features(create(backbone), small_corpus, Cache(tmp_path), ON_RAY, progress=lines.append)
    assert resumed.directory == directory
    assert f"{len(first.shards) - 1} shards already committed" in lines[0]
    assert [line.split()[0] for line in lines if " committed by " in line] == [shard_name(lost)]
    assert {s: (directory / f"{shard_name(s)}.bin").stat().st_mtime_ns for s in kept} == kept
    assert_same_features(first, resumed)


def test_a_worker_error_names_the_node_and_the_utterance(ray_runtime, small_corpus, tmp_path):
    broken_dir = tmp_path / "broken"
    shutil.copytree(small_corpus.directory, broken_dir)
    victim = small_corpus.utterances[5].id
    audio, rate = soundfile.read(broken_dir / f"{victim}.wav", dtype="float32")
    soundfile.write(broken_dir / f"{victim}.wav", audio, rate // 2)  # readable, but not at the corpus's rate
    corpus = SyntheticCorpus(broken_dir, small_corpus.key + "-broken")
    one_worker = dataclasses.replace(ON_RAY, executor=Executor("ray", workers=1))  # one to start is enough here
    with pytest.raises(ExtractionError) as raised:
        extract_features(create("mfcc"), corpus, Cache(tmp_path / "cache"), one_worker, progress=lambda _: None)
    message = str(raised.value)
    assert f"utterance {victim!r}" in message and f"{victim}.wav is {rate // 2} Hz" in message
    assert f"on node {socket.gethostname()}/" in message and "extraction worker pid" in message
