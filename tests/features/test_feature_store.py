"""The streaming feature store: same features as encoding directly, resumable, checked, bounded batches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.features.noise_corpus import NoiseCorpus
from tests.processes import descendants, kill_all, survivors
from trustser.cache.store import Cache
from trustser.compute.devices import CPU, Compute, DeviceError, resolve_device
from trustser.encoders import create
from trustser.encoders.base import pad_waveforms
from trustser.features.extraction import (
    ExtractionError,
    ExtractionSettings,
    InsufficientDisk,
    encode_batch,
    extract_features,
    feature_key,
)
from trustser.features.store import StoreError, shard_name

ROOT = Path(__file__).resolve().parents[2]
SMALL_SHARDS = ExtractionSettings(batch_seconds=6.0, shard_mib=0.3, loader_workers=0)


def _alone(encoder, wave: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        layers, lengths = encoder(*pad_waveforms([wave]))
    return layers[0, :, : int(lengths[0])].transpose(0, 1).numpy()


@pytest.fixture(scope="module")
def corpus():
    return NoiseCorpus(40)


@pytest.fixture(scope="module")
def stored(corpus, tmp_path_factory):
    lines = []
    features = extract_features(
        create("mfcc"), corpus, Cache(tmp_path_factory.mktemp("cache")), SMALL_SHARDS, progress=lines.append
    )
    return features, lines


def test_the_store_holds_what_the_encoder_computes_utterance_by_utterance(corpus, stored):
    features, _ = stored
    encoder = create("mfcc")
    assert len(features.shards) > 3  # several shards, so reads cross shard files
    for i in range(len(corpus)):
        wave = corpus.load_audio(corpus.utterances[i].id)
        np.testing.assert_allclose(features.utterance_frames(i), _alone(encoder, wave), rtol=0, atol=1e-4)
        assert features.samples[i] == len(wave)
    expected_pooled = np.stack([features.utterance_frames(i).astype(np.float64).mean(0) for i in range(len(corpus))])
    np.testing.assert_allclose(features.pooled().numpy(), expected_pooled, rtol=1e-6)
    layers, lengths = features.batch([3, 0, 7])
    assert layers.shape == (3, 3, int(lengths.max()), 40) and lengths.tolist() == [
        features.frame_count(i) for i in (3, 0, 7)
    ]
    np.testing.assert_array_equal(layers[1, :, : lengths[1]].transpose(0, 1).numpy(), features.utterance_frames(0))
    assert float(layers[1, :, lengths[1] :].abs().sum()) == 0.0  # padding is zero


def test_extraction_says_what_it_stores_where_and_how_far_it_is(stored):
    features, lines = stored
    assert "40 utterances" in lines[0] and "GiB" in lines[0] and str(features.directory) in lines[0]
    assert "free" in lines[0] and "float32" in lines[0]
    assert all("utterances" in line and "h of audio" in line and "ETA" in line for line in lines[1:])
    assert lines[-1].strip().startswith(f"{shard_name(len(features.shards) - 1)} committed: 40/40 utterances")


def test_batches_are_bounded_by_padded_audio_seconds(corpus, stored):
    import json

    features, _ = stored
    plan = json.loads((features.directory / "plan.json").read_text())
    seconds = plan["seconds"]
    batches = [batch for shard in plan["shards"] for batch in shard]
    assert sorted(u for batch in batches for u in batch) == list(range(len(corpus)))
    for batch in batches:
        assert len(batch) == 1 or len(batch) * max(seconds[u] for u in batch) <= SMALL_SHARDS.batch_seconds


def test_a_second_extraction_reuses_the_store(corpus, stored):
    features, _ = stored
    lines = []
    again = extract_features(
        create("mfcc"), corpus, Cache(features.directory.parents[1]), SMALL_SHARDS, progress=lines.append
    )
    assert again.directory == features.directory and lines == []


def test_float16_storage_halves_the_disk_and_stays_within_its_precision(corpus, stored, tmp_path):
    features, _ = stored
    half = extract_features(
        create("mfcc"),
        corpus,
        Cache(tmp_path),
        ExtractionSettings(batch_seconds=6.0, shard_mib=0.3, loader_workers=0, feature_dtype="float16"),
        progress=lambda line: None,
    )
    size = lambda store: sum(p.stat().st_size for p in store.directory.glob("shard-*.bin") if ".pooled" not in p.name)  # noqa: E731
    assert size(half) * 2 == size(features)
    for i in range(0, len(corpus), 5):
        full = features.utterance_frames(i)
        np.testing.assert_allclose(
            half.utterance_frames(i).astype(np.float32), full, rtol=1e-3, atol=1e-3 * np.abs(full).max()
        )
    assert feature_key(create("mfcc"), corpus, ExtractionSettings(feature_dtype="float16")) != feature_key(
        create("mfcc"), corpus
    )


def test_a_damaged_shard_is_named_when_read_and_recomputed_on_the_next_extraction(corpus, tmp_path):
    cache = Cache(tmp_path)
    features = extract_features(create("mfcc"), corpus, cache, SMALL_SHARDS, progress=lambda line: None)
    damaged = features.directory / f"{shard_name(1)}.bin"
    original = damaged.read_bytes()
    flipped = bytearray(original)
    flipped[100] ^= 0xFF
    damaged.write_bytes(bytes(flipped))
    reopened = type(features).open(features.directory)
    victim = reopened.shards[1].utterances[0]
    with pytest.raises(StoreError, match=str(damaged)):
        reopened.utterance_frames(victim)
    (features.directory / "index.json").unlink()  # as if the run had been interrupted before finishing
    lines = []
    extract_features(create("mfcc"), corpus, cache, SMALL_SHARDS, progress=lines.append)
    assert damaged.read_bytes() == original
    assert f"{len(features.shards) - 1} shards already committed" in lines[0]


def test_extraction_stops_before_encoding_when_the_disk_is_too_small(corpus, tmp_path, monkeypatch):
    import shutil

    import trustser.features.extraction as extraction

    monkeypatch.setattr(
        extraction.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1 << 30, 1 << 30, 1 << 20)
    )
    with pytest.raises(
        InsufficientDisk, match=r"needs ~0\.\d+ GiB in .*features.* only 0\.00 GiB is free.*--trust-cache"
    ):
        extract_features(create("ssl_shaped"), corpus, Cache(tmp_path), progress=lambda line: None)
    assert not list(tmp_path.glob("features/*/shard-*"))


class _OutOfMemoryAbove(torch.nn.Module):
    """mfcc, but raising CUDA's out-of-memory error for batches larger than `limit` (as a small GPU would)."""

    def __init__(self, limit: int):
        super().__init__()
        self.inner, self.limit, self.sizes = create("mfcc"), limit, []
        self.sample_rate = self.inner.sample_rate

    def forward(self, waveforms, lengths):
        self.sizes.append(len(waveforms))
        if len(waveforms) > self.limit:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")
        return self.inner(waveforms, lengths)


