"""White-box adversarial attacks at an SNR budget, through torchattacks (docs/metrics.md, Safety)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from trustser.errors import NotApplicable, batch_of
from trustser.pillars.safety.snr import snr_db
from trustser.pillars.safety.unit_interval import UnitIntervalModel

ATTACKS = {"FGSM": "Linf", "PGD": "Linf", "PGDL2": "L2", "APGD": "Linf"}
"""The white-box attacks (torchattacks), each with the norm its SNR budget is turned into."""


SNR_TOLERANCE_DB = 1e-6  # float64 rounding of the waveform <-> [0, 1] mapping

INSTALL_TORCHATTACKS = "pip install 'torchattacks>=3.5' --no-deps"
"""torchattacks is not a declared dependency: its metadata requires torchvision (which would replace a
CPU build of torch) and requests~=2.25, none of which its code imports (README, "Dependencies")."""


def import_torchattacks():
    """torchattacks, imported when an attack first runs (it is heavy and only the safety pillar needs it);
    without it the attack does not apply here, which the audit reports as a SKIP naming the install."""
    try:
        import torchattacks
    except ImportError as error:
        raise NotApplicable(
            f"torchattacks is not installed ({error}); install it with: {INSTALL_TORCHATTACKS}"
        ) from None
    return torchattacks


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
    curve: tuple[tuple[float, float], ...] = ()  # (budget dB, success rate) of the same attack at other budgets
    flipped: tuple[bool, ...] = ()  # per input utterance: classified correctly, then changed by the attack
    examples: tuple[str, ...] = ()  # stored WAV pairs of successful attacks, for listening (<id>.adversarial.wav)


PGD_STEPS = 10


def target_classes(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The targeted attacks' goal: the next class (y + 1 mod C), so every utterance has a wrong target."""
    return (labels + 1) % num_classes


def check_attack(attack: str, *, targeted: bool = False) -> None:
    """A ValueError naming the known attacks unless `attack` (targeted or not) is one."""
    if attack not in ATTACKS or (attack == "APGD" and targeted):
        raise ValueError(
            f"unknown attack {attack!r}{' (targeted)' if targeted else ''}; "
            f"known: {', '.join(ATTACKS)} (APGD untargeted only)"
        )


def _make_attack(torchattacks, wrapped: UnitIntervalModel, *, attack: str, num_classes: int, targeted: bool, seed: int):
    """The torchattacks attack named `attack` (checked by `check_attack`), with one ε that is every
    utterance's own SNR budget.

    PGD and PGD-L2 start from the clean input (no random start), so they are deterministic and batching
    does not change their result; step ε/4 over 10 steps can cross the whole ball 2.5 times. APGD
    (Croce & Hein's step-size-free PGD) draws its start from `seed` (the audit's --seed).
    """
    eps = wrapped.epsilon
    build = {
        "FGSM": lambda: torchattacks.FGSM(wrapped, eps=eps),
        "PGD": lambda: torchattacks.PGD(wrapped, eps=eps, alpha=eps / 4, steps=PGD_STEPS, random_start=False),
        "PGDL2": lambda: torchattacks.PGDL2(wrapped, eps=eps, alpha=eps / 4, steps=PGD_STEPS, random_start=False),
        "APGD": lambda: torchattacks.APGD(
            wrapped, norm="Linf", eps=eps, steps=PGD_STEPS, n_restarts=1, seed=seed, loss="ce"
        ),
    }
    attacker = build[attack]()
    # the attack's own arithmetic stays on the CPU, where UnitIntervalModel keeps its float64 mapping; the
    # model moves each forward pass to its device (WaveformClassifier)
    attacker.set_device(torch.device("cpu"))
    if targeted:
        attacker.set_mode_targeted_by_function(lambda images, labels: target_classes(labels, num_classes))
    return attacker


