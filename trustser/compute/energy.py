"""Energy and emissions of a piece of work, as codecarbon estimates them (docs/metrics.md, Sustainability).

codecarbon's `OfflineEmissionsTracker` runs around the work with the grid carbon intensity of a
configurable country (no network). Choices, so that the number is the work's own and the run leaves
nothing behind:

- `tracking_mode="process"`: CPU power is the CPU's power (RAPL if readable, else its TDP) times
  this process's share of the machine's CPU time (threads and child processes included), and RAM
  power is estimated for this process, so parallel pytest-xdist workers or other jobs on the
  machine are not billed to the model. ("machine" would bill the whole machine's load.)
- `output_methods=[]`: no emissions.csv, no API call; `allow_multiple_runs=True`: no lock file,
  so parallel processes never clash.
- `measure_power_secs=15` (codecarbon's default): stop() always takes a final measurement, so a short
  workload is measured completely at any interval, and the result comes as soon as the work ends.
  A short interval is wrong, not just wasteful: with work that holds the GIL (a pure-Python loop),
  codecarbon's sampling thread is delayed past the next tick, overlapping measurements each bill
  the time since the last completed one, and energy is double-counted (measured with codecarbon
  3.3.2 and a 3 s loop at 0.5 s: RAM energy of 25.7 W average for a 10 W RAM model). Between
  measurements codecarbon still samples CPU power every second for its time-weighted average.

Without RAPL, GPU or a known CPU model codecarbon falls back on estimates; `power_source` records
which it used (e.g. "CPU: TDP 8 W x CPU load") so a reader can weigh the number.

A short workload (inference on 32 utterances of MFCCs takes 0.07 s here) is a poor window: the
tracker's start and stop overheads, and anything else the process does then, weigh as much as the
work. `measure_repeated_energy` repeats the work until a window lasts `window_seconds` (several of
codecarbon's one-second CPU samples), measures several such windows, and reports the median window
with the spread of all of them, so a reader sees how much the number moves.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
import platform
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

_MEASURE_POWER_SECS = 15.0
_TRACKING_MODE = "process"
_SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class EnergyResult:
    kwh: float  # energy of the work (CPU + RAM + GPU), kWh
    kg_co2eq: float  # emissions at the country's grid intensity, kg CO2-equivalent
    kwh_per_audio_hour: float
    kg_co2eq_per_audio_hour: float
    duration_s: float  # wall time codecarbon measured over, seconds
    audio_seconds: float  # audio the work processed, seconds
    power_source: str  # how codecarbon obtained each power, e.g. "CPU: TDP 8 W x CPU load; RAM: ..."
    cpu_model: str
    country_iso_code: str
    label: str = "inference"
    windows: int = 1  # measured windows; more than one when the work was repeated (measure_repeated_energy)
    repeats: int = 1  # runs of the work in each window
    window_kwh_per_audio_hour: tuple[float, ...] = ()  # each window's value, in the order measured
    spread: float | None = None  # (max - min) / median of the windows' values; None for one window
    threads: int | None = None  # torch threads the work ran on, when the caller fixed them


@contextmanager
def _quiet_codecarbon() -> Iterator[None]:
    """Errors only: codecarbon logs (and warns about multiple runs) before applying `log_level`."""
    logger = logging.getLogger("codecarbon")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _describe_cpu(cpu) -> str:
    mode, tdp = getattr(cpu, "_mode", "unknown"), getattr(cpu, "_tdp", None)
    if mode == "cpu_load":
        return f"TDP {tdp} W x CPU load ({_TRACKING_MODE})"
    if mode == "constant":
        return f"constant share of TDP {tdp} W"
    if mode == "intel_rapl":
        return "RAPL"
    return mode


def _power_source(tracker, emissions) -> str:
    """codecarbon's measurement method per device, read from the tracker's hardware list."""
    parts = []
    for device in getattr(tracker, "_hardware", []):
        kind = type(device).__name__
        if kind == "CPU":
            parts.append(f"CPU: {_describe_cpu(device)}")
        elif kind == "RAM":
            parts.append(f"RAM: DIMM-count model of {_TRACKING_MODE} memory, {emissions.ram_power:.1f} W")
        elif kind == "GPU":
            parts.append(f"GPU: {emissions.gpu_model} (NVML/AMDSMI)")
        else:
            parts.append(repr(device))
    return "; ".join(parts) or "unknown"


@functools.cache
def machine_signature() -> dict[str, object]:
    """What an energy measurement depends on besides the work: the processor, its count, codecarbon."""
    from importlib.metadata import version

    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        model = names[0] if names else model
    return {"cpu": model, "cpus": os.cpu_count(), "codecarbon": version("codecarbon")}


def measure_energy(
    work: Callable[[], None], audio_seconds: float, *, country_iso_code: str = "USA", label: str = "inference"
) -> EnergyResult:
    """Run `work` once under codecarbon (one window); energy and emissions in total and per hour of audio."""
    if audio_seconds <= 0:
        raise ValueError(f"audio_seconds must be positive, got {audio_seconds}")
    from codecarbon import OfflineEmissionsTracker  # imported here: it is slow and only this needs it
    from codecarbon.input import DataSource

    if country_iso_code not in DataSource().get_global_energy_mix_data():
        # codecarbon would log an error and carry on with a world-average intensity
        raise ValueError(f"codecarbon has no energy mix for country ISO code {country_iso_code!r}")
    with _quiet_codecarbon():
        tracker = OfflineEmissionsTracker(
            country_iso_code=country_iso_code,
            project_name=label,
            measure_power_secs=_MEASURE_POWER_SECS,
            tracking_mode=_TRACKING_MODE,
            output_methods=[],
            allow_multiple_runs=True,
            log_level="error",
        )
        tracker.start()
        try:
            work()
        finally:
            tracker.stop()  # codecarbon swallows its own exceptions here; checked below
    emissions = getattr(tracker, "final_emissions_data", None)
    if emissions is None:
        raise RuntimeError(f"codecarbon recorded nothing for {label!r} (country {country_iso_code!r})")
    hours = audio_seconds / _SECONDS_PER_HOUR
    return EnergyResult(
        kwh=float(emissions.energy_consumed),
        kg_co2eq=float(emissions.emissions),
        kwh_per_audio_hour=float(emissions.energy_consumed) / hours,
        kg_co2eq_per_audio_hour=float(emissions.emissions) / hours,
        duration_s=float(emissions.duration),
        audio_seconds=float(audio_seconds),
        power_source=_power_source(tracker, emissions),
        cpu_model=str(emissions.cpu_model),
        country_iso_code=str(emissions.country_iso_code),
        label=label,
    )


def measure_repeated_energy(
    work: Callable[[], None],
    audio_seconds: float,
    *,
    window_seconds: float,
    windows: int,
    country_iso_code: str,
    label: str = "inference",
) -> EnergyResult:
    """`windows` codecarbon windows, each repeating `work` (on `audio_seconds` of audio) for about
    `window_seconds`; the median window, with every window's value and their relative spread.

    The work runs twice first: once to warm up (lazy initialisation, caches), once timed, to tell how
    many repeats fill a window. (Timing the first call instead gave windows of 3.1 s for 4 s asked, and
    fewer repeats from run to run.)
    """
    if not window_seconds > 0 or windows < 1:
        raise ValueError(f"need window_seconds > 0 and windows >= 1, got {window_seconds} and {windows}")
    work()  # warm-up: a first call pays for lazy initialisation and cold caches, and would skew the clock
    started = time.perf_counter()
    work()
    repeats = max(1, math.ceil(window_seconds / max(time.perf_counter() - started, 1e-3)))

    def repeated() -> None:
        for _ in range(repeats):
            work()

    measured = [
        measure_energy(repeated, audio_seconds * repeats, country_iso_code=country_iso_code, label=label)
        for _ in range(windows)
    ]
    values = tuple(m.kwh_per_audio_hour for m in measured)
    median = sorted(measured, key=lambda m: m.kwh_per_audio_hour)[(windows - 1) // 2]
    centre = statistics.median(values)
    spread = (max(values) - min(values)) / centre if windows > 1 and centre > 0 else None
    return dataclasses.replace(
        median, windows=windows, repeats=repeats, window_kwh_per_audio_hour=values, spread=spread
    )


def combined_energy(parts: list[EnergyResult], label: str) -> EnergyResult:
    """Several measured pieces of work (e.g. one per fold) as one: energy, emissions, time and audio add up."""
    if not parts:
        raise ValueError("no energy measurements to combine")
    kwh, co2 = sum(p.kwh for p in parts), sum(p.kg_co2eq for p in parts)
    hours = sum(p.audio_seconds for p in parts) / _SECONDS_PER_HOUR
    return EnergyResult(
        kwh=kwh,
        kg_co2eq=co2,
        kwh_per_audio_hour=kwh / hours,
        kg_co2eq_per_audio_hour=co2 / hours,
        duration_s=sum(p.duration_s for p in parts),
        audio_seconds=hours * _SECONDS_PER_HOUR,
        power_source=parts[0].power_source,
        cpu_model=parts[0].cpu_model,
        country_iso_code=parts[0].country_iso_code,
        label=label,
    )


def shares_of(whole: EnergyResult, audio_seconds: list[float]) -> list[EnergyResult]:
    """One measurement of work done for several parts at once (heads trained together) as each part's share,
    in proportion to its audio: per audio hour each share is the whole's, and `combined_energy` of the
    shares gives the whole back."""
    total = sum(audio_seconds)
    return [
        dataclasses.replace(
            whole,
            kwh=whole.kwh * seconds / total,
            kg_co2eq=whole.kg_co2eq * seconds / total,
            duration_s=whole.duration_s * seconds / total,
            audio_seconds=seconds,
        )
        for seconds in audio_seconds
    ]
