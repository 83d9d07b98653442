"""Training several emotion heads on one store at once: one read of the features per epoch feeds them all.

Every fold's head trains on part of the same corpus; trained one after another, each read its training
utterances from the store once per epoch, plus twice more for standardisation and once per epoch for
dev scoring. Here the heads of a group (`HeadJob`s: the folds, or any heads on one store) share each read:

- Features resident where they fit: when the group's utterances fit `feature_memory` bytes of float32
  frames, they are read once, in large contiguous reads, into one buffer (on the GPU when training runs
  there) and every epoch runs from it. Beyond the budget each epoch streams blocks of
  `STREAM_BLOCK_BYTES`, read on a background thread while the heads train on the previous one.
- Each epoch visits the corpus in blocks: its storage extents (`EXTENT_BYTES` of neighbouring
  utterances) in an order drawn from (seed, epoch), cut into blocks. Each head trains on its own rows of
  each block in an order drawn from its own generator, batch by batch, with dropout from its own torch
  generator. Neither depends on which other heads train beside it, nor on whether the block came from
  memory or from disk: the same seed gives the same weights alone or in a group, resident or streamed,
  on the same machine; the budget decides the speed, never the result.
- Each head keeps its own optimiser, class weights, early stopping on its own dev rows and best epoch;
  a head that stopped no longer costs compute, and the utterances only it needed are no longer read.
- Standardisation and the layer mix are one linear map applied where the frames lie; no padded batch
  is built (trustser.models.packed).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score
from torch import nn

from trustser.compute.devices import torch_threads
from trustser.compute.memory import release_free_memory
from trustser.features.frames import FrameSource
from trustser.features.resident import (
    BLOCKS_IN_FLIGHT,
    FrameBlock,
    frame_bytes,
    prefetched_blocks,
    read_block,
    storage_order,
)
from trustser.models.head import EmotionHead, HeadConfig
from trustser.models.objectives import ConcordanceLoss, dev_concordance, is_dimensional
from trustser.models.packed import packed_logits
from trustser.models.recipe import TrainConfig, class_weights

EXTENT_BYTES = 8 << 20
"""Neighbouring utterances read as one: the unit an epoch's order shuffles (large enough for reads at the
disk's speed, small enough that a block mixes utterances from all over the corpus)."""
STREAM_BLOCK_BYTES = 256 << 20
"""float32 frames of one block of an epoch. It fixes the batches (a head draws each batch from one block),
so it is a constant of the recipe, never derived from the machine."""
MIN_FEATURE_MEMORY = BLOCKS_IN_FLIGHT * STREAM_BLOCK_BYTES  # what streaming holds: the block in use, the next
EVAL_ROWS = 256  # utterances per forward pass of dev scoring


def default_feature_memory(device: torch.device | str = "cpu") -> int:
    """Half of the memory free now (the GPU's on a GPU): the most the resident features may take."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
    else:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return max(int(free) // 2, MIN_FEATURE_MEMORY)


@dataclass(frozen=True)
class HeadJob:
    """One head of a group: its training rows and the dev rows it stops early on (none: its training rows)."""

    train_indices: np.ndarray
    dev_indices: np.ndarray
    label: str = "head"  # how progress lines name it


def epoch_blocks(features: FrameSource, epoch: int, seed: int) -> list[np.ndarray]:
    """The corpus's utterances as epoch `epoch` visits them: storage extents in a seeded order, in blocks."""
    order = storage_order(features, np.arange(len(features.utterance_ids)))
    sizes = np.asarray(features.frame_counts)[order].astype(np.int64) * frame_bytes(features)
    extents = _cut(np.arange(len(order)), sizes, EXTENT_BYTES)
    blocks, current, used = [], [], 0
    for i in np.random.default_rng([seed, epoch]).permutation(len(extents)):
        size = int(sizes[extents[i]].sum())
        if current and used + size > STREAM_BLOCK_BYTES:
            blocks.append(order[np.concatenate(current)])
            current, used = [], 0
        current.append(extents[i])
        used += size
    if current:
        blocks.append(order[np.concatenate(current)])
    return blocks


def _cut(items: np.ndarray, sizes: np.ndarray, limit: int) -> list[np.ndarray]:
    """`items` in consecutive runs of at most `limit` total size (a larger item alone)."""
    runs, start, used = [], 0, 0
    for i, size in enumerate(sizes.tolist()):
        if i > start and used + size > limit:
            runs.append(items[start:i])
            start, used = i, 0
        used += size
    runs.append(items[start:])
    return [run for run in runs if len(run)]


