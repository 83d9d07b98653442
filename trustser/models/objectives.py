"""What a head is trained to minimise, by task: class-weighted cross-entropy over emotion classes
(categorical), or the concordance correlation coefficient's loss over attributes (dimensional).

The attribute-track convention (MSP-Podcast's challenge, audeering's wav2vec 2.0 model): the loss is
1 − CCC, averaged over the attributes, computed on each batch. Training targets say the task: class
indices [utterances] or normalised attributes [utterances, attributes] (`is_dimensional`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

DIMENSIONAL_VERSION = "1"  # bump when dimensional training changes its results (categorical: TRAINING_VERSION)
EPSILON = 1e-8  # keeps a batch of identical values (variance 0) from dividing by zero


def is_dimensional(targets: np.ndarray) -> bool:
    """Whether training targets are attributes (one column each) rather than class indices."""
    return np.asarray(targets).ndim == 2


def concordance(predicted: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Lin's concordance correlation coefficient of each column [attributes] (population moments):
    2 cov / (var_pred + var_true + (mean_pred − mean_true)²)."""
    mean_p, mean_t = predicted.mean(0), true.mean(0)
    var_p, var_t = predicted.var(0, unbiased=False), true.var(0, unbiased=False)
    covariance = ((predicted - mean_p) * (true - mean_t)).mean(0)
    return 2 * covariance / (var_p + var_t + (mean_p - mean_t) ** 2 + EPSILON)


class ConcordanceLoss(nn.Module):
    """1 − CCC, the mean over attributes."""

    def forward(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return 1 - concordance(outputs, targets.to(outputs.dtype)).mean()


def dev_concordance(outputs: torch.Tensor, targets: torch.Tensor) -> tuple[float, float]:
    """(mean CCC, −mean squared error) on the dev split, compared in that order (as UAR, −loss for classes)."""
    ccc = float(concordance(outputs.double(), targets.double()).mean())
    return ccc, -float(((outputs.double() - targets.double()) ** 2).mean())
