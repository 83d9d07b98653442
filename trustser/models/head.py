"""The downstream SER model of the TrustSER study, on top of a frozen encoder's layers.

softmax-weighted sum over layers -> point-wise 1-D convolutions -> mean or attentive pooling -> MLP.
Input features are standardised per layer and dimension with statistics of the training split,
because encoders differ in scale by orders of magnitude (eGeMAPS mixes Hz, dB and ratios).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import torch
from torch import nn

from trustser.encoders.base import frame_mask
from trustser.errors import ModelOutputError


@dataclass(frozen=True)
class HeadConfig:
    conv_dim: int = 128
    mlp_dim: int = 128
    pooling: str = "mean"  # "mean" | "attentive"
    dropout: float = 0.2

    def as_dict(self) -> dict:
        return asdict(self)


class EmotionHead(nn.Module):
    def __init__(self, num_layers: int, hidden_size: int, num_classes: int, config: HeadConfig = HeadConfig()):
        super().__init__()
        if config.pooling not in ("mean", "attentive"):
            raise ValueError(f"pooling must be 'mean' or 'attentive', got {config.pooling!r}")
        self.config = config
        self.register_buffer("feature_mean", torch.zeros(num_layers, hidden_size))
        self.register_buffer("feature_std", torch.ones(num_layers, hidden_size))
        self.layer_logits = nn.Parameter(torch.zeros(num_layers))
        self.pointwise = nn.Sequential(
            nn.Conv1d(hidden_size, config.conv_dim, kernel_size=1),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Conv1d(config.conv_dim, config.conv_dim, kernel_size=1),
            nn.ReLU(),
        )
        self.attention = nn.Conv1d(config.conv_dim, 1, kernel_size=1) if config.pooling == "attentive" else None
        self.hidden = nn.Sequential(nn.Linear(config.conv_dim, config.mlp_dim), nn.ReLU(), nn.Dropout(config.dropout))
        self.classifier = nn.Linear(config.mlp_dim, num_classes)

    def fit_standardisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.feature_mean.copy_(mean)
        self.feature_std.copy_(std.clamp_min(1e-5))

    def layer_weights(self) -> torch.Tensor:
        return torch.softmax(self.layer_logits, dim=0)

    def embed(self, layers: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        """Penultimate representation [batch, mlp_dim] from layers [batch, L, frames, H]."""
        normed = (layers - self.feature_mean[None, :, None, :]) / self.feature_std[None, :, None, :]
        mixed = torch.einsum("l,blfh->bfh", self.layer_weights(), normed)
        frames = self.pointwise(mixed.transpose(1, 2))  # [batch, conv_dim, frames]
        mask = frame_mask(frame_lengths, frames.shape[-1])[:, None, :]
        if self.attention is None:
            pooled = (frames * mask).sum(-1) / mask.sum(-1).clamp_min(1)
        else:
            scores = self.attention(frames).masked_fill(~mask, float("-inf"))
            pooled = (frames * torch.softmax(scores, dim=-1)).sum(-1)
        return self.hidden(pooled)

    def forward(self, layers: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(layers, frame_lengths))


class WaveformClassifier(nn.Module):
    """Encoder + head as one model from padded waveforms to emotion logits (for attacks, FLOPs)."""

    def __init__(self, encoder: nn.Module, head: EmotionHead):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits on the device of `waveforms`, computed on the model's own device.

        Callers (attacks, noise, black-box search) keep their tensors on the CPU; the transfers are
        differentiable, so white-box gradients still reach the waveform.
        """
        # buffers too: a finished model's head may hold no parameters (a torch: model's head reads its logits)
        device = next(itertools.chain(self.head.parameters(), self.head.buffers())).device
        layers, frame_lengths = self.encoder(waveforms.to(device), lengths.to(device))
        logits = self.head(layers, frame_lengths)
        bad = (~torch.isfinite(logits.detach()).all(1)).nonzero().flatten().tolist()
        if bad:  # never a prediction: argmax would read a NaN row as class 0
            seconds = (lengths.detach().double().cpu() / self.encoder.sample_rate).tolist()
            raise ModelOutputError(
                self.encoder.name,
                "gave NaN or infinite logits, expected finite values",
                rows=bad,
                batch_size=len(waveforms),
                seconds=[seconds[row] for row in bad],
            )
        return logits.to(waveforms.device)
