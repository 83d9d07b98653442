"""White-box adversarial attacks at an SNR budget, through torchattacks (METRICS.md, Safety)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from trustser.safety.snr import snr_db
from trustser.safety.unit_interval import UnitIntervalModel


SNR_TOLERANCE_DB = 1e-6  # float64 rounding of the waveform <-> [0, 1] mapping


@dataclass(frozen=True)
class AttackResult:
    attack: str
    budget_db: float
    success_rate: float  # among utterances classified correctly before the attack; NaN if none was
    n_attacked: int  # utterances classified correctly before the attack
    n_success: int
    n_total: int
    snr_db_min: float  # measured on the produced adversarial waveforms (real samples only)
    snr_db_median: float
    adversarial: tuple[np.ndarray, ...] = ()  # produced waveforms, same order as the input


def _attack_batch(model: nn.Module, waves: list[np.ndarray], labels: np.ndarray, budget_db: float, attack_name: str):
    import torchattacks  # imported here: it is heavy and only the safety pillar needs it

    wrapped = UnitIntervalModel(model, waves, budget_db).eval()
    clean = wrapped.clean_unit()
    targets = torch.as_tensor(labels, dtype=torch.long)
    attack = {"FGSM": lambda: torchattacks.FGSM(wrapped, eps=wrapped.epsilon)}[attack_name]()
    with torch.no_grad():
        before = wrapped(clean).argmax(1)
    adversarial_unit = attack(clean, targets)
    with torch.no_grad():
        after = wrapped(adversarial_unit).argmax(1)
    adversarial = wrapped.to_waves(adversarial_unit)
    produced = [adversarial[i, : len(w)].numpy().astype(np.float64) for i, w in enumerate(waves)]
    return before.numpy(), after.numpy(), produced


def run_attack(
    model: nn.Module,
    waves: list[np.ndarray],
    labels: np.ndarray,
    budget_db: float,
    attack_name: str = "FGSM",
    batch_size: int = 16,
) -> AttackResult:
    """Attack every utterance (untargeted) and measure success rate and achieved SNR."""
    order = np.argsort([len(w) for w in waves], kind="stable")
    before = np.empty(len(waves), dtype=np.int64)
    after = np.empty(len(waves), dtype=np.int64)
    produced: list[np.ndarray | None] = [None] * len(waves)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in tqdm(batches, desc=f"{attack_name} at {budget_db:g} dB", unit="batch", leave=False):
        b, a, p = _attack_batch(model, [waves[i] for i in batch], labels[batch], budget_db, attack_name)
        before[batch], after[batch] = b, a
        for i, wave in zip(batch, p):
            produced[i] = wave
    correct = before == labels
    flipped = correct & (after != labels)
    snrs = np.array([snr_db(w, p) for w, p in zip(waves, produced)])
    # |δ| ≤ ε_i on every sample guarantees SNR ≥ budget; anything less is a bug in the wrapper.
    if np.min(snrs) < budget_db - SNR_TOLERANCE_DB:
        worst = int(np.argmin(snrs))
        raise AssertionError(f"{attack_name} produced {snrs[worst]:.6f} dB < budget {budget_db} dB (utterance {worst})")
    return AttackResult(
        attack=attack_name,
        budget_db=float(budget_db),
        success_rate=float(flipped.sum() / correct.sum()) if correct.any() else float("nan"),
        n_attacked=int(correct.sum()),
        n_success=int(flipped.sum()),
        n_total=len(waves),
        snr_db_min=float(np.min(snrs)),
        snr_db_median=float(np.median(snrs)),
        adversarial=tuple(produced),
    )
