"""Transfer attack for models gradients cannot reach (e.g. eGeMAPS through openSMILE's C++ code).

The adversarial audio is crafted white-box on a differentiable surrogate trained on the same data,
within the same SNR budget, and then played to the target model. Success is counted on the target
(utterances it classified correctly before, whose prediction the crafted audio changes), so the
number is a lower bound on the target's vulnerability: a stronger or closer surrogate may do better.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from trustser.encoders.base import pad_waveforms
from trustser.errors import batch_of
from trustser.pillars.safety.attacks import AttackResult, attack_result, run_attack


def predict(model: nn.Module, waves: list[np.ndarray], *, batch_size: int = 16) -> np.ndarray:
    """Predicted classes of a waveform model, batch by batch."""
    predicted = []
    for start in range(0, len(waves), batch_size):
        part = waves[start : start + batch_size]
        with torch.no_grad(), batch_of(range(start, start + len(part)), len(waves)):
            predicted.append(model(*pad_waveforms(part)).argmax(1).numpy())
    return np.concatenate(predicted) if predicted else np.zeros(0, dtype=np.int64)


def transfer_attack(
    surrogate_model: nn.Module,
    target: nn.Module,
    waves: list[np.ndarray],
    labels: np.ndarray,
    *,
    budget_db: float,
    attack: str,
    surrogate: str,
    seed: int = 0,
) -> AttackResult:
    """`attack` crafted on `surrogate_model` (the backbone named `surrogate`), success counted on `target`."""
    crafted = run_attack(surrogate_model, waves, labels, budget_db=budget_db, attack=attack, seed=seed)
    adversarial = [w.astype(np.float32) for w in crafted.adversarial]
    before, after = predict(target, waves), predict(target, adversarial)
    return attack_result(
        waves,
        list(crafted.adversarial),
        labels,
        before,
        after,
        attack=f"{attack} transferred from {surrogate}",
        budget_db=budget_db,
    )
