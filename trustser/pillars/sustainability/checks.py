"""Sustainability: size, compute, latency, memory and energy of the end-to-end model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from trustser.compute.devices import torch_threads
from trustser.corpora.audio import load_waveform
from trustser.errors import NotApplicable
from trustser.gates.declaration import declare_metric, positive, setting
from trustser.gates.measurement import Measurement
from trustser.pillars.sustainability import (
    EnergyResult,
    FootprintResult,
    LatencyResult,
    ModelSize,
    combined_energy,
    count_flops,
    machine_signature,
    measure_footprint,
    measure_latency,
    measure_repeated_energy,
    model_size,
)
from trustser.run.backbone_run import BackboneRun
from trustser.run.memo import memoised, stored
from trustser.vocabulary import TASKS

_NOT_OUR_RECIPE = "{what}: it takes the finished model's training data and recipe, which the audit does not have"


def _country(code: str) -> str | None:
    ok = len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()
    return None if ok else "an ISO 3166-1 alpha-3 code such as 'USA'"


@dataclass(frozen=True)
class EnergySettings:
    country_iso_code: str = setting("USA", rule=_country)  # the grid whose carbon intensity applies
    window_seconds: float = setting(4.0, rule=positive)  # each measured window repeats inference this long
    windows: int = setting(3, rule=positive)  # windows measured; the median is gated, the spread reported
    # torch threads inference runs on while measured. One, because with two the time per utterance of
    # the same model differed by 35% between fresh processes, and by 10-40x in windows where other work
    # competed for the cores (OpenMP threads waiting at barriers); on one thread fresh processes agreed
    # within 5%, with or without other work on the machine.
    threads: int = setting(1, rule=positive)


PARAMETERS = declare_metric(
    "sustainability.parameters",
    tasks=TASKS,  # a dimensional audit's models too
    label="parameters",
    bound="max",
    default=100_000_000,
    definition="Parameters of the encoder plus the emotion head (trainable and frozen).",
    reference="`sum(p.numel() for p in model.parameters())`",
)
GFLOPS = declare_metric(
    "sustainability.gflops_per_audio_second",
    tasks=TASKS,  # a dimensional audit's models too
    label="GFLOPs per second of audio",
    bound="max",
    default=20.0,
    definition="FLOPs of one end-to-end forward pass on 6 s of audio, divided by 6 (LSTMs counted analytically).",
    reference="torch `FlopCounterMode`; the original study counted a 6 s input with thop",
)
ENERGY = declare_metric(
    "sustainability.energy_kwh_per_audio_hour",
    tasks=TASKS,  # a dimensional audit's models too
    label="energy (kWh per hour of audio)",
    bound="max",
    default=0.01,
    definition="codecarbon's energy for end-to-end inference on 32 test utterances, repeated to fill windows of "
    "`window_seconds`, per hour of audio: the median of `windows` windows, with their spread. Each record "
    "names the power source (RAPL where readable, otherwise TDP × this process's CPU load).",
    reference="codecarbon `OfflineEmissionsTracker`, tracking_mode='process'",
    settings=EnergySettings(),
)
EXTRACTION_ENERGY = declare_metric(
    "sustainability.extraction_energy_kwh_per_audio_hour",
    tasks=TASKS,  # a dimensional audit's models too
    label="extraction energy (kWh per hour of audio)",
    bound="max",
    default=0.01,
    definition="codecarbon's energy for the encoder's pass over the whole corpus, measured when the features were "
    "built, per hour of audio.",
    reference="codecarbon `OfflineEmissionsTracker`",
)
TRAINING_ENERGY = declare_metric(
    "sustainability.training_energy_kwh_per_audio_hour",
    tasks=TASKS,  # a dimensional audit's models too
    label="training energy (kWh per hour of training audio)",
    bound="max",
    default=0.1,
    definition="codecarbon's energy for training every fold's head, per hour of training audio.",
    reference="codecarbon `OfflineEmissionsTracker`",
)
REAL_TIME_FACTOR = declare_metric(
    "sustainability.real_time_factor",
    tasks=TASKS,  # a dimensional audit's models too
    label="real-time factor",
    bound="max",
    default=0.25,
    definition="Median wall time of end-to-end inference on 6 s of audio over 7 runs after a warm-up, divided by 6 s.",
    chance="1 = exactly real time",
    reference="real-time factor (RTF)",
)
PEAK_MEMORY = declare_metric(
    "sustainability.peak_memory_mb",
    tasks=TASKS,  # a dimensional audit's models too
    label="peak inference memory (MiB, whole process)",
    bound="max",
    default=1024.0,
    definition="The resident-set high-water mark (VmHWM) of a fresh process that builds the model and runs inference "
    "on 6 s of audio.",
    reference="Linux `/proc/self/status` VmHWM",
)


def parameters(run: BackboneRun) -> Measurement:
    """Encoder and head (the head of fold 0; every fold's head has the same size)."""
    size: ModelSize = model_size(run.encoder, run.heads[0])
    return Measurement(size.total, details=size)


def _probe_input(seconds: float, sample_rate: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    samples = int(seconds * sample_rate)
    return 0.1 * torch.randn(1, samples, generator=generator), torch.tensor([samples])


@memoised
def gflops_per_audio_second(run: BackboneRun, *, seconds: float = 6.0) -> Measurement:
    """FLOPs of one forward pass on `seconds` of audio (6 s, as the original study), per second."""
    if not run.encoder.differentiable:
        raise NotApplicable(
            f"{run.backbone} runs outside torch, so FlopCounterMode cannot count it: "
            f"{run.encoder.non_differentiable_reason}"
        )
    model = run.waveform_model(run.folds[0])
    with torch.no_grad():
        flops = count_flops(model, *_probe_input(seconds, run.encoder.sample_rate))
    return Measurement(flops / 1e9 / seconds)


@stored(EnergyResult, version="4", machine=machine_signature)
def inference_energy(run: BackboneRun, settings: EnergySettings, *, utterances: int = 32) -> EnergyResult:
    """codecarbon's estimate for end-to-end inference (waveform -> emotion) on test utterances, on
    `threads` torch threads: the median of `windows` windows of about `window_seconds` each, the
    inference repeated to fill them."""
    fold = run.folds[0]
    indices = run.split.test_rows(fold)[:utterances]
    waves = [load_waveform(run.corpus, run.corpus.utterances[i].id, run.encoder.sample_rate) for i in indices]
    model = run.waveform_model(fold)
    audio_seconds = sum(len(w) for w in waves) / run.encoder.sample_rate

    def work() -> None:
        with torch.no_grad():
            for wave in waves:
                model(torch.as_tensor(wave)[None], torch.tensor([len(wave)]))

    with torch_threads(settings.threads):
        measured = measure_repeated_energy(
            work,
            audio_seconds,
            window_seconds=settings.window_seconds,
            windows=settings.windows,
            country_iso_code=settings.country_iso_code,
            label=run.backbone,
        )
    return dataclasses.replace(measured, threads=settings.threads)


@stored(LatencyResult, version="1", machine=machine_signature)
def inference_latency(run: BackboneRun, *, seconds: float = 6.0) -> LatencyResult:
    """Median wall time of end-to-end inference on `seconds` of audio, its real-time factor and peak memory.

    A measurement, stored per model and machine like energy, so repeated audits agree.
    """
    model = run.waveform_model(run.folds[0])
    waves, lengths = _probe_input(seconds, run.encoder.sample_rate)

    def once() -> None:
        with torch.no_grad():
            model(waves, lengths)

    return measure_latency(once, seconds)


@stored(FootprintResult, version="2", machine=machine_signature)
def inference_footprint(run: BackboneRun, *, seconds: float = 6.0) -> FootprintResult:
    """Peak resident memory of a fresh process running end-to-end inference on `seconds` of audio."""
    return measure_footprint(run.deployment(), seconds)


def extraction_energy(run: BackboneRun) -> EnergyResult:
    """codecarbon's measurement of the encoder's pass over the corpus, taken when the features were built."""
    energy = run.features.extraction_energy
    if energy is None:  # every shard was committed by earlier, interrupted runs: no one pass was measured whole
        raise NotApplicable(
            "extraction energy was not measured: the features were completed from committed shards; "
            "delete them from the cache to measure a full extraction"
        )
    return EnergyResult(**energy)


def training_energy(run: BackboneRun) -> EnergyResult:
    """Training every fold's head, per hour of training audio, as measured when the heads were trained."""
    if not run.can_retrain:
        raise NotApplicable(_NOT_OUR_RECIPE.format(what="training energy and its measurement"))
    return combined_energy([EnergyResult(**run.training_energy(fold)) for fold in run.folds], f"train {run.backbone}")


def energy_kwh_per_audio_hour(run: BackboneRun, settings: EnergySettings) -> Measurement:
    result = inference_energy(run, settings)
    return Measurement(result.kwh_per_audio_hour, details=result)


def extraction_energy_kwh_per_audio_hour(run: BackboneRun) -> Measurement:
    result = extraction_energy(run)
    return Measurement(result.kwh_per_audio_hour, details=result)


def training_energy_kwh_per_audio_hour(run: BackboneRun) -> Measurement:
    result = training_energy(run)
    return Measurement(result.kwh_per_audio_hour, details=result)


def real_time_factor(run: BackboneRun) -> Measurement:
    result = inference_latency(run)
    return Measurement(result.real_time_factor, n=result.runs, details=result)


def peak_memory_mb(run: BackboneRun) -> Measurement:
    result = inference_footprint(run)
    return Measurement(result.peak_mb, details=result)
