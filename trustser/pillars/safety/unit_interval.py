"""Presenting a waveform classifier to torchattacks, which assumes inputs in [0, 1] and one scalar ε.

Utterance i is mapped affinely, u = 0.5 + x / scale_i, with scale_i = ε_i / ε where ε_i is the
utterance's own budget: the L∞ one (rms_i · 10^(−S/20)) or the L2 one (‖x_i‖₂ · 10^(−S/20)). A step
of ε in u is then exactly ε_i in the waveform, so one torchattacks ε gives every utterance its own
SNR budget. ε is chosen small enough that every
u stays inside [0.25, 0.75], so torchattacks' [0, 1] clamp never cuts the perturbation. The mapping
runs in float64 so the round trip is exact to ~1e-16. Padding samples are zeroed on the way back to
the waveform, so they are neither perturbed nor seen by the model.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from trustser.encoders.base import pad_waveforms, sample_mask
from trustser.pillars.safety.snr import l2_budget, linf_budget

NORMS = ("Linf", "L2")


class UnitIntervalModel(nn.Module):
    """Inputs are shaped [batch, 1, 1, samples]: torchattacks' L2 attacks normalise per "image" with
    views of four dimensions, so the waveforms are presented as one-pixel-high images."""

    def __init__(self, model: nn.Module, waves: list[np.ndarray], budget_db: float, norm: str = "Linf"):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        self.model = model
        padded, self.lengths = pad_waveforms(waves)
        self.mask = sample_mask(self.lengths, padded.shape[1])
        budget = linf_budget if norm == "Linf" else l2_budget
        budgets = torch.tensor([budget(w, budget_db) for w in waves], dtype=torch.float64)
        peaks = torch.tensor([float(np.max(np.abs(w))) for w in waves], dtype=torch.float64)
        if torch.any(budgets <= 0):
            raise ValueError("cannot set an SNR budget on a silent utterance")
        self.epsilon = float(0.25 / (1.0 + torch.max(peaks / budgets)))
        self.scales = budgets / self.epsilon
        self.clean_waves = padded.double()

    def to_unit(self, waves: torch.Tensor) -> torch.Tensor:
        return (0.5 + waves.double() / self.scales[:, None])[:, None, None, :]

    def to_waves(self, unit: torch.Tensor) -> torch.Tensor:
        return (unit.double().reshape(len(unit), -1) - 0.5) * self.scales[:, None] * self.mask

    def clean_unit(self) -> torch.Tensor:
        return self.to_unit(self.clean_waves)

    def forward(self, unit: torch.Tensor) -> torch.Tensor:
        return self.model(self.to_waves(unit).float(), self.lengths)

    def forward_waves(self) -> torch.Tensor:
        """Logits of the clean utterances."""
        return self.forward(self.clean_unit())
