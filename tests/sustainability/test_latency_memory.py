"""Latency (median after warm-up), peak memory in a fresh process, and energy pieces added up."""

import time

import pytest

from trustser.models.head import EmotionHead, HeadConfig
from trustser.pillars.sustainability import EnergyResult, combined_energy, measure_footprint, measure_latency


def test_latency_is_the_median_after_warm_up():
    calls = []

    def run_once() -> None:
        calls.append(time.perf_counter())
        time.sleep(0.2 if len(calls) <= 2 else 0.01)  # the warm-up runs are slow and must not count

    result = measure_latency(run_once, audio_seconds=0.5, warmup=2, repeats=5)
    assert len(calls) == 7 and result.runs == 5 and len(result.times_s) == 5
    assert 0.01 <= result.median_s < 0.1
    assert result.real_time_factor == pytest.approx(result.median_s / 0.5)
    with pytest.raises(ValueError, match="at least 5"):
        measure_latency(run_once, 1.0, repeats=3)


def test_peak_memory_of_a_fresh_process_separates_runtime_and_model(tmp_path):
    config = HeadConfig()
    head = EmotionHead(3, 40, 4, config)
    weights = tmp_path / "head.safetensors"
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(weights))
    shape = {"num_layers": 3, "hidden_size": 40, "num_classes": 4, "config": config.as_dict()}
    deployment = {"backbone": "mfcc", "head": str(weights), "shape": shape}
    short = measure_footprint(deployment, audio_seconds=1.0)
    assert 100 < short.runtime_mb < short.peak_mb  # an interpreter with torch is 100s of MiB
    assert short.model_mb == pytest.approx(short.peak_mb - short.runtime_mb)
    # 10 minutes of audio: the spectrogram alone is 60 000 frames x 201 bins x 4 B x several copies
    long = measure_footprint(deployment, audio_seconds=600.0)
    assert long.model_mb > short.model_mb + 50


def energy(kwh: float, seconds: float) -> EnergyResult:
    return EnergyResult(
        kwh,
        kwh * 0.4,
        kwh / (seconds / 3600),
        kwh * 0.4 / (seconds / 3600),
        1.0,
        seconds,
        "CPU: TDP",
        "cpu",
        "USA",
        "fold",
    )


def test_combined_energy_adds_up_and_renormalises():
    total = combined_energy([energy(0.001, 1800), energy(0.003, 1800)], "train")
    assert total.kwh == pytest.approx(0.004) and total.audio_seconds == pytest.approx(3600)
    assert total.kwh_per_audio_hour == pytest.approx(0.004) and total.label == "train"
    with pytest.raises(ValueError):
        combined_energy([], "nothing")


def test_the_memory_probe_imports_a_team_backbone_and_model_from_the_audits_sys_path(tmp_path, monkeypatch):
    """A `torch:` backbone or model importable only through a sys.path entry of the audit's process (not the
    working directory, not PYTHONPATH) is still built by the fresh interpreter."""
    from safetensors.torch import save_file

    from tests.doc_examples import write_python_file

    team, elsewhere = tmp_path / "team", tmp_path / "elsewhere"
    team.mkdir(), elsewhere.mkdir()
    write_python_file(team, "team_model.py")
    (team / "team_encoder.py").write_text(
        "from trustser.encoders.mfcc import create_mfcc\n\ndef build():\n    return create_mfcc(None)\n"
    )
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("PYTHONPATH", raising=False)  # the checkout's trustser is found through sys.path too
    monkeypatch.syspath_prepend(str(team))
    config = HeadConfig()
    weights = tmp_path / "head.safetensors"
    save_file({k: v.contiguous() for k, v in EmotionHead(3, 40, 4, config).state_dict().items()}, str(weights))
    shape = {"num_layers": 3, "hidden_size": 40, "num_classes": 4, "config": config.as_dict()}
    backbone = {"backbone": "torch:team_encoder:build", "head": str(weights), "shape": shape}
    model = {"model": "torch:team_model:build", "labels": {}, "emotions": ["neutral", "happy", "sad", "angry"]}
    for deployment in (backbone, model):
        assert 100 < measure_footprint(deployment, audio_seconds=1.0).peak_mb
