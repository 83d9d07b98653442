"""The one contract every encoder meets: waveforms in, a stack of per-layer frame features out."""

from __future__ import annotations

import hashlib
from typing import Iterable

import torch
from torch import nn


class Encoder(nn.Module):
    """A speech encoder exposing every layer's frame-level representation.

    Subclasses set the class attributes and implement `forward`. `forward` takes a zero-padded batch
    of mono waveforms at `sample_rate` (float32, shape [batch, samples]) with their true lengths in
    samples, and returns `(layers, frame_lengths)`: `layers` has shape
    [batch, num_layers, frames, hidden_size], zero beyond each utterance's frame length.
    Frames beyond `frame_lengths` are padding and must never influence valid frames.
    """

    name: str = "encoder"
    sample_rate: int = 16000
    num_layers: int = 1
    hidden_size: int = 1
    differentiable: bool = True
    #: shortest audio whose output is meaningful (finite); shorter corpus files are bad audio for the audit
    min_seconds: float = 0.0
    #: why gradients cannot reach the waveform, for encoders with differentiable = False
    non_differentiable_reason: str = ""
    #: the datasets its weights were trained or fine-tuned on (corpus names or Hugging Face dataset ids):
    #: auditing it on one of them fails the protocol pillar's training-data gate. Set by the encoder's
    #: registration (`register(..., trained_on=...)`), a checkpoint's model card, or a team module's attribute
    trained_on: tuple[str, ...] = ()

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def config(self) -> dict:
        """Everything besides the weights that changes the output (frontend settings, layer set)."""
        return {}

    def fingerprint(self) -> str:
        """Content hash of weights and configuration, used in cache keys."""
        digest = hashlib.sha256()
        digest.update(repr(sorted(self.config().items())).encode())
        digest.update(f"{self.name}|{self.sample_rate}|{self.num_layers}|{self.hidden_size}".encode())
        for key, tensor in sorted(self.state_dict().items()):
            digest.update(key.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]


def dataset_names(value: object, where: str) -> tuple[str, ...]:
    """A declaration of training data (one name, or a list of names) as a tuple of names; ValueError
    naming `where` for anything else."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) and name.strip() for name in names):
        raise ValueError(f"{where}: trained_on must be a dataset name or a list of them, got {value!r}")
    return tuple(dict.fromkeys(name.strip() for name in names))


def frame_mask(frame_lengths: torch.Tensor, frames: int) -> torch.Tensor:
    """Boolean [batch, frames] mask, True on valid frames."""
    return torch.arange(frames, device=frame_lengths.device)[None, :] < frame_lengths[:, None]


def sample_mask(lengths: torch.Tensor, samples: int) -> torch.Tensor:
    """Boolean [batch, samples] mask, True on real (non-padding) samples."""
    return torch.arange(samples, device=lengths.device)[None, :] < lengths[:, None]


def pad_waveforms(waves: Iterable[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad 1-D waveforms into a [batch, samples] tensor plus their lengths."""
    waves = [torch.as_tensor(w, dtype=torch.float32) for w in waves]
    lengths = torch.tensor([len(w) for w in waves], dtype=torch.long)
    batch = torch.zeros(len(waves), int(lengths.max()))
    for row, wave in enumerate(waves):
        batch[row, : len(wave)] = wave
    return batch, lengths
