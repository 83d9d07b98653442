"""Extraction throughput by executor (`make bench ARGS="--sections executor"`): the default corpus encoded
in this process (torch on 1 and on 2 threads) and by Ray workers (1 and 2, one CPU each) of a runtime
started here, every run into a fresh cache. A Ray run's total counts its workers' start (interpreter,
torch, the encoder; `start s`) but not the runtime's, which a cluster pays once; `encode s` is the rest,
from the workers' start to the last commit, the part that scales with the corpus. The load average is
printed with every row: on a shared machine, other work slows every configuration.

Usage: python -m benchmarks.executors --workdir DIR [--backbones mfcc,ge2e] [--corpus synthetic]
Prints a table and writes DIR/executors.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import torch

from trustser.cache.store import Cache
from trustser.compute.executor import LOCAL, Executor
from trustser.corpora import create as create_corpus
from trustser.encoders import create
from trustser.features.extraction import ExtractionSettings, extract_features

CONFIGURATIONS = (  # (label, executor, torch threads in this process)
    ("local, 1 thread", LOCAL, 1),
    ("local, 2 threads", LOCAL, 2),
    ("ray, 1 worker", Executor("ray", workers=1), 1),
    ("ray, 2 workers", Executor("ray", workers=2), 1),
)


def measure(backbone: str, corpus, workdir: Path, label: str, executor: Executor, threads: int) -> dict:
    cache = workdir / "executor-cache" / label.replace(", ", "-").replace(" ", "")
    shutil.rmtree(cache, ignore_errors=True)
    torch.set_num_threads(threads)
    settings = ExtractionSettings(executor=executor)
    marks = {}

    def progress(line: str) -> None:
        if "Ray workers" in line or line.startswith("extract "):  # workers started / plan announced
            marks["start"] = time.perf_counter()

    start = time.perf_counter()
    extract_features(create(backbone), corpus, Cache(cache), settings, progress=progress)
    end = time.perf_counter()
    audio = sum(corpus.seconds(u.id) for u in corpus.utterances)
    shutil.rmtree(cache, ignore_errors=True)
    encode = end - marks["start"]
    return {
        "backbone": backbone,
        "executor": label,
        "seconds": end - start,
        "start_seconds": marks["start"] - start,
        "encode_seconds": encode,
        "audio_hours": audio / 3600,
        "audio_seconds_per_second": audio / encode,
        "load_average_1min": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--backbones", default="mfcc,ge2e")
    parser.add_argument("--corpus", default="synthetic")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    corpus = create_corpus(args.corpus, workdir / "corpus-cache", "skip")
    import ray

    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=300 * 2**20, _node_ip_address="127.0.0.1")
    runtime_seconds = time.perf_counter() - start
    rows = []
    for backbone in args.backbones.split(","):
        for label, executor, threads in CONFIGURATIONS:
            rows.append(measure(backbone, corpus, workdir, label, executor, threads))
            row = rows[-1]
            print(
                f"{backbone:6} {label:18} total {row['seconds']:6.1f} s  start {row['start_seconds']:5.1f} s  "
                f"encode {row['encode_seconds']:6.1f} s  {row['audio_seconds_per_second']:7.1f} audio s/s  "
                f"load {row['load_average_1min']:.1f}",
                flush=True,
            )
    ray.shutdown()
    (workdir / "executors.json").write_text(json.dumps({"ray_runtime_start_s": runtime_seconds, "rows": rows}))
    print(f"Ray runtime start: {runtime_seconds:.1f} s (not counted above)")


if __name__ == "__main__":
    main()
