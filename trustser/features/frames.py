"""Per-layer frame features in memory.

`LayerFeatures` holds frames concatenated ([total_frames, layers, hidden]) with offsets. The audit
itself reads a corpus's features from the on-disk store (`trustser.features.store.StoredFeatures`,
filled by `trustser.features.extraction`), which offers the same methods without holding the corpus in
memory; `LayerFeatures` serves small derived sets and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol

import numpy as np
import torch


def pad_frames(utterances: list[np.ndarray], num_layers: int, hidden_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Utterances' frames [frames, layers, hidden] -> zero-padded float32 [batch, layers, frames, hidden]
    and lengths."""
    counts = [len(frames) for frames in utterances]
    out = torch.empty(len(utterances), num_layers, max(counts, default=0), hidden_size)
    for row, frames in enumerate(utterances):
        out[row, :, : counts[row]] = torch.from_numpy(np.asarray(frames, dtype=np.float32)).transpose(0, 1)
        out[row, :, counts[row] :] = 0.0  # only the padding is zeroed: a whole zeroed batch costs as much as filling it
    return out, torch.tensor(counts, dtype=torch.long)


def pooled_layer_of(source: "FrameSource", layer: int) -> np.ndarray:
    """One layer of `source`'s pooled vectors [utterances, hidden_size], gathered block by block, so
    the other layers are never held."""
    out = np.empty((len(source.utterance_ids), source.hidden_size), np.float32)
    for rows, block in source.pooled_blocks():
        out[rows] = block[:, layer]
    return out


class FrameSource(Protocol):
    """What heads, probes and attacks read features through (in memory or from the on-disk store)."""

    utterance_ids: list[str]
    num_layers: int
    hidden_size: int
    extraction_energy: dict | None

    @property
    def frame_counts(self) -> np.ndarray: ...

    def frame_count(self, index: int) -> int: ...

    def utterance_frames(self, index: int) -> np.ndarray: ...

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]: ...

    def pooled(self) -> torch.Tensor: ...

    def pooled_blocks(self) -> Iterator[tuple[list[int], np.ndarray]]: ...

    def pooled_layer(self, layer: int) -> np.ndarray: ...

    def audio_seconds(self, indices) -> float: ...


@dataclass
class LayerFeatures:
    utterance_ids: list[str]
    frames: torch.Tensor  # [total_frames, num_layers, hidden_size], float32
    offsets: torch.Tensor  # [num_utterances + 1], int64
    samples: torch.Tensor | None = None  # [num_utterances] audio length in samples at `sample_rate`
    sample_rate: int = 16000
    extraction_energy: dict | None = None  # EnergyResult fields of the extraction run

    def audio_seconds(self, indices: list[int] | np.ndarray) -> float:
        """Duration of the given utterances' audio, seconds."""
        if self.samples is None:
            raise ValueError("these features were built without utterance lengths")
        return float(self.samples[torch.as_tensor(np.asarray(indices), dtype=torch.long)].sum()) / self.sample_rate

    @property
    def num_layers(self) -> int:
        return self.frames.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.frames.shape[2]

    def frame_count(self, index: int) -> int:
        return int(self.offsets[index + 1] - self.offsets[index])

    @property
    def frame_counts(self) -> np.ndarray:
        return self.offsets.diff().numpy()

    def utterance_frames(self, index: int) -> np.ndarray:
        """One utterance's frames [frames, num_layers, hidden_size]."""
        return self.frames[int(self.offsets[index]) : int(self.offsets[index + 1])].numpy()

    def batch(self, indices: list[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero-padded layers [batch, num_layers, frames, hidden] and frame lengths."""
        return pad_frames([self.utterance_frames(int(i)) for i in indices], self.num_layers, self.hidden_size)

    def pooled(self) -> torch.Tensor:
        """Mean over each utterance's frames: [num_utterances, num_layers, hidden_size]."""
        sums = torch.zeros(len(self.utterance_ids), self.num_layers, self.hidden_size, dtype=torch.float64)
        owner = torch.repeat_interleave(torch.arange(len(self.utterance_ids)), self.offsets.diff())
        sums.index_add_(0, owner, self.frames.double())
        return (sums / self.offsets.diff().clamp_min(1)[:, None, None]).float()

    def pooled_blocks(self) -> Iterator[tuple[list[int], np.ndarray]]:
        """`pooled()` as one block of every row (the in-memory features are small)."""
        yield list(range(len(self.utterance_ids))), self.pooled().numpy()

    def pooled_layer(self, layer: int) -> np.ndarray:
        return self.pooled()[:, layer].numpy()
