"""Scale benchmark (`make bench`): memory, time and disk of extraction and of the audit as the corpus grows.

Sections (`--sections`, comma-separated; all by default):

- `scale`: the test-only `ssl_shaped` encoder (13 x 768 frames at 50 Hz, SSL-sized output without SSL
  compute) on the synthetic corpus at 1x, 2x, 4x and 8x the default size (8, 16, 32, 64 speakers x
  20 sentences x 4 emotions). Each factor runs extraction, then the utility + privacy + fairness
  trust tests but speaker identification (see `audit_command`), heads capped at `HEAD_MAX_EPOCHS`,
  each in a fresh process: wall time and that process's peak RSS, and the store's disk. The audit's
  resident memory after each test goes to `<workdir>/rss-per-test-<backbone>-<factor>x.log`.
- `wav2vec2`: the same at 1x with a randomly initialised `Wav2Vec2Config()` model (wav2vec 2.0 base
  size: 13 hidden states of 768), saved with `save_pretrained` and loaded through `hf:<dir>`.
- `whisper`: extraction cost per audio hour of a randomly initialised Whisper-base-sized encoder in
  its full 30 s windows and in the study's trimmed windows.
- `breakdown`: where a cold default audit (mfcc, egemaps, ge2e) spends its time, per pillar, against
  the unavoidable work: one batched pass of its encoders over what the pillar needs.
- `heads`: one epoch of all folds' heads against one read of their features plus their compute, for
  ssl_shaped at 1x and 4x (resident and streamed), mfcc, egemaps and ge2e (benchmarks/heads.py).
- `executor`: extraction throughput of mfcc and ge2e on the default corpus, in this process and by 1
  and 2 Ray workers (benchmarks/executors.py; needs `trustser[ray]`).

Corpus synthesis is done before any timing and is not counted. Numbers go to stdout as tables and to
`<workdir>/results.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEAKERS = 8


def run_measured(command: list[str], *, log: Path, env: dict[str, str] | None = None) -> dict:
    """Run `command` to completion; its wall time and peak resident memory (the process's own)."""
    start = time.perf_counter()
    with open(log, "w") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})),
        )
        _, status, usage = os.wait4(process.pid, 0)
    return {
        "seconds": time.perf_counter() - start,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "exit": os.waitstatus_to_exitcode(status),
    }


def directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def synthesise(corpus: str, cache: Path) -> None:
    from trustser.corpora import create

    create(corpus, cache, "skip")


def corpus_hours(corpus: str, cache: Path) -> float:
    from trustser.corpora import create

    built = create(corpus, cache, "skip")
    return sum(built.seconds(u.id) for u in built.utterances) / 3600


def extract_command(backbone: str, corpus: str, cache: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.extract_once",
        "--backbone",
        backbone,
        "--corpus",
        corpus,
        "--cache",
        str(cache),
    ]


FOLDS = 4  # --folds: the audit's default; fewer folds train fewer heads, each on less data
HEAD_MAX_EPOCHS = 10
"""--head-max-epochs of the scale audits. Early stopping trains a head for as long as dev UAR improves,
and on more data it improves for longer (fold 0 of the 13 x 768 audit: 10 epochs at 1x, 24 at 2x), so
uncapped wall time measures the recipe's convergence, not the cost of the machinery per utterance.
Ten epochs is where the 1x heads stop on their own."""
FEATURE_MEMORY_GIB = 0.5
"""--feature-memory of the scale audits: below even the 1x corpus's features (1.9 GiB), so heads stream
their features at every size and the peak measures the streaming, not a resident copy of the corpus."""


def audit_command(
    backbone: str, corpus: str, cache: Path, report: Path, *modules: str, folds: int = FOLDS
) -> list[str]:
    tests = [f"trust_tests/test_{module}.py" for module in modules]
    # Speaker identification is left out: its attacker, a multinomial logistic regression over every
    # speaker, costs utterances x speakers x iterations, and on the synthetic corpus the iterations grow
    # too, since speakers beyond the 8 default ones reuse espeak voice variants (26 at 1x, ~350 at 2x;
    # the test took 6.7 s at 1x and 215 s at 2x). Its memory is that of the other probes.
    return [
        sys.executable,
        "-m",
        "pytest",
        *tests,
        "--backbone",
        backbone,
        "--corpus",
        corpus,
        "--trust-cache",
        str(cache),
        "--trust-report",
        str(report),
        "--folds",
        str(folds),
        "--head-max-epochs",
        str(HEAD_MAX_EPOCHS),
        "--feature-memory",
        str(FEATURE_MEMORY_GIB),
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "benchmarks.rss_per_test",
        "-k",
        "not speaker_identification",
    ]


