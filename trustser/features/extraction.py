"""Streaming feature extraction into the sharded store (trustser.features.store), resumable after a kill.

Audio is decoded and resampled by DataLoader workers while the encoder runs, one batch at a time;
batches are formed by padded audio duration (`batch_seconds`), so long utterances cannot blow memory;
each batch's frames go straight into the open shard file. A shard is committed once all its batches
are written, so a killed run loses at most the shard in progress, and the next run encodes only the
shards that have no commit record. The shard plan is fixed in `plan.json` on the first run: a
resumed extraction encodes the very batches an uninterrupted one would, so the stored features are
bit-identical.

On a CUDA out-of-memory error the batch is split in half and retried (reported), down to single
utterances.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trustser.cache.store import Cache, content_key, private_mkdir, writes_to
from trustser.compute.children import loader_worker_init
from trustser.compute.devices import Compute
from trustser.compute.energy import measure_energy
from trustser.compute.memory import release_free_memory
from trustser.corpora.audio import load_waveform
from trustser.corpora.base import Corpus
from trustser.encoders.base import Encoder
from trustser.features.shards import (
    ExtractionError,
    ExtractionSettings,
    Meter,
    NonFiniteFeatures,
    Progress,
    encode_batch,
    stderr_progress,
    store_batch,
)
from trustser.features.store import (
    STORAGE_DTYPES,
    STORE_FORMAT,
    ShardWriter,
    StoredFeatures,
    committed_shard,
    read_json,
    shard_name,
    write_json,
)

__all__ = [
    "ExtractionError",
    "ExtractionSettings",
    "InsufficientDisk",
    "NonFiniteFeatures",
    "Progress",
    "encode_batch",
    "estimated_bytes",
    "extract_features",
    "feature_key",
    "stderr_progress",
]

EXTRACTION_VERSION = "3"  # bump when what the store holds changes
SHARDS_PER_WORKER = 4  # about this many shards per worker in a distributed plan: a slow or lost worker delays little
_DISK_MARGIN_BYTES = 64 << 20


class InsufficientDisk(OSError):
    """The cache's disk cannot hold the features about to be extracted."""


def feature_key(encoder: Encoder, corpus: Corpus, settings: ExtractionSettings = ExtractionSettings()) -> str:
    return content_key(
        step="extract",
        version=EXTRACTION_VERSION,
        encoder=encoder.name,
        weights=encoder.fingerprint(),
        corpus=corpus.fingerprint(),
        sample_rate=encoder.sample_rate,
        preprocessing="mono,resample_poly",
        dtype=settings.feature_dtype,
        compute=settings.compute.tag,
    )


def extract_features(
    encoder: Encoder,
    corpus: Corpus,
    cache: Cache,
    settings: ExtractionSettings = ExtractionSettings(),
    *,
    progress: Progress = stderr_progress,
) -> StoredFeatures:
    """Per-layer features of every utterance of `corpus`, extracted into the store on first use.

    The encoder's pass runs under codecarbon; its energy is kept in the store's index, so the audit
    reports what extraction cost when it ran. A full or unwritable disk raises `CacheWriteError`, and
    once it has, a later call fails at once instead of encoding again (`Cache.writing`).
    """
    directory = cache.root / "features" / feature_key(encoder, corpus, settings)
    if not (directory / "index.json").exists():
        with cache.writing(), cache.lock("features", directory.name):
            if not (directory / "index.json").exists():
                _extract(encoder, corpus, directory, settings=settings, progress=progress)
    return StoredFeatures.open(directory)


@dataclass(frozen=True)
class _Plan:
    shards: list[list[list[int]]]  # shard -> batches -> corpus indices
    seconds: list[float]  # estimated duration of every utterance at the encoder's rate


