"""The pieces of extraction that run wherever shards are encoded: in this process (trustser.features.extraction)
or in a Ray worker (trustser.features.ray_workers). Settings, one batch's encoding into a shard, progress."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from trustser.compute.devices import CPU, Compute
from trustser.compute.executor import LOCAL, Executor
from trustser.corpora.base import Corpus
from trustser.encoders.base import Encoder, pad_waveforms
from trustser.errors import batch_of, naming_utterances
from trustser.features.store import STORAGE_DTYPES, ShardWriter

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ExtractionSettings:
    """How features are computed and stored. `feature_dtype` and the compute tag are part of the cache key."""

    compute: Compute = CPU
    feature_dtype: str = "float32"
    batch_seconds: float = 60.0  # padded audio per encoder batch
    shard_mib: float = 256.0  # features per shard (the most a kill can lose)
    loader_workers: int = 1  # processes decoding audio while the encoder runs
    executor: Executor = LOCAL  # where shards are encoded (--executor); the features do not depend on it

    def __post_init__(self) -> None:
        if self.feature_dtype not in STORAGE_DTYPES:
            raise ValueError(f"--feature-dtype {self.feature_dtype!r}: expected one of {', '.join(STORAGE_DTYPES)}")
        if not self.batch_seconds > 0:
            raise ValueError(f"--batch-seconds must be positive, got {self.batch_seconds}")
        if not self.shard_mib > 0:
            raise ValueError(f"shard size must be positive, got {self.shard_mib} MiB")


class ExtractionError(RuntimeError):
    """Extraction cannot go on (e.g. one utterance alone does not fit in GPU memory)."""


def stderr_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class NonFiniteFeatures(ValueError):
    """The encoder's output for an utterance is not finite; the message names the utterance."""


def store_batch(
    writer: ShardWriter,
    encoder: Encoder,
    corpus: Corpus,
    items: list[tuple[int, np.ndarray]],
    compute: Compute,
    *,
    progress: Progress,
) -> None:
    """Encode one batch of (corpus index, waveform) and append each utterance's frames to the shard; a
    model's faulty answer (ModelOutputError) names the utterances at fault."""
    waves = [wave for _, wave in items]
    with naming_utterances([corpus.utterances[index].id for index, _ in items]):
        encoded = encode_batch(encoder, waves, compute, progress=progress)
    for (index, wave), frames in zip(items, encoded):
        if not torch.isfinite(frames).all():  # never stored: a head trained on them would be garbage
            raise NonFiniteFeatures(
                f"{encoder.name} gave NaN or infinite features for utterance "
                f"{corpus.utterances[index].id!r} of {corpus.name} ({len(wave) / encoder.sample_rate:.3f} s); "
                "remove the file from the corpus"
            )
        writer.add(index, frames, len(wave))


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
    with batch_of(range(half), len(waves)):
        first = encode_batch(encoder, waves[:half], compute, progress=progress)
    with batch_of(range(half, len(waves)), len(waves)):
        return first + encode_batch(encoder, waves[half:], compute, progress=progress)


class Meter:
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
