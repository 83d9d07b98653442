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

import time
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


def fold_rows(split) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(split.train_rows(fold), split.dev_rows(fold)) for fold in split.folds]


def time_read(features, rows: np.ndarray) -> float:
    """Seconds to read `rows`' frames through the store once, utterance by utterance into one buffer each."""
    start = time.perf_counter()
    for i in rows:
        features.utterance_frames(int(i))
    return time.perf_counter() - start


def time_compute(features, split, *, batch_size: int = 32, seed: int = 0) -> float:
    """Seconds of every fold's head forward + backward over its epoch's padded batches, each batch read into
    memory before its step's clock starts (holding a whole epoch's would take GiBs at 4x)."""
    from trustser.models.head import EmotionHead

    total = 0.0
    generator = np.random.default_rng(seed)
    targets = torch.as_tensor(split.labels)
    for train, _ in fold_rows(split):
        order = generator.permutation(train)
        torch.manual_seed(seed)
        head = EmotionHead(features.num_layers, features.hidden_size, split.num_classes)
        optimiser = torch.optim.AdamW(head.parameters(), lr=1e-3)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            layers, lengths = features.batch(rows)
            began = time.perf_counter()
            loss = torch.nn.functional.cross_entropy(head(layers, lengths), targets[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += time.perf_counter() - began
            del layers
    return total


def time_sequential(features, split, *, epochs: int = EPOCHS) -> float:
    """Seconds per epoch of all folds' heads, each trained alone by `train_head`."""
    from trustser.models.training import TrainConfig, train_head

    recipe = TrainConfig(max_epochs=epochs, patience=epochs)
    start = time.perf_counter()
    for train, dev in fold_rows(split):
        train_head(features, split.labels, train, dev, num_classes=split.num_classes, train_config=recipe)
    return (time.perf_counter() - start) / epochs


def time_together(features, split, *, epochs: int = EPOCHS, feature_memory: int | None = None) -> float | None:
    """Seconds per epoch of all folds' heads trained together by `train_heads` (None before it existed)."""
    try:
        from trustser.models.training import HeadJob, train_heads
    except ImportError:
        return None
    from trustser.models.training import TrainConfig

    recipe = TrainConfig(max_epochs=epochs, patience=epochs)
    jobs = [HeadJob(train, dev) for train, dev in fold_rows(split)]
    start = time.perf_counter()
    train_heads(
        features, split.labels, jobs, num_classes=split.num_classes, train_config=recipe, feature_memory=feature_memory
    )
    return (time.perf_counter() - start) / epochs


def measure(
    backbone: str, factor: int, workdir: Path, *, sequential: bool = True, feature_memory_gib: float | None = None
) -> dict:
    from trustser.compute.devices import torch_threads

    features, split = prepare(backbone, factor, workdir)
    union = np.unique(np.concatenate([train for train, _ in fold_rows(split)]))
    with torch_threads(1):
        time_read(features, union[:8])  # opens and verifies the shards: not a per-epoch cost
        row = {
            "backbone": backbone,
            "factor": factor,
            "utterances": len(split.labels),
            "feature_gib": float(features.frame_counts.sum()) * features.num_layers * features.hidden_size * 4 / 2**30,
            "read_s": time_read(features, union),
            "compute_s": time_compute(features, split),
            "feature_memory_gib": feature_memory_gib,
            "epoch_s": time_together(
                features, split, feature_memory=None if feature_memory_gib is None else int(feature_memory_gib * 2**30)
            ),
            "sequential_s": time_sequential(features, split) if sequential else None,
        }
    floor = row["read_s"] + row["compute_s"]
    row["ratio"] = None if row["epoch_s"] is None else row["epoch_s"] / floor
    row["sequential_ratio"] = None if row["sequential_s"] is None else row["sequential_s"] / floor
    return row


def print_rows(rows: list[dict]) -> None:
    def cell(value, pattern="{:.2f}"):
        return "n/a" if value is None else pattern.format(value)

    print(
        "\n| backbone | corpus | features GiB (--feature-memory) "
        f"| epoch, {FOLDS} folds together s | epoch, folds one by one s | one read s | compute s "
        "| together / (read + compute) | one by one / (read + compute) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['backbone']} | {r['factor']}x ({r['utterances']} utt.) | {r['feature_gib']:.2f} "
            f"({cell(r.get('feature_memory_gib'), '{:g} GiB') if r.get('feature_memory_gib') else 'default'}) | "
            f"{cell(r['epoch_s'])} | {cell(r['sequential_s'])} | {r['read_s']:.2f} | {r['compute_s']:.2f} | "
            f"{cell(r['ratio'])} | {cell(r['sequential_ratio'])} |",
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
    args = parser.parse_args()
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
    ("ssl_shaped", 4, None),
    ("ssl_shaped", 4, 1.0),  # streamed: the budget below the features
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


if __name__ == "__main__":
    main()
