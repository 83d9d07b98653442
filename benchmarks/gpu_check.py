"""GPU check, for a machine with CUDA (run by hand; CI has no GPU): `python -m benchmarks.gpu_check OUT_DIR`.

1. Extraction of a randomly initialised wav2vec 2.0 base (`Wav2Vec2Config()`) through the store with
   `--device cuda` at fp32, fp16 and bf16: time, real-time factor, GPU and host peak memory, and how far
   fp16/bf16 features are from fp32 (and GPU fp32 from the CPU).
2. The CUDA out-of-memory back-off, for real: GPU memory capped, one oversized batch, halved until it fits.
3. Whisper-base-sized encoder, full 30 s windows vs the study's trimmed windows: seconds per audio hour.
4. Head training, FGSM/PGD, the score-based black-box search and noise robustness with the model on the GPU.
5. Heads: one epoch of four folds' heads trained together on the GPU (features resident there) against one
   read of their features plus their forward and backward (benchmarks/heads.py), ssl_shaped features.

The audio is seeded noise (tests/features/noise_corpus.py): timing and memory do not depend on what is said.
Where codecarbon is not installed (GPU images often lack it) extraction is timed instead of metered.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch

import trustser.features.extraction as extraction
from tests.features.noise_corpus import NoiseCorpus
from trustser.cache.store import Cache
from trustser.compute.devices import Compute
from trustser.compute.energy import EnergyResult
from trustser.encoders import create
from trustser.features.extraction import ExtractionSettings, extract_features

RESULTS: dict = {}
DEVICE = os.environ.get("GPU_CHECK_DEVICE", "cuda")  # "cpu" with a small GPU_CHECK_SCALE: a dry run of the script
SCALE = float(os.environ.get("GPU_CHECK_SCALE", "1"))


def count(n: int) -> int:
    return max(8, int(n * SCALE))


def _without_codecarbon(work, audio_seconds, country_iso_code="USA", label="inference"):
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    return EnergyResult(
        0.0, 0.0, 0.0, 0.0, seconds, audio_seconds, "not measured: codecarbon absent", "", country_iso_code, label
    )


try:
    import codecarbon  # noqa: F401
except ImportError:
    extraction.measure_energy = _without_codecarbon


def section(name):
    def decorator(function):
        def run(*args):
            print(f"\n== {name}", flush=True)
            start = time.perf_counter()
            try:
                RESULTS[name] = function(*args)
            except Exception:  # report and go on: one broken section must not hide the others
                RESULTS[name] = {"error": traceback.format_exc()}
                print(RESULTS[name]["error"], flush=True)
            print(f"   ({time.perf_counter() - start:.1f} s)", flush=True)

        return run

    return decorator


def save_random(directory: Path, kind: str) -> Path:
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2Model,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperModel,
    )

    torch.manual_seed(0)
    if kind == "wav2vec2":
        Wav2Vec2Model(Wav2Vec2Config()).save_pretrained(directory)
        Wav2Vec2FeatureExtractor().save_pretrained(directory)
    else:
        config = WhisperConfig(
            d_model=512,
            encoder_layers=6,
            encoder_attention_heads=8,
            encoder_ffn_dim=2048,
            decoder_layers=1,
            decoder_attention_heads=8,
            decoder_ffn_dim=2048,
            num_mel_bins=80,
        )
        WhisperModel(config).save_pretrained(directory)
        WhisperFeatureExtractor().save_pretrained(directory)
    return directory


def _extract(encoder, corpus, root: Path, precision: str, device: str = DEVICE, batch_seconds: float = 240.0):
    settings = ExtractionSettings(
        compute=Compute.resolve(device, precision), batch_seconds=batch_seconds, loader_workers=2
    )
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    start = time.perf_counter()
    features = extract_features(encoder, corpus, Cache(root), settings, progress=lambda line: None)
    seconds = time.perf_counter() - start
    audio = float(features.samples.sum()) / features.sample_rate
    row = {
        "precision": precision,
        "device": device,
        "seconds": round(seconds, 2),
        "audio_hours": round(audio / 3600, 3),
        "real_time_factor": seconds / audio,
        "audio_hours_per_hour": audio / seconds,
        "host_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if device.startswith("cuda"):
        row["gpu_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    print("  ", json.dumps(row), flush=True)
    return features, row


def _relative_difference(a, b, rows) -> float:
    return max(
        float(
            np.abs(a.utterance_frames(i).astype(np.float32) - b.utterance_frames(i)).max()
            / max(np.abs(b.utterance_frames(i)).max(), 1e-12)
        )
        for i in rows
    )


@section("wav2vec2-base extraction on cuda")
def wav2vec2_extraction(work: Path) -> dict:
    encoder = create(f"hf:{save_random(work / 'w2v', 'wav2vec2')}")
    corpus = NoiseCorpus(count(600), min_seconds=1.0, max_seconds=5.0)  # ~0.5 h of CREMA-D-like clip lengths
    rows, stores = [], {}
    for precision in ("fp32", "fp16", "bf16"):
        stores[precision], row = _extract(encoder, corpus, work / f"cache-{precision}", precision)
        rows.append(row)
    sample = range(0, len(corpus), max(1, len(corpus) // 40))
    differences = {p: _relative_difference(stores[p], stores["fp32"], sample) for p in ("fp16", "bf16")}
    small = NoiseCorpus(count(24), min_seconds=1.0, max_seconds=5.0)
    on_cpu, cpu_row = _extract(create(f"hf:{work / 'w2v'}"), small, work / "cache-cpu", "fp32", device="cpu")
    on_gpu, _ = _extract(encoder, small, work / "cache-gpu-small", "fp32")
    differences["cuda fp32 vs cpu"] = _relative_difference(on_gpu, on_cpu, range(len(small)))
    print("   max |difference| / max |fp32|:", differences, flush=True)
    return {"rows": rows + [cpu_row], "relative_difference": differences}


@section("CUDA out-of-memory back-off")
def out_of_memory(work: Path) -> dict:
    if DEVICE != "cuda":
        return {"skipped": "needs CUDA"}
    encoder = create(f"hf:{work / 'w2v'}").cuda()
    corpus = NoiseCorpus(count(48), min_seconds=10.0, max_seconds=14.0)
    reference, _ = _extract(encoder, corpus, work / "cache-oom-reference", "fp32", batch_seconds=30.0)
    total = torch.cuda.get_device_properties(0).total_memory
    attempts = []
    for cap_gib in (1.5, 1.0):  # small enough that the one big batch cannot fit, large enough for one utterance
        torch.cuda.empty_cache()
        torch.cuda.set_per_process_memory_fraction(cap_gib * 2**30 / total)
        lines: list[str] = []
        settings = ExtractionSettings(compute=Compute.resolve("cuda"), batch_seconds=10_000.0, loader_workers=0)
        try:
            capped = extract_features(
                encoder, corpus, Cache(work / f"cache-oom-{cap_gib}"), settings, progress=lines.append
            )
            difference = _relative_difference(capped, reference, range(len(corpus)))
        except Exception as error:  # noqa: BLE001 - reported: e.g. one utterance alone does not fit
            difference = repr(error)
        finally:
            torch.cuda.set_per_process_memory_fraction(1.0)
        halvings = [line for line in lines if "out of memory" in line]
        print(f"   cap {cap_gib} GiB:", *halvings[:6], sep="\n   ")
        attempts.append(
            {
                "cap_gib": cap_gib,
                "halvings": len(halvings),
                "first": halvings[:3],
                "max_relative_difference_vs_small_batches": difference,
            }
        )
        if halvings:
            break
    return {"attempts": attempts}


@section("Whisper-base-sized encoder: full vs trimmed windows")
def whisper_windows(work: Path) -> dict:
    source = save_random(work / "whisper", "whisper")
    corpus = NoiseCorpus(count(200), min_seconds=1.0, max_seconds=5.0)
    rows = []
    for window in ("full", "trimmed"):
        spec = f"hf:{source}" + (",window=trimmed" if window == "trimmed" else "")
        for precision in ("fp32", "fp16"):
            _, row = _extract(
                create(spec), corpus, work / f"cache-whisper-{window}-{precision}", precision, batch_seconds=60.0
            )
            row["window"] = window
            row["seconds_per_audio_hour"] = row["seconds"] / row["audio_hours"]
            rows.append(row)
    return {"rows": rows}


@section("heads, attacks, black-box and noise with the model on cuda")
def model_on_gpu(work: Path) -> dict:
    from trustser.models.head import HeadConfig, WaveformClassifier
    from trustser.models.training import TrainConfig, predict_logits, train_head
    from trustser.pillars.safety import run_attack
    from trustser.pillars.safety.blackbox import model_scores, score_based_attack

    corpus = NoiseCorpus(count(600), min_seconds=1.0, max_seconds=5.0)
    encoder = create(f"hf:{work / 'w2v'}")
    features = extract_features(
        encoder,
        corpus,
        Cache(work / "cache-fp32"),
        ExtractionSettings(compute=Compute.resolve(DEVICE), batch_seconds=240.0),
        progress=lambda line: None,
    )
    labels = np.array([i % 4 for i in range(len(corpus))])
    n = len(corpus)
    train, dev, test = np.arange(0, int(0.6 * n)), np.arange(int(0.6 * n), int(0.75 * n)), np.arange(int(0.75 * n), n)
    config = TrainConfig(max_epochs=3, patience=3)
    timings = {}
    for device in (DEVICE, "cpu"):
        start = time.perf_counter()
        head = train_head(
            features, labels, train, dev, num_classes=4, head_config=HeadConfig(), train_config=config, device=device
        )
        timings[f"train_head_{device}_s"] = time.perf_counter() - start
    model = WaveformClassifier(encoder, head).to(DEVICE).eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    waves = [corpus.load_audio(corpus.utterances[i].id) for i in test[:32]]
    predicted = predict_logits(model.head, features, test[:32]).argmax(1).numpy()  # attack what the model predicts
    results = {}
    for attack in ("FGSM", "PGD"):
        start = time.perf_counter()
        result = run_attack(model, waves, predicted, budget_db=45.0, attack=attack)
        results[attack] = {
            "success_rate": result.success_rate,
            "n_attacked": result.n_attacked,
            "snr_db_min": result.snr_db_min,
            "seconds": time.perf_counter() - start,
        }
    start = time.perf_counter()
    blackbox = score_based_attack(
        model_scores(model), waves[:8], predicted[:8], budget_db=45.0, max_queries=20, sample_rate=16000
    )
    results["black-box"] = {"success_rate": blackbox.success_rate, "seconds": time.perf_counter() - start}
    print("  ", json.dumps({**timings, **results}, default=float), flush=True)
    return {**timings, **results}


def noise_folds(count_: int, folds: int = 4):
    """Four folds over a noise corpus's utterances (it has no speakers to split): each fold trains on half,
    stops early on a quarter."""
    from benchmarks.heads import Folds

    labels = np.array([i % 4 for i in range(count_)])
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(folds):
        order = rng.permutation(count_)
        rows.append((np.sort(order[: count_ // 2]), np.sort(order[count_ // 2 : 3 * count_ // 4])))
    return Folds(labels, 4, rows)


@section("heads: one epoch of all folds against one read + compute")
def heads_epoch(work: Path) -> dict:
    from benchmarks.heads import measure_features, print_rows

    rows = []
    for utterances in (count(640), count(2560)):  # the synthetic corpus at 1x and 4x, in utterances
        corpus = NoiseCorpus(utterances, min_seconds=1.0, max_seconds=2.2)  # its clip lengths
        features = extract_features(
            create("ssl_shaped"),
            corpus,
            Cache(work / f"cache-heads-{utterances}"),
            ExtractionSettings(compute=Compute.resolve(DEVICE), batch_seconds=240.0),
            progress=lambda line: None,
        )
        row = measure_features(features, noise_folds(utterances), device=DEVICE, sequential=True)
        rows.append({"backbone": "ssl_shaped", "factor": utterances // count(640), **row})
    print_rows(rows)
    return {"rows": rows}


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    print(f"torch {torch.__version__}, {gpu}, device {DEVICE}, scale {SCALE}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        sections = os.environ.get("GPU_CHECK_SECTIONS", "extraction,oom,whisper,model,heads").split(",")
        if "oom" in sections and "extraction" not in sections:
            save_random(work / "w2v", "wav2vec2")
        for name, run in (
            ("extraction", wav2vec2_extraction),
            ("oom", out_of_memory),
            ("whisper", whisper_windows),
            ("model", model_on_gpu),
            ("heads", heads_epoch),
        ):
            if name in sections:
                run(work)
    (out / "gpu_check.json").write_text(json.dumps(RESULTS, indent=1, default=str))


if __name__ == "__main__":
    main()
