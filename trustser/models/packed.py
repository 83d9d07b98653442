"""The emotion head's forward pass on packed frames: utterances back to back, without padding.

`EmotionHead.forward` takes zero-padded layers [batch, layers, frames, hidden] (what attacks and the
released model feed it). Training reads its features from one contiguous buffer (trustser.features.resident),
and there the same computation needs no padded copy: standardisation and the layer mix are one linear
map per (layer, dimension) with a shift, applied to each utterance's frames where they lie; the
point-wise convolutions are matrix products over all frames of the batch at once; mean pooling is a
per-utterance mean. The head's parameters, and so its stored weights, are the module's own.

Dropout draws from the head's own `torch.Generator`, so heads trained side by side do not share a
random stream: each one's weights are those it would have trained alone.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from trustser.features.resident import FrameBlock
from trustser.models.head import EmotionHead


def mix_map(head: EmotionHead) -> tuple[torch.Tensor, torch.Tensor]:
    """Standardisation and the softmax layer mix as one map: mixed = sum_l x_l * scale_l + shift."""
    scale = head.layer_weights()[:, None] / head.feature_std  # [layers, hidden]
    return scale, -(scale * head.feature_mean).sum(0)


def _dropout(x: torch.Tensor, p: float, generator: torch.Generator | None, training: bool) -> torch.Tensor:
    if not training or p == 0.0:
        return x
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p
    return x * keep / (1.0 - p)


def _linear(conv: nn.Conv1d, x: torch.Tensor) -> torch.Tensor:
    """A kernel-1 convolution over frames [frames, channels]: a matrix product with the same weights."""
    return nn.functional.linear(x, conv.weight[:, :, 0], conv.bias)


def packed_logits(
    head: EmotionHead,
    block: FrameBlock,
    rows,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Logits [len(rows), classes] of utterances `rows` of `block`; in training mode, with dropout from `generator`."""
    scale, shift = mix_map(head)
    spans = [block.span(row) for row in rows]
    mixed = torch.cat([(block.frames[start : start + count] * scale).sum(1) for start, count in spans]) + shift
    counts = torch.tensor([count for _, count in spans], device=mixed.device)
    first, _, dropout, second, _ = head.pointwise
    training = head.training
    frames = torch.relu(_linear(first, mixed))
    frames = torch.relu(_linear(second, _dropout(frames, dropout.p, generator, training)))  # [frames, conv_dim]
    owner = torch.repeat_interleave(torch.arange(len(spans), device=mixed.device), counts)
    if head.attention is None:
        sums = torch.zeros(len(spans), frames.shape[1], device=frames.device, dtype=frames.dtype)
        pooled = sums.index_add(0, owner, frames) / counts.clamp_min(1)[:, None]
    else:
        scores = _linear(head.attention, frames)[:, 0]  # [frames]
        top = torch.full((len(spans),), float("-inf"), device=scores.device).scatter_reduce(
            0, owner, scores.detach(), reduce="amax"
        )
        weights = torch.exp(scores - top[owner])
        totals = torch.zeros(len(spans), device=scores.device).index_add(0, owner, weights)
        weights = weights / totals[owner]
        sums = torch.zeros(len(spans), frames.shape[1], device=frames.device, dtype=frames.dtype)
        pooled = sums.index_add(0, owner, frames * weights[:, None])
    linear, _, hidden_dropout = head.hidden
    hidden = _dropout(torch.relu(linear(pooled)), hidden_dropout.p, generator, training)
    return head.classifier(hidden)


@torch.no_grad()
def packed_predictions(
    head: EmotionHead, features, indices, *, max_bytes: int, rows_per_pass: int = 256
) -> torch.Tensor:
    """Logits [len(indices), classes] on the CPU, in eval mode: the utterances read in store order in blocks
    of at most `max_bytes` of frames (each block in one buffer, neighbours in one read), packed, no padding."""
    from trustser.features.resident import cut_by_bytes, read_block, storage_order

    head.eval()
    device = next(head.parameters()).device
    indices = np.asarray(indices, dtype=np.int64)
    found: dict[int, torch.Tensor] = {}
    for rows in cut_by_bytes(features, storage_order(features, indices), max_bytes):
        block = read_block(features, rows).to(device)
        for start in range(0, len(rows), rows_per_pass):
            part = rows[start : start + rows_per_pass]
            found.update(zip(part.tolist(), packed_logits(head, block, part).cpu()))
        del block
    if not len(indices):
        return torch.zeros(0, head.classifier.out_features)
    return torch.stack([found[int(row)] for row in indices])