def _extract(
    encoder: Encoder, corpus: Corpus, directory: Path, *, settings: ExtractionSettings, progress: Progress
) -> None:
    with writes_to(directory):
        private_mkdir(directory)
    encoder.eval().to(settings.compute.device)
    probe = _probe(encoder, settings.compute)
    workers = 1
    if settings.executor.distributed:
        from trustser.features.ray_workers import planned_workers

        workers = planned_workers(settings.executor)
    plan = _load_or_make_plan(directory, corpus, probe, settings, min_shards=SHARDS_PER_WORKER * workers)
    pending = [i for i in range(len(plan.shards)) if committed_shard(directory, i, verify=True) is None]
    _announce(encoder, corpus, directory, plan=plan, pending=pending, probe=probe, settings=settings, progress=progress)
    seconds_to_do = sum(plan.seconds[u] for i in pending for batch in plan.shards[i] for u in batch)
    energy = {}
    if pending and settings.executor.distributed:
        from trustser.features.ray_workers import encode_shards_on_cluster

        energy = encode_shards_on_cluster(
            encoder, corpus, directory, shards=plan.shards, pending=pending, settings=settings, progress=progress
        )
    elif pending:
        work = lambda: _encode_shards(  # noqa: E731
            encoder,
            corpus,
            directory,
            plan=plan,
            pending=pending,
            settings=settings,
            progress=progress,
        )
        energy = dataclasses.asdict(measure_energy(work, max(seconds_to_do, 1e-3), label=f"extract {encoder.name}"))
    write_json(
        directory / "index.json",
        {
            "format": STORE_FORMAT,
            "encoder": encoder.name,
            "utterance_ids": [u.id for u in corpus.utterances],
            "num_layers": probe["num_layers"],
            "hidden_size": probe["hidden_size"],
            "dtype": settings.feature_dtype,
            "sample_rate": encoder.sample_rate,
            "shards": len(plan.shards),
            "energy": energy or None,
            "compute": settings.compute.tag,
        },
    )


def _probe(encoder: Encoder, compute: Compute) -> dict:
    """Output shape and frame rate of the encoder, from 1 s and 2 s of quiet noise (or its `min_seconds` and
    1 s more, for an encoder that needs longer): what the store will need."""
    generator = torch.Generator().manual_seed(0)
    counts = []
    shortest = max(1.0, float(encoder.min_seconds))
    with torch.no_grad(), compute.autocast():
        for seconds in (shortest, shortest + 1):
            wave = 0.01 * torch.randn(1, int(seconds * encoder.sample_rate), generator=generator)
            layers, frame_lengths = encoder(
                wave.to(compute.device), torch.tensor([wave.shape[1]], device=compute.device)
            )
            counts.append(int(frame_lengths[0]))
    return {
        "num_layers": int(layers.shape[1]),
        "hidden_size": int(layers.shape[3]),
        "frames_at_zero": round(counts[0] - (counts[1] - counts[0]) * shortest),
        "frames_per_second": counts[1] - counts[0],
    }


def _estimated_frames(probe: dict, seconds: float) -> float:
    return max(1.0, probe["frames_at_zero"] + probe["frames_per_second"] * seconds)


def _load_or_make_plan(
    directory: Path, corpus: Corpus, probe: dict, settings: ExtractionSettings, *, min_shards: int = 1
) -> _Plan:
    """Batches by padded duration, grouped into shards of `shard_mib`, or smaller so that there are at
    least `min_shards` for the workers to share. Batches do not depend on the grouping, so neither do
    the features."""
    path = directory / "plan.json"
    if path.exists():  # a resumed run keeps the first run's batches, whatever its own settings
        stored = read_json(path)
        return _Plan(stored["shards"], stored["seconds"])
    seconds = [corpus.seconds(u.id) for u in corpus.utterances]
    frame_bytes = _frame_bytes(probe, settings.feature_dtype)
    shard_bytes = settings.shard_mib * (1 << 20)
    if min_shards > 1:
        total_bytes = sum(_estimated_frames(probe, s) for s in seconds) * frame_bytes
        shard_bytes = min(shard_bytes, total_bytes / min_shards)
    shards, batches, batch, shard_size = [], [], [], 0.0
    for index in np.argsort(seconds, kind="stable").tolist():  # length buckets: little padding
        if batch and (len(batch) + 1) * seconds[index] > settings.batch_seconds:
            batches.append(batch)
            batch = []
            if shard_size >= shard_bytes:
                shards.append(batches)
                batches, shard_size = [], 0.0
        batch.append(index)
        shard_size += _estimated_frames(probe, seconds[index]) * frame_bytes
    if batch:
        batches.append(batch)
    if batches:
        shards.append(batches)
    write_json(path, {"shards": shards, "seconds": seconds})
    return _Plan(shards, seconds)


