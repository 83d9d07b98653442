"""Attacks on a dimensional model: can an inaudible perturbation move its attribute predictions?

An attack succeeds on an utterance when, within the SNR budget, it moves the model's prediction of at
least one attribute by `margin` or more (in the corpus's units; the attack works on normalised values,
`margin / span`). It pulls every attribute towards a shifted target, the clean prediction moved by the
margin towards the side of [0, 1] with more room, by signed-gradient steps on the squared distance to it
(FGSM: one step of the whole L∞ budget ε = rms(x)·10^(−S/20); PGD: `PGD_STEPS` steps of ε/4, each
projected back into the ball). The perturbation never touches padding, and every produced waveform's
SNR is checked against the budget. Deterministic: no random start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from trustser.encoders.base import pad_waveforms, sample_mask
from trustser.pillars.safety.snr import linf_budget, snr_db

SHIFT_ATTACKS = {"FGSM": 1, "PGD": 10}  # attack -> signed-gradient steps
SNR_TOLERANCE_DB = 1e-3  # float32 waveforms: |δ| ≤ ε holds to rounding


@dataclass(frozen=True)
class ShiftOutcome:
    """Per utterance: clean and attacked predictions (normalised), and the SNR of what was produced."""

    before: np.ndarray  # [utterances, attributes]
    after: np.ndarray
    snr_db: np.ndarray  # [utterances]
    adversarial: tuple[np.ndarray, ...]


def shifted_targets(clean: torch.Tensor, margin: float) -> torch.Tensor:
    """Each prediction moved by `margin` towards the side of [0, 1] with more room."""
    return clean + torch.where(clean < 0.5, margin, -margin)


def shift_attack(
    model: nn.Module, waves: list[np.ndarray], *, budget_db: float, margin: float, attack: str, judge: nn.Module = None
) -> ShiftOutcome:
    """Craft on `model` the perturbations pulling its predictions `margin` (normalised) away; read the
    result on `judge` (default: the same model; a transfer attack's target model otherwise)."""
    if attack not in SHIFT_ATTACKS:
        raise ValueError(f"unknown shift attack {attack!r}; known: {', '.join(SHIFT_ATTACKS)}")
    judge = model if judge is None else judge
    padded, lengths = pad_waveforms(waves)
    mask = sample_mask(lengths, padded.shape[1]).float()
    epsilon = torch.tensor([linf_budget(w, budget_db) for w in waves], dtype=torch.float32)[:, None]
    steps = SHIFT_ATTACKS[attack]
    step = epsilon if steps == 1 else epsilon / 4
    with torch.no_grad():
        target = shifted_targets(model(padded, lengths).double(), margin)
    delta = torch.zeros_like(padded)
    for _ in range(steps):
        delta.requires_grad_(True)
        distance = ((model(padded + delta * mask, lengths).double() - target) ** 2).sum()
        (gradient,) = torch.autograd.grad(distance, delta)
        delta = (torch.maximum(torch.minimum(delta.detach() - step * gradient.sign(), epsilon), -epsilon)) * mask
    adversarial = padded + delta
    with torch.no_grad():
        before, after = judge(padded, lengths).double().numpy(), judge(adversarial, lengths).double().numpy()
    produced = tuple(adversarial[i, : len(w)].numpy().astype(np.float64) for i, w in enumerate(waves))
    snrs = np.array([snr_db(w, p) for w, p in zip(waves, produced)])
    if np.min(snrs) < budget_db - SNR_TOLERANCE_DB:
        raise AssertionError(f"{attack} produced {np.min(snrs):.6f} dB < budget {budget_db} dB")
    return ShiftOutcome(before, after, snrs, produced)


@dataclass(frozen=True)
class ShiftAttackResult:
    attack: str
    budget_db: float
    margin: float  # in the corpus's units
    success_rate: float  # share of attacked utterances with an attribute moved by >= margin
    n_attacked: int
    n_success: int
    mean_shift: dict[str, float]  # attribute -> mean |after − before| in the corpus's units
    snr_db_min: float
    snr_db_median: float


def shift_result(
    outcomes: list[ShiftOutcome], *, attack: str, budget_db: float, margin: float, span: float, names: tuple[str, ...]
) -> ShiftAttackResult:
    """Pool the folds' outcomes: success when some attribute moved by at least `margin` (corpus units)."""
    moved = np.concatenate([np.abs(o.after - o.before) for o in outcomes]) * span  # [utterances, attributes]
    success = moved.max(1) >= margin - 1e-9
    snrs = np.concatenate([o.snr_db for o in outcomes])
    return ShiftAttackResult(
        attack=attack,
        budget_db=float(budget_db),
        margin=float(margin),
        success_rate=float(success.mean()) if len(success) else float("nan"),
        n_attacked=len(success),
        n_success=int(success.sum()),
        mean_shift={name: float(moved[:, i].mean()) for i, name in enumerate(names)},
        snr_db_min=float(snrs.min()) if len(snrs) else float("nan"),
        snr_db_median=float(np.median(snrs)) if len(snrs) else float("nan"),
    )