def test_out_of_memory_halves_the_batch_reports_it_and_gives_the_same_frames(corpus):
    waves = [corpus.load_audio(u.id) for u in corpus.utterances[:8]]
    encoder, lines = _OutOfMemoryAbove(limit=2), []
    frames = encode_batch(encoder, waves, CPU, progress=lines.append)
    assert encoder.sizes == [8, 4, 2, 2, 4, 2, 2]
    assert lines[0].strip() == "out of memory on cpu with 8 utterances: batch halved to 4 + 4" and len(lines) == 3
    for wave, got in zip(waves, frames):
        np.testing.assert_allclose(got.numpy(), _alone(encoder.inner, wave), atol=1e-4)
    with pytest.raises(ExtractionError, match="does not fit in the memory of cpu even alone"):
        encode_batch(_OutOfMemoryAbove(limit=0), waves[:2], CPU, progress=lines.append)


def test_devices_resolve_or_say_why_not():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceError, match="expected auto|cpu|cuda|cuda:N"):
        resolve_device("tpu")
    assert Compute.resolve("cpu", "fp16").precision == "fp32"  # autocast is for GPUs; the CPU stays exact
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="torch sees no CUDA GPU"):
            resolve_device("cuda:0")


_KILLABLE = textwrap.dedent("""
    import sys, time
    import torch
    from tests.features.noise_corpus import NoiseCorpus
    from trustser.cache.store import Cache
    from trustser.encoders.mfcc import MFCCEncoder
    from trustser.features.extraction import ExtractionSettings, extract_features

    class SlowMFCC(MFCCEncoder):  # same name, configuration and weights: the same store
        def forward(self, waveforms, lengths):
            time.sleep(float(sys.argv[2]))
            return super().forward(waveforms, lengths)

    settings = ExtractionSettings(batch_seconds=6.0, shard_mib=0.3, loader_workers=1)
    extract_features(SlowMFCC(), NoiseCorpus(40), Cache(sys.argv[1]), settings, progress=print)
""")


