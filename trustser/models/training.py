"""Training the emotion head on cached features: class-weighted loss, early stopping on dev UAR; for
attributes (targets [utterances, attributes]), the CCC loss and early stopping on dev CCC
(trustser.models.objectives).

Seeded and deterministic on CPU: the same features, split, configuration and seed give the same
weights bit for bit. On the CPU a head trains on one torch thread, whatever the audit's thread count:
its matrices are small, so a second thread buys nothing (one fold of the default mfcc head: 9.8 s on
one thread, 9.6 s on two) and costs much when other work shares the cores, as OpenMP threads wait
for each other at every operation (53-56 s on two threads against 10-15 s on one, with a second job
running). One thread also makes the weights independent of the machine's core count.
"""

from __future__ import annotations

import contextlib
import copy
import time
from typing import Callable, Iterable

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score
from torch import nn

from trustser.compute.devices import torch_threads
from trustser.compute.memory import BATCH_SLACK, release_free_memory
from trustser.features.frames import FrameSource
from trustser.models.head import EmotionHead, HeadConfig
from trustser.models.head_group import HeadJob, train_heads
from trustser.models.objectives import ConcordanceLoss, dev_concordance, is_dimensional
from trustser.models.packed import packed_predictions
from trustser.models.recipe import TrainConfig, class_weights

TRAINING_VERSION = "4"  # bump when the loop changes its results


