"""Membership inference: does the trained head give away which utterances it was trained on?

The attacker scores each utterance by the head's negative loss on it (a member tends to have a lower
loss) and thresholds the score (docs/metrics.md, Privacy). Members are the head's training utterances;
non-members are held-out utterances of the same speakers, so that the only difference between the
two sets is membership, not voice. Reported: ROC AUC (0.5 = no leakage), advantage = max over
thresholds of TPR − FPR (0 = no leakage) and TPR at 1% FPR (the low-false-alarm regime an attacker
cares about), with 95% intervals resampling speakers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from trustser.pillars.speaker_bootstrap import N_RESAMPLES, Resample, speaker_intervals


@dataclass(frozen=True)
class MembershipResult:
    advantage: float  # max over thresholds of TPR − FPR, in [0, 1]
    auc: float
    tpr_at_1pct_fpr: float
    n_members: int
    n_nonmembers: int
    n_speakers: int
    ci: dict[str, tuple[float, float]]  # 95% interval of advantage, auc, tpr_at_1pct_fpr
    n_resamples: int = N_RESAMPLES


def _attack_numbers(score: np.ndarray, member: np.ndarray) -> dict[str, float]:
    if member.all() or not member.any():
        return {"advantage": float("nan"), "auc": float("nan"), "tpr_at_1pct_fpr": float("nan")}
    fpr, tpr, _ = roc_curve(member, score)
    return {
        "advantage": float(np.max(tpr - fpr)),
        "auc": float(roc_auc_score(member, score)),
        "tpr_at_1pct_fpr": float(tpr[fpr <= 0.01].max()),
    }


def membership_inference(
    member_losses: np.ndarray,
    nonmember_losses: np.ndarray,
    member_speakers: np.ndarray,
    nonmember_speakers: np.ndarray,
    *,
    seed: int = 0,
) -> MembershipResult:
    """Loss-threshold attack: per-utterance losses of members and non-members (nats)."""
    score = -np.concatenate([member_losses, nonmember_losses]).astype(np.float64)
    member = np.r_[np.ones(len(member_losses), bool), np.zeros(len(nonmember_losses), bool)]
    speakers = np.concatenate([member_speakers, nonmember_speakers])
    point = _attack_numbers(score, member)

    def statistics(resample: Resample) -> dict[str, float]:
        return _attack_numbers(score[resample.rows], member[resample.rows])

    return MembershipResult(
        advantage=point["advantage"],
        auc=point["auc"],
        tpr_at_1pct_fpr=point["tpr_at_1pct_fpr"],
        n_members=len(member_losses),
        n_nonmembers=len(nonmember_losses),
        n_speakers=len(np.unique(speakers)),
        ci=speaker_intervals(statistics, speakers, seed=seed),
    )


def member_split(speakers: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Positions of members and non-members: each speaker's utterances halved at random."""
    rng = np.random.default_rng(seed)
    members, held_out = [], []
    for speaker in np.unique(speakers):
        rows = rng.permutation(np.flatnonzero(speakers == speaker))
        members.append(rows[: len(rows) // 2])
        held_out.append(rows[len(rows) // 2 :])
    return np.sort(np.concatenate(members)), np.sort(np.concatenate(held_out))


# --- Reference-model attack (LiRA) -----------------------------------------------------------------------

LOW_FPRS = {"tpr_at_1pct_fpr": 0.01, "tpr_at_0_1pct_fpr": 0.001}
"""The false-positive rates at which the low-FPR membership numbers are read (Carlini et al. 2022)."""


def reference_splits(speakers: np.ndarray, *, n_heads: int, seed: int = 0) -> list[np.ndarray]:
    """Positions (into `speakers`, the candidate pool) of each reference head's training utterances.

    Heads come in complementary pairs: the first of a pair trains on a random half of each speaker's
    utterances (as the target head's members are drawn), the second on the other half. Every candidate
    is then IN for exactly half of the heads and OUT for the other half, whatever the draw.
    """
    if n_heads < 4 or n_heads % 2:
        raise ValueError(f"reference heads come in complementary pairs, at least two pairs: got {n_heads}")
    splits = []
    for pair in range(n_heads // 2):
        inside, outside = member_split(speakers, seed=seed + 1 + pair)  # never the target's own draw (seed)
        splits += [inside, outside]
    return splits


def logit_confidence(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """φ = log(p_y / (1 − p_y)) of each row's true class: the statistic LiRA models as Gaussian.

    From logits as z_y − logsumexp(z_others), so that a confident p_y = 1 − 1e-12 stays finite.
    """
    logits = np.asarray(logits, np.float64)
    rows = np.arange(len(logits))
    others = logits.copy()
    others[rows, labels] = -np.inf
    top = others.max(1, keepdims=True)
    return logits[rows, labels] - (top[:, 0] + np.log(np.exp(others - top).sum(1)))


def _pooled_deviation(values: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-candidate mean of the chosen reference values, and one deviation pooled over all candidates."""
    count = chosen.sum(0)
    mean = np.where(chosen, values, 0.0).sum(0) / count
    squares = np.where(chosen, (values - mean) ** 2, 0.0).sum()
    return mean, float(np.sqrt(squares / (count - 1).sum()))


def lira_scores(target: np.ndarray, reference: np.ndarray, reference_in: np.ndarray) -> np.ndarray:
    """Online LiRA with a global variance: log N(φ; μ_in, σ_in²) − log N(φ; μ_out, σ_out²) per candidate.

    `target` is φ of each candidate under the attacked head, `reference` [heads, candidates] under the
    reference heads, `reference_in` whether each reference head trained on each candidate. μ are each
    candidate's own means (its difficulty: an outlier is unlikely under OUT heads and likely under IN
    ones); σ are pooled over candidates, as Carlini et al. advise with few reference models.
    """
    reference_in = np.asarray(reference_in, bool)
    mean_in, deviation_in = _pooled_deviation(reference, reference_in)
    mean_out, deviation_out = _pooled_deviation(reference, ~reference_in)
    deviation_in, deviation_out = max(deviation_in, 1e-6), max(deviation_out, 1e-6)
    return (
        -0.5 * ((target - mean_in) / deviation_in) ** 2
        - np.log(deviation_in)
        + 0.5 * ((target - mean_out) / deviation_out) ** 2
        + np.log(deviation_out)
    )


def tpr_at_fpr(score: np.ndarray, member: np.ndarray, fpr: float) -> float:
    """The highest TPR among thresholds that flag at most `fpr` of the non-members; NaN when the
    non-members are too few to resolve `fpr` (fewer than 1 / fpr: one false alarm would exceed it)."""
    n_nonmembers = int((~member).sum())
    if n_nonmembers * fpr < 1 - 1e-9 or member.all():
        return float("nan")
    curve_fpr, curve_tpr, _ = roc_curve(member, score)
    return float(curve_tpr[curve_fpr <= fpr + 1e-12].max())


def _low_fpr_numbers(score: np.ndarray, member: np.ndarray) -> dict[str, float]:
    if member.all() or not member.any():
        return {name: float("nan") for name in LOW_FPRS}
    return {name: tpr_at_fpr(score, member, fpr) for name, fpr in LOW_FPRS.items()}


@dataclass(frozen=True)
class LowFPRMembershipResult:
    tpr_at_1pct_fpr: float  # of the strongest attack: the share of members it flags at ≤ 1% false alarms
    attack: str  # which: "loss" (threshold on the loss) or "lira" (reference heads)
    tpr_at_0_1pct_fpr: float  # of the same attack; NaN when the non-members cannot resolve 0.1% (see `resolution`)
    smallest_fpr: float  # 1 / non-members: the lowest non-zero false-positive rate these candidates can show
    resolution: str  # which of the low FPRs the non-members were too few to measure, and why
    by_attack: dict[str, dict[str, float]]  # attack -> advantage, auc and the low-FPR TPRs
    n_members: int
    n_nonmembers: int
    n_speakers: int
    n_reference_heads: int
    ci: tuple[float, float]  # 95% interval of tpr_at_1pct_fpr, resampling speakers
    n_resamples: int = N_RESAMPLES


def low_fpr_membership(
    scores: dict[str, np.ndarray],
    member: np.ndarray,
    speakers: np.ndarray,
    *,
    n_reference_heads: int,
    seed: int = 0,
) -> LowFPRMembershipResult:
    """TPR at 1% and 0.1% FPR of each attack's scores (higher = more likely a member); the strongest at 1%.

    Ties go to the attack listed first (the cheap loss baseline), so a reference attack is named only
    when it finds more.
    """
    member, speakers = np.asarray(member, bool), np.asarray(speakers)
    by_attack = {
        name: {**_attack_numbers(score, member), **_low_fpr_numbers(score, member)} for name, score in scores.items()
    }
    attack = max(scores, key=lambda name: np.nan_to_num(by_attack[name]["tpr_at_1pct_fpr"], nan=-1.0))
    n_nonmembers = int((~member).sum())
    unresolved = [f"{fpr:.1%}" for name, fpr in LOW_FPRS.items() if n_nonmembers * fpr < 1 - 1e-9]
    resolution = (
        f"TPR at {' and '.join(unresolved)} FPR not measured: {n_nonmembers} non-members resolve false-positive "
        f"rates down to {1 / max(n_nonmembers, 1):.2%} (1 / non-members)"
        if unresolved
        else ""
    )

    def statistics(resample: Resample) -> dict[str, float]:
        rows = resample.rows
        return {"tpr": tpr_at_fpr(scores[attack][rows], member[rows], LOW_FPRS["tpr_at_1pct_fpr"])}

    return LowFPRMembershipResult(
        tpr_at_1pct_fpr=by_attack[attack]["tpr_at_1pct_fpr"],
        attack=attack,
        tpr_at_0_1pct_fpr=by_attack[attack]["tpr_at_0_1pct_fpr"],
        smallest_fpr=1.0 / max(n_nonmembers, 1),
        resolution=resolution,
        by_attack=by_attack,
        n_members=int(member.sum()),
        n_nonmembers=n_nonmembers,
        n_speakers=len(np.unique(speakers)),
        n_reference_heads=n_reference_heads,
        ci=speaker_intervals(statistics, speakers, seed=seed)["tpr"],
    )