def _frame_bytes(probe: dict, dtype: str) -> int:
    return probe["num_layers"] * probe["hidden_size"] * np.dtype(STORAGE_DTYPES[dtype]).itemsize


def estimated_bytes(probe: dict, seconds: list[float], dtype: str) -> float:
    """Disk for utterances of `seconds`: their frames in `dtype` and a float32 pooled vector each."""
    frame_bytes, pooled_bytes = _frame_bytes(probe, dtype), _frame_bytes(probe, "float32")
    return sum(_estimated_frames(probe, s) * frame_bytes + pooled_bytes for s in seconds)


def _announce(
    encoder: Encoder,
    corpus: Corpus,
    directory: Path,
    *,
    plan: _Plan,
    pending: list[int],
    probe: dict,
    settings: ExtractionSettings,
    progress: Progress,
) -> None:
    """Say what the extraction will store and where; stop now if the disk cannot hold it."""
    todo = [u for i in pending for batch in plan.shards[i] for u in batch]
    total = estimated_bytes(probe, plan.seconds, settings.feature_dtype)
    needed = estimated_bytes(probe, [plan.seconds[u] for u in todo], settings.feature_dtype)
    free = shutil.disk_usage(directory).free
    hours = sum(plan.seconds) / 3600
    progress(
        f"extract {encoder.name} on {corpus.name}: {len(corpus)} utterances, {hours:.2f} h of audio -> "
        f"~{total / 2**30:.2f} GiB ({probe['num_layers']} x {probe['hidden_size']} {settings.feature_dtype}, "
        f"{len(plan.shards)} shards) in {directory} on {settings.compute.device} {settings.compute.precision}; "
        f"{len(plan.shards) - len(pending)} shards already committed; {free / 2**30:.1f} GiB free"
    )
    if needed + _DISK_MARGIN_BYTES > free:
        raise InsufficientDisk(
            f"extracting {encoder.name} on {corpus.name} needs ~{needed / 2**30:.2f} GiB in {directory}, but only "
            f"{free / 2**30:.2f} GiB is free: point --trust-cache at a larger disk, or store --feature-dtype float16"
        )


class _Waveforms(torch.utils.data.Dataset):
    """Corpus index -> (index, waveform at the encoder's rate); decoded in DataLoader workers."""

    def __init__(self, corpus: Corpus, sample_rate: int):
        self.corpus, self.sample_rate = corpus, sample_rate

    def __len__(self) -> int:
        return len(self.corpus)

    def __getitem__(self, index: int) -> tuple[int, np.ndarray]:
        return index, load_waveform(self.corpus, self.corpus.utterances[index].id, self.sample_rate)


def _as_list(items: list) -> list:
    return items


def _encode_shards(
    encoder: Encoder,
    corpus: Corpus,
    directory: Path,
    *,
    plan: _Plan,
    pending: list[int],
    settings: ExtractionSettings,
    progress: Progress,
) -> None:
    batches = [(shard, batch) for shard in pending for batch in plan.shards[shard]]
    loader = torch.utils.data.DataLoader(
        _Waveforms(corpus, encoder.sample_rate),
        batch_sampler=[batch for _, batch in batches],
        num_workers=settings.loader_workers,
        collate_fn=_as_list,
        worker_init_fn=loader_worker_init(),  # a worker must not outlive a killed extraction
    )
    meter = Meter(
        total_utterances=sum(len(b) for _, b in batches),
        total_seconds=sum(plan.seconds[u] for _, b in batches for u in b),
    )
    writer, remaining = None, {shard: len(plan.shards[shard]) for shard in pending}
    try:
        for (shard, _), items in zip(batches, loader):
            if writer is None:
                writer = ShardWriter(directory, shard, settings.feature_dtype)
            store_batch(writer, encoder, corpus, items, settings.compute, progress=progress)
            meter.advance(len(items), sum(len(w) for _, w in items) / encoder.sample_rate)
            remaining[shard] -= 1
            if remaining[shard] == 0:
                writer.commit()
                writer = None
                release_free_memory()
                progress(f"  {shard_name(shard)} committed: {meter.status()}")
    finally:
        if writer is not None:
            writer.abandon()