def standardisation(features: FrameSource, indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-layer, per-dimension mean and std over all frames of the given utterances.

    Two passes in float64, one utterance at a time, so memory stays at one utterance whatever the corpus.
    """
    shape = (features.num_layers, features.hidden_size)
    sums, squares, count = np.zeros(shape), np.zeros(shape), 0
    for i in indices:
        frames = features.utterance_frames(int(i))
        sums += frames.sum(0, dtype=np.float64)
        count += len(frames)
    mean = sums / count
    for i in indices:
        squares += ((features.utterance_frames(int(i)).astype(np.float64) - mean) ** 2).sum(0)
    return torch.from_numpy(mean).float(), torch.from_numpy(np.sqrt(squares / count)).float()


BATCH_BYTES = 256 << 20
"""The most padded float32 features one forward pass without gradients may hold. Batches of a fixed
count of utterances would need memory in proportion to the corpus's longest utterance; larger batches
run in consecutive parts. Default-size encoders never reach it."""

TRAINING_BATCH_BYTES = 64 << 20
"""The same bound for a training step, smaller because the backward pass keeps several batch-sized
intermediates alive. Larger batches accumulate their gradients over parts. A 13 x 768 encoder's
batches of 32 reach it on any corpus, so the step's peak is set by this bound and not by the corpus's
longest utterances (measured: the padded batches' tail grew the peak by 154 MiB from 1x to 2x of the
synthetic corpus at 256 MiB); the default encoders' batches stay below it."""


def within_budget(indices: np.ndarray, features: FrameSource, *, max_bytes: int | None = None) -> list[np.ndarray]:
    """`indices` in consecutive runs, in order, each of whose zero-padded batch fits `max_bytes`."""
    max_bytes = BATCH_BYTES if max_bytes is None else max_bytes
    frame_bytes = features.num_layers * features.hidden_size * 4
    counts = features.frame_counts
    runs, start, longest = [], 0, 0
    for position, index in enumerate(indices):
        longer = max(longest, int(counts[index]))
        if position > start and (position - start + 1) * longer * frame_bytes > max_bytes:
            runs.append(indices[start:position])
            start, longer = position, int(counts[index])
        longest = longer
    runs.append(indices[start:])
    return runs


def module_device(module: nn.Module) -> torch.device:
    """Where a module's weights live (the CPU for one without any)."""
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")


@torch.no_grad()
def predict_logits(
    head: EmotionHead, features: FrameSource, indices: np.ndarray, *, batch_size: int = 64
) -> torch.Tensor:
    """Logits [utterances, classes] on the CPU, computed batch by batch wherever the head is."""
    release_free_memory()  # what earlier steps freed, before this pass's batch-sized blocks are allocated
    if type(head) is EmotionHead:  # our own head: packed frames read in blocks, no padded batch
        return packed_predictions(head, features, np.asarray(indices), max_bytes=BATCH_BYTES)
    head.eval()
    device = module_device(head)
    outputs = []
    for start in range(0, len(indices), batch_size):
        for part in within_budget(indices[start : start + batch_size], features):
            layers, lengths = features.batch(part)
            outputs.append(head(layers.to(device), lengths.to(device)).cpu())
            del layers
            release_free_memory(above=BATCH_SLACK)  # the heap's free share would otherwise grow with the pass
    return torch.cat(outputs) if outputs else torch.zeros(0, head.classifier.out_features)


def per_utterance_loss(head: EmotionHead, features: FrameSource, labels: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Unweighted cross-entropy (nats) of each utterance, or for attributes its squared error summed over
    them (CCC is a property of a set, not of one utterance): the membership attacker's score."""
    logits = predict_logits(head, features, indices)
    if is_dimensional(labels):
        return ((logits.double() - torch.as_tensor(labels[indices]).double()) ** 2).sum(1).numpy()
    return nn.functional.cross_entropy(logits, torch.as_tensor(labels[indices]), reduction="none").numpy()


def train_head(
    features: FrameSource,
    labels: np.ndarray,
    train_indices: np.ndarray,
    dev_indices: np.ndarray,
    *,
    num_classes: int,
    head_config: HeadConfig = HeadConfig(),
    train_config: TrainConfig = TrainConfig(),
    device: torch.device | str = "cpu",
    feature_memory: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> EmotionHead:
    """Train a fresh head on `train_indices`, keeping the epoch with the best dev UAR (ties: lowest dev loss).

    A group of one (trustser.models.head_group): the same weights as this head trained beside others.
    Training runs on `device`; the head comes back on the CPU, ready to be stored. `progress` gets one
    line when it is done: epochs run, the epoch kept, seconds.
    """
    [head] = train_heads(
        features,
        labels,
        [HeadJob(np.asarray(train_indices), np.asarray(dev_indices))],
        num_classes=num_classes,
        head_config=head_config,
        train_config=train_config,
        device=device,
        feature_memory=feature_memory,
        progress=None if progress is None else (lambda line: progress(line.partition(": ")[2])),
    )
    return head


def new_head(
    features: FrameSource, train_indices: np.ndarray, *, num_classes: int, head_config: HeadConfig
) -> EmotionHead:
    """An untrained head whose input standardisation comes from the training utterances."""
    head = EmotionHead(features.num_layers, features.hidden_size, num_classes, head_config)
    head.fit_standardisation(*standardisation(features, train_indices))
    return head


def fit_head(
    head: EmotionHead,
    features: FrameSource,
    labels: np.ndarray,
    train_indices: np.ndarray,
    dev_indices: np.ndarray,
    *,
    device: torch.device | str = "cpu",
    **options,
) -> EmotionHead:
    """The training loop shared by the plain and the DP-SGD head (`_fit_epochs`), on one thread on the CPU."""
    threads = torch_threads(1) if torch.device(device).type == "cpu" else contextlib.nullcontext()
    with threads:
        return _fit_epochs(head, features, labels, train_indices, dev_indices, device=device, **options)


def _fit_epochs(
    head: EmotionHead,
    features: FrameSource,
    labels: np.ndarray,
    train_indices: np.ndarray,
    dev_indices: np.ndarray,
    *,
    optimiser: torch.optim.Optimizer,
    batches: Callable[[], Iterable[np.ndarray]],
    train_config: TrainConfig,
    model: nn.Module | None = None,
    device: torch.device | str = "cpu",
    progress: Callable[[str], None] | None = None,
) -> EmotionHead:
    """The training loop shared by the plain and the DP-SGD head: class-weighted loss, early stopping.

    `batches()` yields one epoch's batches of utterance indices; `model` is what the batches go
    through (the head itself, or opacus's per-sample-gradient wrapper of it).
    """
    model = (head if model is None else model).to(device)
    if is_dimensional(labels):  # attributes: the CCC loss, on the whole batch
        loss_fn = dev_loss_fn = ConcordanceLoss()
        targets = torch.as_tensor(labels, dtype=torch.float32)
        with torch.no_grad():  # start at the training mean: CCC's gradient then goes to the covariance
            head.classifier.bias.copy_(targets[train_indices].mean(0))
    else:
        weights = class_weights(labels[train_indices], head.classifier.out_features)
        loss_fn = nn.CrossEntropyLoss(weight=weights.to(device))
        dev_loss_fn = nn.CrossEntropyLoss(weight=weights)  # dev logits come back to the CPU
        targets = torch.as_tensor(labels, dtype=torch.long)
    best_score, best_state, stale = (-1.0, -np.inf), copy.deepcopy(head.state_dict()), 0
    started, best_epoch = time.perf_counter(), 0
    for epoch in range(1, train_config.max_epochs + 1):
        model.train()
        for batch in batches():
            if len(batch) == 0:  # Poisson sampling can draw an empty batch (DP-SGD); nothing to learn from
                continue
            # opacus's per-sample-gradient wrapper takes each batch in one pass
            parts = within_budget(batch, features, max_bytes=TRAINING_BATCH_BYTES) if model is head else [batch]
            if len(parts) == 1:
                layers, lengths = features.batch(batch)
                loss = loss_fn(model(layers.to(device), lengths.to(device)), targets[batch].to(device))
                optimiser.zero_grad()
                loss.backward()
            elif isinstance(loss_fn, ConcordanceLoss):
                optimiser.zero_grad()
                _accumulate_batch_loss_gradients(model, features, parts, targets, loss_fn=loss_fn, device=device)
            else:
                optimiser.zero_grad()
                _accumulate_gradients(model, features, parts, targets, weight=loss_fn.weight, device=device)
            optimiser.step()
            release_free_memory(above=BATCH_SLACK)  # the heap's free share would otherwise grow with the epoch
        score = _dev_score(
            head, features, labels, dev_indices if len(dev_indices) else train_indices, loss_fn=dev_loss_fn
        )
        if score > best_score:
            best_score, best_state, stale, best_epoch = score, copy.deepcopy(head.state_dict()), 0, epoch
        else:
            stale += 1
            if stale >= train_config.patience:
                break
    if progress is not None:
        progress(
            f"{epoch} epochs of {len(train_indices)} utterances in {time.perf_counter() - started:.0f} s, "
            f"kept epoch {best_epoch} (dev {'CCC' if is_dimensional(labels) else 'UAR'} {best_score[0]:.3f})"
        )
    head.load_state_dict(best_state)
    release_free_memory()
    return head.cpu().eval()


def _accumulate_gradients(
    model: nn.Module,
    features: FrameSource,
    parts: list[np.ndarray],
    targets: torch.Tensor,
    *,
    weight: torch.Tensor,
    device,
) -> None:
    """The gradient of the class-weighted mean loss over all `parts` together, one part in memory at a time."""
    total = weight[targets[np.concatenate(parts)].to(device)].sum()  # the weighted mean's denominator
    for part in parts:
        layers, lengths = features.batch(part)
        logits = model(layers.to(device), lengths.to(device))
        loss = nn.functional.cross_entropy(logits, targets[part].to(device), weight=weight, reduction="sum") / total
        loss.backward()


def _accumulate_batch_loss_gradients(
    model: nn.Module, features: FrameSource, parts: list[np.ndarray], targets: torch.Tensor, *, loss_fn, device
) -> None:
    """The gradient of a loss over the whole batch that is no sum over utterances (CCC), one part in memory
    at a time: the parts' outputs without gradients, the loss's gradient with respect to them, then each part
    again with gradients, given its share. The first pass runs on a forked RNG, so the second draws the same
    dropout masks."""
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        outputs = [model(*(t.to(device) for t in features.batch(part))) for part in parts]
    whole = torch.cat(outputs).requires_grad_(True)
    (gradient,) = torch.autograd.grad(loss_fn(whole, targets[np.concatenate(parts)].to(device)), whole)
    start = 0
    for part in parts:
        layers, lengths = features.batch(part)
        model(layers.to(device), lengths.to(device)).backward(gradient[start : start + len(part)])
        start += len(part)


def _dev_score(
    head: EmotionHead, features: FrameSource, labels: np.ndarray, indices: np.ndarray, *, loss_fn
) -> tuple[float, float]:
    """(UAR, −loss) on the dev split, compared in that order.

    UAR alone saturates on easy data after an epoch or two and would keep a barely trained head with
    tiny margins; the loss breaks such ties in favour of the more confident epoch.
    """
    logits = predict_logits(head, features, indices)
    if is_dimensional(labels):
        return dev_concordance(logits, torch.as_tensor(labels[indices]))
    targets = torch.as_tensor(labels[indices], dtype=torch.long)
    uar = float(balanced_accuracy_score(labels[indices], logits.argmax(1).numpy()))
    return uar, -float(loss_fn(logits, targets))
