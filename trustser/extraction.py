"""Streaming feature extraction into the sharded store (trustser.feature_store), resumable after a kill.

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
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from trustser.cache import Cache, content_key
from trustser.corpora.base import Corpus
from trustser.devices import CPU, Compute
from trustser.encoders.base import Encoder, pad_waveforms
from trustser.feature_store import (
    STORAGE_DTYPES,
    STORE_FORMAT,
    ShardWriter,
    StoredFeatures,
    committed_shard,
    read_json,
    shard_name,
    write_json,
)
from trustser.features import load_waveform
from trustser.memory import release_free_memory
from trustser.sustainability.energy import measure_energy

EXTRACTION_VERSION = "3"  # bump when what the store holds changes
_DISK_MARGIN_BYTES = 64 << 20
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ExtractionSettings:
    """How features are computed and stored. `feature_dtype` and the compute tag are part of the cache key."""

    compute: Compute = CPU
    feature_dtype: str = "float32"
    batch_seconds: float = 60.0  # padded audio per encoder batch
    shard_mib: float = 256.0  # features per shard (the most a kill can lose)
    loader_workers: int = 1  # processes decoding audio while the encoder runs

    def __post_init__(self) -> None:
        if self.feature_dtype not in STORAGE_DTYPES:
            raise ValueError(f"--feature-dtype {self.feature_dtype!r}: expected one of {', '.join(STORAGE_DTYPES)}")
        if not self.batch_seconds > 0:
            raise ValueError(f"--batch-seconds must be positive, got {self.batch_seconds}")
        if not self.shard_mib > 0:
            raise ValueError(f"shard size must be positive, got {self.shard_mib} MiB")


class InsufficientDisk(OSError):
    """The cache's disk cannot hold the features about to be extracted."""


class ExtractionError(RuntimeError):
    """Extraction cannot go on (e.g. one utterance alone does not fit in GPU memory)."""


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


def stderr_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
    reports what extraction cost when it ran.
    """
    directory = cache.root / "features" / feature_key(encoder, corpus, settings)
    if not (directory / "index.json").exists():
        with cache.lock("features", directory.name):
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
    directory.mkdir(parents=True, exist_ok=True)
    encoder.eval().to(settings.compute.device)
    probe = _probe(encoder, settings.compute)
    plan = _load_or_make_plan(directory, corpus, probe, settings)
    pending = [i for i in range(len(plan.shards)) if committed_shard(directory, i, verify=True) is None]
    _announce(encoder, corpus, directory, plan=plan, pending=pending, probe=probe, settings=settings, progress=progress)
    seconds_to_do = sum(plan.seconds[u] for i in pending for batch in plan.shards[i] for u in batch)
    energy = {}
    if pending:
        work = lambda: _encode_shards(
            encoder,
            corpus,
            directory,
            plan=plan,
            pending=pending,
            settings=settings,  # noqa: E731
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
    """Output shape and frame rate of the encoder, from 1 s and 2 s of quiet noise: what the store will need."""
    generator = torch.Generator().manual_seed(0)
    counts = []
    with torch.no_grad(), compute.autocast():
        for seconds in (1, 2):
            wave = 0.01 * torch.randn(1, seconds * encoder.sample_rate, generator=generator)
            layers, frame_lengths = encoder(
                wave.to(compute.device), torch.tensor([wave.shape[1]], device=compute.device)
            )
            counts.append(int(frame_lengths[0]))
    return {
        "num_layers": int(layers.shape[1]),
        "hidden_size": int(layers.shape[3]),
        "frames_at_zero": counts[0] - (counts[1] - counts[0]),
        "frames_per_second": counts[1] - counts[0],
    }


def _estimated_frames(probe: dict, seconds: float) -> float:
    return max(1.0, probe["frames_at_zero"] + probe["frames_per_second"] * seconds)


def _load_or_make_plan(directory: Path, corpus: Corpus, probe: dict, settings: ExtractionSettings) -> _Plan:
    path = directory / "plan.json"
    if path.exists():  # a resumed run keeps the first run's batches, whatever its own settings
        stored = read_json(path)
        return _Plan(stored["shards"], stored["seconds"])
    seconds = [corpus.seconds(u.id) for u in corpus.utterances]
    frame_bytes = _frame_bytes(probe, settings.feature_dtype)
    shard_bytes = settings.shard_mib * (1 << 20)
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
    )
    meter = _Meter(
        total_utterances=sum(len(b) for _, b in batches),
        total_seconds=sum(plan.seconds[u] for _, b in batches for u in b),
    )
    writer, remaining = None, {shard: len(plan.shards[shard]) for shard in pending}
    try:
        for (shard, _), items in zip(batches, loader):
            if writer is None:
                writer = ShardWriter(directory, shard, settings.feature_dtype)
            waves = [wave for _, wave in items]
            for (index, wave), frames in zip(items, encode_batch(encoder, waves, settings.compute, progress=progress)):
                if not torch.isfinite(frames).all():  # never stored: a head trained on them would be garbage
                    raise NonFiniteFeatures(
                        f"{encoder.name} gave NaN or infinite features for utterance "
                        f"{corpus.utterances[index].id!r} of {corpus.name} ({len(wave) / encoder.sample_rate:.3f} s); "
                        "remove the file from the corpus"
                    )
                writer.add(index, frames, len(wave))
            meter.advance(len(items), sum(len(w) for w in waves) / encoder.sample_rate)
            remaining[shard] -= 1
            if remaining[shard] == 0:
                writer.commit()
                writer = None
                release_free_memory()
                progress(f"  {shard_name(shard)} committed: {meter.status()}")
    finally:
        if writer is not None:
            writer.abandon()


class NonFiniteFeatures(ValueError):
    """The encoder's output for an utterance is not finite; the message names the utterance."""