def _extract_in_subprocess(cache: Path, delay: float) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", _KILLABLE, str(cache), str(delay)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_an_extraction_killed_mid_run_leaves_no_worker_and_resumes_from_its_committed_shards_bit_identically(tmp_path):
    interrupted, clean = tmp_path / "interrupted", tmp_path / "clean"
    process = _extract_in_subprocess(interrupted, delay=0.3)
    deadline = time.monotonic() + 120
    while len(list(interrupted.glob("features/*/shard-*.json"))) < 3:
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "no shard committed in 120 s"
        time.sleep(0.05)
    workers = descendants(process.pid)  # the decoding worker (loader_workers=1)
    assert workers, "the extraction started no decoding worker"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    try:  # none outlives the killed extraction (issue 28, item 6): the kernel kills them with it
        assert survivors(workers, within=3.0) == [], "decoding workers outlived the killed extraction"
    finally:
        kill_all(workers)
    store = next(interrupted.glob("features/*"))
    assert not (store / "index.json").exists()
    committed = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in store.glob("shard-*")}
    assert len([name for name in committed if name.endswith(".json")]) >= 3

    resumed = _extract_in_subprocess(interrupted, delay=0.0)
    output, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, output
    for name, identity in committed.items():  # committed shards were kept, not rewritten
        path = store / name
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == identity, name
    assert f"{len(committed) // 3} shards already committed" in output

    uninterrupted = _extract_in_subprocess(clean, delay=0.0)
    output, _ = uninterrupted.communicate(timeout=300)
    assert uninterrupted.returncode == 0, output
    reference = next(clean.glob("features/*"))
    assert reference.name == store.name
    shards = sorted(p.name for p in reference.glob("shard-*"))
    assert shards == sorted(p.name for p in store.glob("shard-*"))
    for name in shards:
        assert (store / name).read_bytes() == (reference / name).read_bytes(), name


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
@pytest.mark.parametrize("precision, tolerance", [("fp32", 1e-3), ("fp16", 5e-2), ("bf16", 2e-1)])
def test_cuda_extraction_matches_the_cpu(corpus, stored, tmp_path, precision, tolerance):
    features, _ = stored
    settings = ExtractionSettings(compute=Compute.resolve("cuda", precision), batch_seconds=6.0, loader_workers=0)
    on_gpu = extract_features(create("mfcc"), corpus, Cache(tmp_path), settings, progress=lambda line: None)
    for i in range(len(corpus)):
        cpu = features.utterance_frames(i)
        np.testing.assert_allclose(on_gpu.utterance_frames(i), cpu, atol=tolerance * np.abs(cpu).max())
