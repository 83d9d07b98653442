"""Latency and real-time factor of inference (docs/metrics.md, Sustainability).

The work runs `warmup` times untimed (first calls allocate buffers and pick kernels), then `repeats`
times timed; the median wall time is reported, as the mean is pulled by scheduler hiccups. Peak
memory is measured apart, in a fresh process (footprint.py).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class LatencyResult:
    median_s: float  # median wall time of one run, seconds
    real_time_factor: float  # median_s / audio_seconds; < 1 is faster than real time
    audio_seconds: float  # audio one run processes
    runs: int  # timed runs (after warm-up)
    times_s: tuple[float, ...]


def measure_latency(
    run_once: Callable[[], None], audio_seconds: float, warmup: int = 2, repeats: int = 7
) -> LatencyResult:
    """Median wall time of `run_once` (which processes `audio_seconds` of audio) over `repeats` runs."""
    if audio_seconds <= 0:
        raise ValueError(f"audio_seconds must be positive, got {audio_seconds}")
    if repeats < 5:
        raise ValueError(f"repeats must be at least 5 for a stable median, got {repeats}")
    for _ in range(warmup):
        run_once()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_once()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return LatencyResult(
        median_s=median,
        real_time_factor=median / audio_seconds,
        audio_seconds=float(audio_seconds),
        runs=repeats,
        times_s=tuple(times),
    )
