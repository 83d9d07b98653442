"""Heads benchmark (`make bench ARGS="--sections heads"`): one epoch of every fold's head against the floor.

For one backbone's stored features of the synthetic corpus (4 speaker-independent folds) it times, in one run:

- `epoch`: one epoch of all folds' heads as the audit trains them (`train_heads`, every fold at once; its
  resident read, standardisation and dev scoring included, averaged over `EPOCHS` epochs);
- `sequential`: the same with each fold's head trained alone, one after another (`train_head` per fold:
  what the audit did before heads shared their reads);
- `read`: reading the folds' training utterances through the store once (the union of the folds' rows);
- `compute`: the heads' forward and backward over the same batches held in memory, zero-padded, through
  `EmotionHead.forward` (the module every fold's head is), summed over the folds;

and prints `epoch / (read + compute)`. Numbers are seconds of wall time on one torch thread.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

EPOCHS = 2
FOLDS = 4


def prepare(backbone: str, factor: int, workdir: Path):
    """The backbone's stored features of the synthetic corpus at `factor` x the default size, and its split."""
    from trustser.cache.store import Cache
    from trustser.corpora import create as create_corpus
    from trustser.corpora.split import CorpusSplit
    from trustser.encoders import create
    from trustser.features.extraction import ExtractionSettings, extract_features

    corpus = create_corpus(f"synthetic:speakers={8 * factor},sentences=20", workdir / "cache", "skip")
    features = extract_features(
        create(backbone), corpus, Cache(workdir / "cache"), ExtractionSettings(), progress=lambda line: None
    )
    return features, CorpusSplit(corpus, corpus.folds(FOLDS, 0))


@dataclass(frozen=True)
class Folds:
    """What the timings need of a split: labels, classes and each fold's (training, dev) rows."""

    labels: np.ndarray
    num_classes: int
    rows: list[tuple[np.ndarray, np.ndarray]]

    @classmethod
    def of(cls, split) -> "Folds":
        rows = [(split.train_rows(fold), split.dev_rows(fold)) for fold in split.folds]
        return cls(split.labels, split.num_classes, rows)


def time_read(features, rows: np.ndarray) -> float:
    """Seconds to read `rows`' frames through the store once, utterance by utterance into one buffer each."""
    start = time.perf_counter()
    for i in rows:
        features.utterance_frames(int(i))
    return time.perf_counter() - start