def measure_scale(backbone: str, factor: int, workdir: Path, *, folds: int = FOLDS) -> dict:
    corpus = f"synthetic:speakers={DEFAULT_SPEAKERS * factor},sentences=20"
    cache = workdir / "cache"
    synthesise(corpus, cache)
    tag = f"{backbone.replace(':', '_').replace('/', '_')[-40:]}-{factor}x"
    features_before = set((cache / "features").glob("*")) if (cache / "features").exists() else set()
    extraction = run_measured(extract_command(backbone, corpus, cache), log=workdir / f"extract-{tag}.log")
    stores = set((cache / "features").glob("*")) - features_before
    (workdir / f"rss-per-test-{tag}.log").unlink(missing_ok=True)
    audit = run_measured(
        audit_command(
            backbone, corpus, cache, workdir / f"report-{tag}", "utility", "privacy", "fairness", folds=folds
        ),
        log=workdir / f"audit-{tag}.log",
        env={"RSS_PER_TEST_LOG": str(workdir / f"rss-per-test-{tag}.log")},
    )
    row = {
        "backbone": backbone,
        "factor": factor,
        "corpus": corpus,
        "hours": corpus_hours(corpus, cache),
        "folds": folds,
        "extraction": extraction,
        "audit": audit,
        "disk_gib": sum(directory_bytes(p) for p in stores) / 2**30,
    }
    for store in stores:  # keep the disk bounded across factors; the numbers are taken
        shutil.rmtree(store, ignore_errors=True)
    return row