def encode_batch(
    encoder: Encoder, waves: list[np.ndarray], compute: Compute, *, progress: Progress
) -> list[torch.Tensor]:
    """Each utterance's frames [frames, num_layers, hidden_size] (float32, CPU); on CUDA OOM, halves and retries."""
    try:
        padded, lengths = pad_waveforms(waves)
        with torch.no_grad(), compute.autocast():
            layers, frame_lengths = encoder(padded.to(compute.device), lengths.to(compute.device))
        return [
            layers[row, :, :n].transpose(0, 1).float().cpu().clone() for row, n in enumerate(frame_lengths.tolist())
        ]
    except torch.OutOfMemoryError:
        if len(waves) == 1:
            raise ExtractionError(
                f"one utterance of {len(waves[0]) / encoder.sample_rate:.1f} s does not fit in the "
                f"memory of {compute.device} even alone; extract on a larger GPU or --device cpu"
            ) from None
    # retried outside the except block, so the failed attempt's tensors (held by the traceback) are freed first
    compute.release_cached_memory()
    half = len(waves) // 2
    progress(
        f"  out of memory on {compute.device} with {len(waves)} utterances: "
        f"batch halved to {half} + {len(waves) - half}"
    )
    return encode_batch(encoder, waves[:half], compute, progress=progress) + encode_batch(
        encoder, waves[half:], compute, progress=progress
    )


class _Meter:
    """Utterances and audio hours done, throughput and ETA."""

    def __init__(self, *, total_utterances: int, total_seconds: float):
        self.total_utterances, self.total_seconds = total_utterances, total_seconds
        self.utterances, self.seconds, self.start = 0, 0.0, time.perf_counter()

    def advance(self, utterances: int, seconds: float) -> None:
        self.utterances += utterances
        self.seconds += seconds

    def status(self) -> str:
        elapsed = time.perf_counter() - self.start
        rate = self.seconds / elapsed if elapsed > 0 else 0.0
        eta = (self.total_seconds - self.seconds) / rate if rate > 0 else float("nan")
        return (
            f"{self.utterances}/{self.total_utterances} utterances, {self.seconds / 3600:.3f}/"
            f"{self.total_seconds / 3600:.3f} h of audio, {rate:.1f} audio s/s, ETA {_clock(eta)}"
        )


def _clock(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "unknown"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"
