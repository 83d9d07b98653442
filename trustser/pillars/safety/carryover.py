"""Do the white-box adversarial examples of a model still fool its export? (docs/metrics.md, Safety)

The attack is crafted on the differentiable one of two models that should answer alike (a PyTorch model and
its ONNX export), and its successes, the adversarial audio that changed that model's prediction, are played
to the other unchanged. A faithful export is fooled by nearly all of them, so the white-box results measured on
the PyTorch model speak for the model that ships; a low share says they do not (the export computes
something else, or is accidentally more robust), and its own safety is what the black-box gates measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from trustser.pillars.safety.attacks import run_attack
from trustser.pillars.safety.transfer import predict


@dataclass(frozen=True)
class CarryoverResult:
    crafted_on: str  # the model the attack followed the gradients of
    played_to: str  # the model its adversarial audio was played to
    attack: str
    budget_db: float
    n_attacked: int  # utterances attacked
    n_fooled: int  # those whose adversarial audio changed crafted_on's correct prediction
    n_carried: int  # of those, the ones played_to also gets wrong
    share: float  # n_carried / n_fooled; NaN when nothing fooled crafted_on

    @property
    def note(self) -> str:
        fooled, carried = self.n_fooled, self.n_carried
        return f"{carried} of {fooled} adversarial examples of {self.crafted_on} also fool {self.played_to}"


@dataclass(frozen=True)
class FoldCarryover:
    fooled: int
    carried: int
    attacked: int


def fold_carryover(
    crafted_on: nn.Module,
    played_to: nn.Module,
    waves: list[np.ndarray],
    labels: np.ndarray,
    *,
    budget_db: float,
    attack: str,
    seed: int,
) -> FoldCarryover:
    """`attack` on `crafted_on` (white-box); its successes played to `played_to`."""
    crafted = run_attack(crafted_on, waves, labels, budget_db=budget_db, attack=attack, seed=seed)
    flipped = np.asarray(crafted.flipped, dtype=bool)
    adversarial = [wave.astype(np.float32) for wave, hit in zip(crafted.adversarial, flipped) if hit]
    carried = int((predict(played_to, adversarial) != labels[flipped]).sum()) if adversarial else 0
    return FoldCarryover(int(flipped.sum()), carried, len(waves))