class _Frames:
    """Where the group's frames come from: one resident block, or blocks streamed from the store."""

    def __init__(self, features: FrameSource, rows: np.ndarray, *, budget: int, device: torch.device):
        self.features, self.device = features, device
        need = int(np.asarray(features.frame_counts)[rows].sum()) * frame_bytes(features)
        self.resident = read_block(features, rows).to(device) if need <= budget else None

    def each_block(self, groups: list[np.ndarray], visit: Callable[[np.ndarray, FrameBlock], None]) -> None:
        """`visit(rows, block)` for each group in order, `block` holding the frames of its `rows`.

        A streamed block is dropped before the next one is asked for, so the reader starts the block after
        next only once this one is freed: two blocks in memory, never three.
        """
        if self.resident is not None:
            for group in groups:
                visit(group, self.resident)
            return
        groups = [group for group in groups if len(group)]
        with contextlib.closing(prefetched_blocks(self.features, groups)) as stream:
            for group in groups:
                block = next(stream).to(self.device)
                visit(group, block)
                del block

    def storage_blocks(self, rows: np.ndarray) -> list[np.ndarray]:
        """`rows` in store order, cut into blocks (passes whose order does not matter: statistics, scoring)."""
        order = storage_order(self.features, rows)
        if self.resident is not None:
            return [order]
        sizes = np.asarray(self.features.frame_counts)[order].astype(np.int64) * frame_bytes(self.features)
        return _cut(order, sizes, STREAM_BLOCK_BYTES)