def print_scale(rows: list[dict]) -> None:
    print(
        "\n| backbone | corpus | audio h | extraction s | extraction peak RSS MiB | audit s (folds) "
        "| audit peak RSS MiB | disk GiB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        name = "wav2vec2-base (random)" if r["backbone"].startswith("hf:") else r["backbone"]
        print(
            f"| {name} | {r['factor']}x ({r['corpus'].split(':')[1]}) | {r['hours']:.3f} | "
            f"{r['extraction']['seconds']:.1f} | {r['extraction']['peak_rss_mib']:.0f} | "
            f"{r['audit']['seconds']:.1f} ({r['folds']}) | "
            f"{r['audit']['peak_rss_mib']:.0f} | {r['disk_gib']:.2f} |",
            flush=True,
        )


def save_wav2vec2_base(directory: Path) -> Path:
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    if not (directory / "config.json").exists():
        import torch

        torch.manual_seed(0)
        Wav2Vec2Model(Wav2Vec2Config()).save_pretrained(directory)
        Wav2Vec2FeatureExtractor().save_pretrained(directory)
    return directory


def save_whisper_base(directory: Path) -> Path:
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    if not (directory / "config.json").exists():
        import torch

        torch.manual_seed(0)
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


def measure_whisper(workdir: Path, utterances: int = 24) -> list[dict]:
    """Seconds of extraction per audio hour, full 30 s windows vs trimmed, on the first utterances of the corpus."""
    import torch

    from trustser.compute.devices import Compute
    from trustser.corpora import create as create_corpus
    from trustser.corpora.audio import load_waveform
    from trustser.encoders import create
    from trustser.features.extraction import encode_batch

    source = save_whisper_base(workdir / "whisper-base-random")
    corpus = create_corpus("synthetic", workdir / "cache", "skip")
    waves = [load_waveform(corpus, u.id, 16000) for u in corpus.utterances[:utterances]]
    audio_hours = sum(len(w) for w in waves) / 16000 / 3600
    compute = Compute.resolve(os.environ.get("BENCH_DEVICE", "cpu"))
    rows = []
    for window in ("full", "trimmed"):
        encoder = create(f"hf:{source}" + (",window=trimmed" if window == "trimmed" else "")).to(compute.device)
        encode_batch(encoder, waves[:2], compute, progress=print)  # warm-up
        start = time.perf_counter()
        for i in range(0, len(waves), 8):
            encode_batch(encoder, waves[i : i + 8], compute, progress=print)
        if compute.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        rows.append(
            {
                "window": window,
                "seconds": seconds,
                "audio_hours": audio_hours,
                "seconds_per_audio_hour": seconds / audio_hours,
                "device": str(compute.device),
            }
        )
    print("\n| Whisper-base-sized encoder | utterances | audio s | extraction s | s per audio hour |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['window']} window | {utterances} | {r['audio_hours'] * 3600:.1f} | {r['seconds']:.1f} | "
            f"{r['seconds_per_audio_hour']:.0f} |",
            flush=True,
        )
    return rows


PILLARS = ("utility", "privacy", "fairness", "safety", "sustainability")


def measure_breakdown(workdir: Path) -> list[dict]:
    """Per pillar: seconds of a cold default audit's tests, and the seconds of one batched pass of its encoder work."""
    cache = workdir / "breakdown-cache"
    shutil.rmtree(cache, ignore_errors=True)
    synthesise("synthetic", cache)  # not timed: every audit reuses the corpus
    report = workdir / "breakdown-report"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "trust_tests",
        "--trust-cache",
        str(cache),
        "--trust-report",
        str(report),
        f"--junitxml={report / 'junit.xml'}",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    total = run_measured(command, log=workdir / "breakdown-audit.log")
    spent = dict.fromkeys(PILLARS, 0.0)
    for case in ElementTree.parse(report / "junit.xml").getroot().iter("testcase"):
        pillar = case.get("classname", "").split(".")[-1].removeprefix("test_")
        if pillar in spent:
            spent[pillar] += float(case.get("time", 0.0))
    passes = single_passes(workdir)
    rows = [{"pillar": p, "seconds": spent[p], "single_pass_seconds": passes[p]} for p in PILLARS]
    print(f"\ncold default audit: {total['seconds']:.0f} s wall, peak RSS {total['peak_rss_mib']:.0f} MiB")
    print("| pillar | seconds spent (tests) | one batched pass of its encoder work, s |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r['pillar']} | {r['seconds']:.1f} | {r['single_pass_seconds']:.1f} |", flush=True)
    return rows


def single_passes(workdir: Path) -> dict[str, float]:
    """The unavoidable encoder work: extraction passes (utility, privacy, fairness share the features, so
    each counts them once), forward + backward over the attacked utterances (safety), a forward pass over
    the 6 s probe per backbone (sustainability)."""
    import numpy as np
    import torch

    from trustser.cache.store import Cache
    from trustser.corpora import create as create_corpus
    from trustser.corpora.audio import load_waveform
    from trustser.encoders import create
    from trustser.encoders.base import pad_waveforms
    from trustser.features.extraction import ExtractionSettings, extract_features

    corpus = create_corpus("synthetic", workdir / "breakdown-cache", "skip")
    extraction, attack = 0.0, 0.0
    rng = np.random.default_rng(0)
    attacked = [load_waveform(corpus, corpus.utterances[i].id, 16000) for i in rng.permutation(len(corpus))[:256]]
    for backbone in ("mfcc", "egemaps", "ge2e"):
        encoder = create(backbone)
        cache = Cache(workdir / "pass-cache")
        shutil.rmtree(cache.root, ignore_errors=True)
        start = time.perf_counter()
        extract_features(encoder, corpus, cache, ExtractionSettings(loader_workers=0), progress=lambda line: None)
        extraction += time.perf_counter() - start
        if encoder.differentiable:  # FGSM + PGD + noise attack at most 64 + 16 utterances per fold
            start = time.perf_counter()
            for i in range(0, len(attacked), 16):
                waves, lengths = pad_waveforms(attacked[i : i + 16])
                waves.requires_grad_(True)
                layers, _ = encoder(waves, lengths)
                layers.sum().backward()
            attack += time.perf_counter() - start
    shutil.rmtree(workdir / "pass-cache", ignore_errors=True)
    probe = torch.zeros(1, 6 * 16000)
    start = time.perf_counter()
    with torch.no_grad():
        for backbone in ("mfcc", "ge2e"):
            create(backbone)(probe, torch.tensor([probe.shape[1]]))
    return {
        "utility": extraction,
        "privacy": extraction,
        "fairness": extraction,
        "safety": attack,
        "sustainability": time.perf_counter() - start,
    }


def measure_executors(workdir: Path) -> dict:
    """benchmarks/executors.py in a fresh process (its Ray runtime ends with it); its table and peak RSS."""
    command = [sys.executable, "-m", "benchmarks.executors", "--workdir", str(workdir)]
    process = run_measured(command, log=workdir / "executors.log")
    print((workdir / "executors.log").read_text())
    if process["exit"] != 0:
        raise RuntimeError(f"benchmarks.executors failed; see {workdir / 'executors.log'}")
    return {**json.loads((workdir / "executors.json").read_text()), "driver_peak_rss_mib": process["peak_rss_mib"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="scale,wav2vec2,whisper,breakdown,executor")
    parser.add_argument("--factors", default="1,2,4,8")
    parser.add_argument("--workdir", default=str(ROOT / ".bench"))
    parser.add_argument("--folds", type=int, default=FOLDS, help="the audit's --folds (default 4)")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sections = args.sections.split(",")
    results_path = workdir / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    if "scale" in sections:
        results["scale"] = []
        for factor in [int(f) for f in args.factors.split(",")]:
            results["scale"].append(measure_scale("ssl_shaped", factor, workdir, folds=args.folds))
            print_scale(results["scale"][-1:])
            results_path.write_text(json.dumps(results, indent=1))
        print_scale(results["scale"])
    if "wav2vec2" in sections:
        source = save_wav2vec2_base(workdir / "wav2vec2-base-random")
        results["wav2vec2"] = [measure_scale(f"hf:{source}", 1, workdir, folds=args.folds)]
        print_scale(results["wav2vec2"])
    if "whisper" in sections:
        results["whisper"] = measure_whisper(workdir)
    if "breakdown" in sections:
        results["breakdown"] = measure_breakdown(workdir)
    if "executor" in sections:
        results["executor"] = measure_executors(workdir)
    if "heads" in sections:
        from benchmarks.heads import measure_all

        results["heads"] = measure_all(workdir / "heads")
    results_path.write_text(json.dumps(results, indent=1))
    print(f"\nresults: {results_path}")


if __name__ == "__main__":
    main()