def _attack_batch(
    model: nn.Module,
    waves: list[np.ndarray],
    labels: np.ndarray,
    *,
    budget_db: float,
    attack: str,
    targeted: bool,
    seed: int,
):
    """(prediction before, after, produced waveforms, targets) for one batch.

    Only the utterances classified correctly are attacked (the others cannot count as successes and
    keep their clean audio); APGD needs that too, as it forwards sub-batches of such utterances.
    """
    torchattacks = import_torchattacks()
    norm = ATTACKS.get(attack, "Linf")
    with torch.no_grad():
        logits = UnitIntervalModel(model, waves, budget_db, norm).eval().forward_waves()
    before, num_classes = logits.argmax(1).numpy(), logits.shape[1]
    goal = target_classes(torch.as_tensor(labels, dtype=torch.long), num_classes).numpy() if targeted else None
    after, produced = before.copy(), [np.asarray(w, dtype=np.float64) for w in waves]
    correct = np.flatnonzero(before == labels)
    if len(correct):
        wrapped = UnitIntervalModel(model, [waves[i] for i in correct], budget_db, norm).eval()
        attacker = _make_attack(
            torchattacks, wrapped, attack=attack, num_classes=num_classes, targeted=targeted, seed=seed
        )
        with batch_of(correct.tolist(), len(waves)):  # the attacked rows are the batch's correct ones
            adversarial_unit = attacker(
                wrapped.clean_unit(), torch.as_tensor(labels[correct], dtype=torch.long)
            ).detach()
            with torch.no_grad():
                after[correct] = wrapped(adversarial_unit).argmax(1).numpy()
        adversarial = wrapped.to_waves(adversarial_unit)
        for row, i in enumerate(correct):
            produced[i] = adversarial[row, : len(waves[i])].numpy().astype(np.float64)
    return before, after, produced, goal


def run_attack(
    model: nn.Module,
    waves: list[np.ndarray],
    labels: np.ndarray,
    *,
    budget_db: float,
    attack: str,
    batch_size: int = 16,
    targeted: bool = False,
    seed: int = 0,
) -> AttackResult:
    """Attack every utterance and measure success rate and achieved SNR.

    Untargeted success: the prediction leaves the true class; targeted: it lands on `target_classes`.
    `seed` drives the attacks that draw at random (APGD's start).
    """
    check_attack(attack, targeted=targeted)
    order = np.argsort([len(w) for w in waves], kind="stable")
    before = np.empty(len(waves), dtype=np.int64)
    after = np.empty(len(waves), dtype=np.int64)
    goals = np.empty(len(waves), dtype=np.int64)
    produced: list[np.ndarray | None] = [None] * len(waves)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    name = f"targeted {attack}" if targeted else attack
    for batch in tqdm(batches, desc=f"{name} at {budget_db:g} dB", unit="batch", leave=False):
        with batch_of(batch.tolist(), len(waves)):  # a model's faulty answer names its rows in `waves`
            b, a, p, goal = _attack_batch(
                model,
                [waves[i] for i in batch],
                labels[batch],
                budget_db=budget_db,
                attack=attack,
                targeted=targeted,
                seed=seed,
            )
        before[batch], after[batch] = b, a
        if goal is not None:
            goals[batch] = goal
        for i, wave in zip(batch, p):
            produced[i] = wave
    return attack_result(
        waves, produced, labels, before, after, attack=name, budget_db=budget_db, goals=goals if targeted else None
    )


def attack_result(
    waves: list[np.ndarray],
    produced: list[np.ndarray],
    labels: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    *,
    attack: str,
    budget_db: float,
    goals: np.ndarray | None = None,
) -> AttackResult:
    """Success among the utterances classified correctly before the attack (reaching `goals` when the
    attack is targeted), and the SNR actually produced."""
    correct = before == labels
    flipped = correct & ((after != labels) if goals is None else (after == goals))
    snrs = np.array([snr_db(w, p) for w, p, attacked in zip(waves, produced, correct) if attacked] or [np.nan])
    # |δ| ≤ ε_i on every sample guarantees SNR ≥ budget; anything less is a bug in the wrapper.
    if correct.any() and np.min(snrs) < budget_db - SNR_TOLERANCE_DB:
        raise AssertionError(f"{attack} produced {np.min(snrs):.6f} dB < budget {budget_db} dB")
    return AttackResult(
        attack=attack,
        budget_db=float(budget_db),
        success_rate=float(flipped.sum() / correct.sum()) if correct.any() else float("nan"),
        n_attacked=int(correct.sum()),
        n_success=int(flipped.sum()),
        n_total=len(waves),
        snr_db_min=float(np.min(snrs)),  # over the attacked utterances (NaN when none was)
        snr_db_median=float(np.median(snrs)),
        adversarial=tuple(produced),
        flipped=tuple(bool(f) for f in flipped),
    )