class _HeadTraining:
    """One head's state through the group's epochs."""

    def __init__(self, job: HeadJob, head: EmotionHead, labels: np.ndarray, config: TrainConfig, device):
        self.job, self.head, self.config = job, head.to(device), config
        self.train = np.asarray(job.train_indices, dtype=np.int64)
        self.dev = np.asarray(job.dev_indices if len(job.dev_indices) else job.train_indices, dtype=np.int64)
        self.dimensional = is_dimensional(labels)
        if self.dimensional:  # attributes: the CCC loss, on each batch (trustser.models.objectives)
            self.loss_fn = ConcordanceLoss()
            self.targets = torch.as_tensor(labels, dtype=torch.float32).to(device)
            with torch.no_grad():  # start at the training mean: CCC's gradient then goes to the covariance
                self.head.classifier.bias.copy_(self.targets[torch.as_tensor(self.train, device=device)].mean(0))
        else:
            weights = class_weights(labels[self.train], head.classifier.out_features)
            self.loss_fn = nn.CrossEntropyLoss(weight=weights.to(device))
            self.targets = torch.as_tensor(labels, dtype=torch.long).to(device)
        self.optimiser = torch.optim.AdamW(head.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        self.order = np.random.default_rng(config.seed)  # batch order
        self.dropout = torch.Generator(device=device).manual_seed(config.seed)
        self.best_score, self.best_state, self.best_epoch = (-1.0, -np.inf), copy.deepcopy(head.state_dict()), 0
        self.stale, self.epochs, self.done = 0, 0, False
        self.dev_logits: dict[int, torch.Tensor] = {}

    def train_on(self, rows: np.ndarray, block: FrameBlock) -> None:
        mine = self.order.permutation(self.train[np.isin(self.train, rows)])
        self.head.train()
        for start in range(0, len(mine), self.config.batch_size):
            batch = mine[start : start + self.config.batch_size]
            logits = packed_logits(self.head, block, batch, generator=self.dropout)
            loss = self.loss_fn(logits, self.targets[batch])
            self.optimiser.zero_grad()
            loss.backward()
            self.optimiser.step()

    @torch.no_grad()
    def score_on(self, rows: np.ndarray, block: FrameBlock) -> None:
        mine = self.dev[np.isin(self.dev, rows)]
        self.head.eval()
        for start in range(0, len(mine), EVAL_ROWS):
            batch = mine[start : start + EVAL_ROWS]
            for row, logits in zip(batch.tolist(), packed_logits(self.head, block, batch).cpu()):
                self.dev_logits[row] = logits

    def end_epoch(self) -> None:
        """Score the epoch on the dev rows; keep it if best; stop after `patience` epochs without progress."""
        self.epochs += 1
        logits = torch.stack([self.dev_logits[int(row)] for row in self.dev])
        self.dev_logits = {}
        targets = torch.as_tensor(self.targets.cpu()[self.dev])
        if self.dimensional:
            score = dev_concordance(logits, targets)  # (mean CCC, −squared error)
        else:
            uar = float(balanced_accuracy_score(targets.numpy(), logits.argmax(1).numpy()))
            score = (uar, -float(nn.functional.cross_entropy(logits, targets, weight=self.loss_fn.weight.cpu())))
        if score > self.best_score:
            self.best_score, self.best_state, self.best_epoch = (
                score,
                copy.deepcopy(self.head.state_dict()),
                self.epochs,
            )
            self.stale = 0
        else:
            self.stale += 1
        self.done = self.stale >= self.config.patience or self.epochs >= self.config.max_epochs

    def result(self) -> EmotionHead:
        self.head.load_state_dict(self.best_state)
        return self.head.cpu().eval()


def _each_head(heads: list[_HeadTraining], step, rows: np.ndarray, block: FrameBlock) -> None:
    for h in heads:
        step(h, rows, block)


def _standardise(heads: list[_HeadTraining], frames: _Frames) -> None:
    """Each head's per-layer, per-dimension mean and std over all frames of its training rows.

    One pass for all heads: each utterance's frame sum and squared deviations from its own mean (summed
    about its first frame, in float32 while the utterance is in cache; 2.5x faster than `torch.var_mean`
    here), combined per head in float64 (Chan et al.'s pairwise update), so no head needs a second pass.
    """
    shape = (frames.features.num_layers, frames.features.hidden_size)
    totals = [[np.zeros(shape), np.zeros(shape), np.zeros(shape), 0] for _ in heads]  # sum, M2, sum^2/n, n
    members = [set(h.train.tolist()) for h in heads]
    union = np.unique(np.concatenate([h.train for h in heads]))

    def accumulate(group: np.ndarray, block: FrameBlock) -> None:
        for row in group.tolist():
            start, count = block.span(row)
            if count == 0:
                continue
            x = block.frames[start : start + count]
            first = x[0]
            deviation = x - first  # from its first frame: small numbers, so float32 sums lose little
            sums = deviation.sum(0).double().cpu().numpy()
            squares = (deviation * deviation).sum(0).double().cpu().numpy()
            m2 = squares - sums * sums / count
            total = first.double().cpu().numpy() * count + sums
            for member, accumulated in zip(members, totals):
                if row in member:
                    accumulated[0] += total
                    accumulated[1] += m2
                    accumulated[2] += total * total / count
                    accumulated[3] += count

    frames.each_block(frames.storage_blocks(union), accumulate)
    for h, (total, m2, square, count) in zip(heads, totals):
        mean = total / count
        variance = np.maximum((m2 + square - count * mean * mean) / count, 0.0)
        h.head.fit_standardisation(torch.from_numpy(mean).float(), torch.from_numpy(np.sqrt(variance)).float())


def train_heads(
    features: FrameSource,
    labels: np.ndarray,
    jobs: list[HeadJob],
    *,
    num_classes: int,
    head_config: HeadConfig = HeadConfig(),
    train_config: TrainConfig = TrainConfig(),
    device: torch.device | str = "cpu",
    feature_memory: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[EmotionHead]:
    """Train a fresh head per job on the same features, each keeping its epoch of best dev UAR (ties: lowest
    dev loss; for attributes, `labels` [utterances, attributes]: the CCC loss, best dev CCC); the heads come
    back on the CPU in the jobs' order. On the CPU training runs on one thread (trustser.models.training says
    why)."""
    device = torch.device(device)
    threads = torch_threads(1) if device.type == "cpu" else contextlib.nullcontext()
    with threads:
        return _train(features, labels, jobs, num_classes, head_config, train_config, device, feature_memory, progress)


def _train(features, labels, jobs, num_classes, head_config, train_config, device, feature_memory, progress):
    started = time.perf_counter()
    budget = default_feature_memory(device) if feature_memory is None else feature_memory
    needed = np.unique(np.concatenate([np.concatenate([j.train_indices, j.dev_indices]) for j in jobs]))
    frames = _Frames(features, needed.astype(np.int64), budget=budget, device=device)
    heads = []
    for job in jobs:
        torch.manual_seed(train_config.seed)  # the initial weights, as a head trained alone gets them
        head = EmotionHead(features.num_layers, features.hidden_size, num_classes, head_config)
        heads.append(_HeadTraining(job, head, labels, train_config, device))
    _standardise(heads, frames)
    for epoch in range(1, train_config.max_epochs + 1):
        active = [h for h in heads if not h.done]
        if not active:
            break
        wanted = np.unique(np.concatenate([h.train for h in active]))
        groups = [group[np.isin(group, wanted)] for group in epoch_blocks(features, epoch, train_config.seed)]
        frames.each_block(groups, functools.partial(_each_head, active, _HeadTraining.train_on))
        dev = np.unique(np.concatenate([h.dev for h in active]))
        frames.each_block(frames.storage_blocks(dev), functools.partial(_each_head, active, _HeadTraining.score_on))
        for h in active:
            h.end_epoch()
        release_free_memory()
    if progress is not None:
        where = "resident" if frames.resident is not None else f"streamed in {STREAM_BLOCK_BYTES >> 20} MiB blocks"
        together = f"{len(heads)} heads together" if len(heads) > 1 else "alone"
        for h in heads:
            progress(
                f"{h.job.label}: {h.epochs} epochs of {len(h.train)} utterances, kept epoch {h.best_epoch} "
                f"(dev {'CCC' if h.dimensional else 'UAR'} {h.best_score[0]:.3f}); {together}, "
                f"features {where}, "
                f"{time.perf_counter() - started:.0f} s"
            )
    return [h.result() for h in heads]