def _sync(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_compute(features, folds: Folds, *, device: str = "cpu", packed: bool = False, batch_size: int = 32) -> float:
    """Seconds of every fold's head forward + backward over its epoch's batches, each batch in memory (on
    `device`) before its step's clock starts (holding a whole epoch's would take GiBs at 4x): zero-padded
    through `EmotionHead.forward`, or (`packed`) packed from a block as the audit's loop feeds them."""
    from trustser.features.resident import read_block
    from trustser.models.head import EmotionHead
    from trustser.models.packed import packed_logits

    total = 0.0
    generator = np.random.default_rng(0)
    targets = torch.as_tensor(folds.labels).to(device)
    for train, _ in folds.rows:
        order = generator.permutation(train)
        torch.manual_seed(0)
        head = EmotionHead(features.num_layers, features.hidden_size, folds.num_classes).to(device)
        optimiser = torch.optim.AdamW(head.parameters(), lr=1e-3)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            if packed:
                block = read_block(features, rows).to(device)
            else:
                layers, lengths = (t.to(device) for t in features.batch(rows))
            _sync(device)
            began = time.perf_counter()
            logits = packed_logits(head, block, rows) if packed else head(layers, lengths)
            loss = torch.nn.functional.cross_entropy(logits, targets[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            _sync(device)
            total += time.perf_counter() - began
    return total


def time_sequential(features, folds: Folds, *, epochs: int = EPOCHS, device: str = "cpu") -> float:
    """Seconds per epoch of all folds' heads, each trained alone by `train_head`."""
    from trustser.models.training import TrainConfig, train_head

    recipe = TrainConfig(max_epochs=epochs, patience=epochs)
    start = time.perf_counter()
    for train, dev in folds.rows:
        train_head(
            features, folds.labels, train, dev, num_classes=folds.num_classes, train_config=recipe, device=device
        )
    return (time.perf_counter() - start) / epochs


def time_together(
    features, folds: Folds, *, epochs: int = EPOCHS, feature_memory: int | None = None, device: str = "cpu"
) -> float | None:
    """Seconds per epoch of all folds' heads trained together by `train_heads` (None before it existed); the
    resident read and standardisation are in it, spread over the epochs."""
    try:
        from trustser.models.head_group import HeadJob, train_heads
    except ImportError:
        return None
    from trustser.models.recipe import TrainConfig

    recipe = TrainConfig(max_epochs=epochs, patience=epochs)
    jobs = [HeadJob(train, dev) for train, dev in folds.rows]
    start = time.perf_counter()
    train_heads(
        features,
        folds.labels,
        jobs,
        num_classes=folds.num_classes,
        train_config=recipe,
        feature_memory=feature_memory,
        device=device,
    )
    _sync(device)
    return (time.perf_counter() - start) / epochs


def measure_features(
    features,
    folds: Folds,
    *,
    device: str = "cpu",
    sequential: bool = True,
    feature_memory_gib: float | None = None,
) -> dict:
    """The timings of one store's heads (see the module's docstring), ratios included."""
    from trustser.compute.devices import torch_threads

    union = np.unique(np.concatenate([train for train, _ in folds.rows]))
    threads = torch_threads(1) if device == "cpu" else contextlib.nullcontext()
    memory = None if feature_memory_gib is None else int(feature_memory_gib * 2**30)
    with threads:
        time_read(features, union[:8])  # opens and verifies the shards: not a per-epoch cost
        packed = None
        try:
            packed = time_compute(features, folds, device=device, packed=True)
        except ImportError:  # before the packed loop existed
            pass
        epoch = time_together(features, folds, feature_memory=memory, device=device)
        if packed is not None:  # again after the epoch, averaged: other work on the machine drifts
            packed = (packed + time_compute(features, folds, device=device, packed=True)) / 2
        row = {
            "device": device,
            "utterances": len(folds.labels),
            "feature_gib": float(features.frame_counts.sum()) * features.num_layers * features.hidden_size * 4 / 2**30,
            "read_s": time_read(features, union),
            "compute_s": time_compute(features, folds, device=device),
            "packed_compute_s": packed,
            "feature_memory_gib": feature_memory_gib,
            "epoch_s": epoch,
            "sequential_s": time_sequential(features, folds, device=device) if sequential else None,
        }
    floor = row["read_s"] + row["compute_s"]
    row["ratio"] = None if row["epoch_s"] is None else row["epoch_s"] / floor
    row["sequential_ratio"] = None if row["sequential_s"] is None else row["sequential_s"] / floor
    row["packed_ratio"] = None if None in (row["epoch_s"], packed) else row["epoch_s"] / (row["read_s"] + packed)
    return row


def measure(
    backbone: str, factor: int, workdir: Path, *, sequential: bool = True, feature_memory_gib: float | None = None
) -> dict:
    features, split = prepare(backbone, factor, workdir)
    row = measure_features(features, Folds.of(split), sequential=sequential, feature_memory_gib=feature_memory_gib)
    return {"backbone": backbone, "factor": factor, **row}


def print_rows(rows: list[dict]) -> None:
    def cell(value, pattern="{:.2f}"):
        return "n/a" if value is None else pattern.format(value)

    print(
        "\n| backbone | corpus | features GiB (--feature-memory) "
        f"| epoch, {FOLDS} folds together s | epoch, folds one by one s | one read s | compute s (padded module) "
        "| compute s (packed) | together / (read + compute) | one by one / (read + compute) "
        "| together / (read + packed compute) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        memory = f"{r['feature_memory_gib']:g} GiB" if r.get("feature_memory_gib") else "default"
        print(
            f"| {r['backbone']} | {r['factor']}x ({r['utterances']} utt.) | {r['feature_gib']:.2f} ({memory}) | "
            f"{cell(r['epoch_s'])} | {cell(r['sequential_s'])} | {r['read_s']:.2f} | {r['compute_s']:.2f} | "
            f"{cell(r['packed_compute_s'])} | {cell(r['ratio'])} | {cell(r['sequential_ratio'])} | "
            f"{cell(r['packed_ratio'])} |",
            flush=True,
        )


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="ssl_shaped")
    parser.add_argument("--factor", type=int, default=1)
    parser.add_argument("--workdir", default=".bench")
    parser.add_argument("--feature-memory", type=float, default=None, help="GiB (default: half the free memory)")
    parser.add_argument("--no-sequential", action="store_true", help="skip the folds-one-by-one column")
    parser.add_argument("--utility-cpu", action="store_true", help="CPU seconds of the utility test's heads instead")
    args = parser.parse_args()
    if args.utility_cpu:
        measure_utility_cpu(Path(args.workdir), backbone=args.backbone)
        return
    row = measure(
        args.backbone,
        args.factor,
        Path(args.workdir),
        sequential=not args.no_sequential,
        feature_memory_gib=args.feature_memory,
    )
    print_rows([row])


CASES = (  # (backbone, corpus factor, --feature-memory GiB): the `heads` section of benchmarks/scale.py
    ("ssl_shaped", 1, None),
    ("ssl_shaped", 1, 0.5),  # streamed: the budget below the features
    ("ssl_shaped", 4, 0.5),  # 7.8 GiB of features: streamed (resident, it would take 7.8 GiB of memory)
    ("mfcc", 1, None),
    ("egemaps", 1, None),
    ("ge2e", 1, None),
)


def measure_all(workdir: Path, *, cases=CASES) -> list[dict]:
    rows = []
    for backbone, factor, memory in cases:
        rows.append(measure(backbone, factor, workdir, sequential=False, feature_memory_gib=memory))
        print_rows(rows[-1:])
    print_rows(rows)
    return rows


def _cpu_seconds() -> float:
    """CPU seconds of this process (all its threads) and of its children that ended (espeak, audio loaders)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure_utility_cpu(workdir: Path, *, backbone: str = "ssl_shaped", max_epochs: int = 5) -> dict:
    """CPU seconds of what the utility test does on a cold cache, default corpus, four folds: synthesis and
    extraction, then the four folds' heads (`--head-max-epochs`) and their test predictions."""
    import shutil

    from trustser.cache.store import Cache
    from trustser.corpora import create as create_corpus
    from trustser.corpora.split import CorpusSplit
    from trustser.features.extraction import ExtractionSettings
    from trustser.models.context import RunContext
    from trustser.models.training import TrainConfig
    from trustser.run.backbone_run import trained_run

    cache = workdir / "utility-cpu-cache"
    shutil.rmtree(cache, ignore_errors=True)
    start = _cpu_seconds()
    corpus = create_corpus("synthetic", cache, "skip")
    split = CorpusSplit(corpus, corpus.folds(FOLDS, 0))
    context = RunContext(
        split, Cache(cache), TrainConfig(max_epochs=max_epochs), extraction=ExtractionSettings(), progress=print
    )
    run = trained_run(backbone, context)
    _ = run.features
    extracted = _cpu_seconds()
    _ = run.heads
    trained = _cpu_seconds()
    _ = run.predictions
    done = _cpu_seconds()
    shutil.rmtree(cache, ignore_errors=True)
    row = {
        "backbone": backbone,
        "max_epochs": max_epochs,
        "synthesis_and_extraction_cpu_s": extracted - start,
        "heads_cpu_s": done - extracted,
        "training_cpu_s": trained - extracted,
        "predictions_cpu_s": done - trained,
    }
    row["ratio"] = row["heads_cpu_s"] / row["synthesis_and_extraction_cpu_s"]
    print(
        f"\n{backbone}, 4 folds, --head-max-epochs {max_epochs}: heads and predictions {row['heads_cpu_s']:.1f} CPU s, "
        f"synthesis and extraction {row['synthesis_and_extraction_cpu_s']:.1f} CPU s: {row['ratio']:.2f}x "
        f"(training {row['training_cpu_s']:.1f}, test predictions {row['predictions_cpu_s']:.1f})",
        flush=True,
    )
    return row


if __name__ == "__main__":
    main()
