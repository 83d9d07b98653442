"""Sustainability: size, compute, latency, memory and energy of the end-to-end model."""

from __future__ import annotations

import torch

from trustser.errors import NotApplicable
from trustser.features import load_waveform
from trustser.pipeline import BackboneRun
from trustser.sustainability import (
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
from trustser.audit.memo import memoised, stored


def parameters(run: BackboneRun) -> ModelSize:
    """Encoder and head (the head of fold 0; every fold's head has the same size)."""
    return model_size(run.encoder, run.heads[0])


def _probe_input(seconds: float, sample_rate: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    samples = int(seconds * sample_rate)
    return 0.1 * torch.randn(1, samples, generator=generator), torch.tensor([samples])


@memoised
def gflops_per_audio_second(run: BackboneRun, seconds: float = 6.0) -> float:
    """FLOPs of one forward pass on `seconds` of audio (6 s, as the original study), per second."""
    if not run.encoder.differentiable:
        raise NotApplicable(f"{run.backbone} runs outside torch, so FlopCounterMode cannot count it: "
                            f"{run.encoder.non_differentiable_reason}")
    model = run.waveform_model(run.folds[0])
    with torch.no_grad():
        flops = count_flops(model, *_probe_input(seconds, run.encoder.sample_rate))
    return flops / 1e9 / seconds


@stored(EnergyResult, version="2", machine=machine_signature())
def inference_energy(
    run: BackboneRun, country_iso_code: str, window_seconds: float, windows: int, utterances: int = 32
) -> EnergyResult:
    """codecarbon's estimate for end-to-end inference (waveform -> emotion) on test utterances: the
    median of `windows` windows of about `window_seconds` each, the inference repeated to fill them."""
    fold = run.folds[0]
    indices = run.indices(fold.test_speakers)[:utterances]
    waves = [load_waveform(run.corpus, run.corpus.utterances[i].id, run.encoder.sample_rate) for i in indices]
    model = run.waveform_model(fold)
    audio_seconds = sum(len(w) for w in waves) / run.encoder.sample_rate

    def work() -> None:
        with torch.no_grad():
            for wave in waves:
                model(torch.as_tensor(wave)[None], torch.tensor([len(wave)]))

    return measure_repeated_energy(work, audio_seconds, window_seconds=window_seconds, windows=windows,
                                   country_iso_code=country_iso_code, label=run.backbone)


@stored(LatencyResult, version="1", machine=machine_signature())
def inference_latency(run: BackboneRun, seconds: float = 6.0) -> LatencyResult:
    """Median wall time of end-to-end inference on `seconds` of audio, its real-time factor and peak memory.

    A measurement, stored per model and machine like energy, so repeated audits agree.
    """
    model = run.waveform_model(run.folds[0])
    waves, lengths = _probe_input(seconds, run.encoder.sample_rate)

    def once() -> None:
        with torch.no_grad():
            model(waves, lengths)

    return measure_latency(once, seconds)


@stored(FootprintResult, version="2", machine=machine_signature())
def inference_footprint(run: BackboneRun, seconds: float = 6.0) -> FootprintResult:
    """Peak resident memory of a fresh process running end-to-end inference on `seconds` of audio."""
    return measure_footprint(run.deployment(), seconds)


def extraction_energy(run: BackboneRun) -> EnergyResult:
    """codecarbon's measurement of the encoder's pass over the corpus, taken when the features were built."""
    energy = run.features.extraction_energy
    if energy is None:  # every shard was committed by earlier, interrupted runs: no one pass was measured whole
        raise NotApplicable("extraction energy was not measured: the features were completed from committed shards; "
                            "delete them from the cache to measure a full extraction")
    return EnergyResult(**energy)


def training_energy(run: BackboneRun) -> EnergyResult:
    """Training every fold's head, per hour of training audio, as measured when the heads were trained."""
    return combined_energy([EnergyResult(**run.training_energy(fold)) for fold in run.folds], f"train {run.backbone}")
