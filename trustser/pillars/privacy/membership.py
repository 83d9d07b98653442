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

GATE_FPR, DETAIL_FPR = 0.01, 0.001
"""The false-positive rates at which the low-FPR membership numbers are read (Carlini et al. 2022)."""
MIN_NONMEMBERS = 50
"""Below this, no false-positive rate near 1% can be read (one false alarm is already 2%)."""


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


def _over_candidates(values: np.ndarray) -> np.ndarray:
    """Each head's φ standardised over the candidates (last axis)."""
    deviation = values.std(-1, keepdims=True)
    return (values - values.mean(-1, keepdims=True)) / np.where(deviation > 0, deviation, 1.0)


def lira_scores(target: np.ndarray, reference: np.ndarray, reference_in: np.ndarray) -> np.ndarray:
    """Offline LiRA with a global variance: how far above its OUT Gaussian each candidate's φ lies.

    `target` is φ of each candidate under the attacked head, `reference` [heads, candidates] under the
    reference heads, `reference_in` whether each reference head trained on each candidate. The score is
    (φ − μ_out) / σ_out: μ_out is the candidate's own mean over the heads that did not train on it (its
    difficulty: an outlier has a low φ unless it was learned by heart), σ_out one deviation pooled over
    candidates, as Carlini et al. advise with few reference models. Each head's φ is first standardised
    over the candidates, half of which every head (target and reference) trained on: heads that early
    stopping ran for different lengths are then compared on one scale (measured on the default corpus,
    the target head's mean φ was 6.0 against 0.6 to 0.9 for reference heads capped at 10 epochs).
    """
    target, reference = _over_candidates(np.asarray(target, np.float64)), _over_candidates(np.asarray(reference))
    out = ~np.asarray(reference_in, bool)
    count = out.sum(0)
    if (count < 2).any():
        raise ValueError("every candidate needs two reference heads that did not train on it (reference_splits)")
    mean = np.where(out, reference, 0.0).sum(0) / count
    squares = np.where(out, (reference - mean) ** 2, 0.0).sum()
    deviation = np.sqrt(squares / (count - 1).sum())
    return (target - mean) / max(float(deviation), 1e-6)


def tpr_at_fpr(score: np.ndarray, member: np.ndarray, fpr: float) -> float:
    """The highest TPR among thresholds that flag at most `fpr` of the non-members (higher score = member)."""
    if member.all() or not member.any():
        return float("nan")
    curve_fpr, curve_tpr, _ = roc_curve(member, score)
    return float(curve_tpr[curve_fpr <= fpr + 1e-12].max())


def gate_fpr(n_nonmembers: int) -> float:
    """The FPR the gated TPR is read at: 1%, or one false alarm where the non-members are fewer than 100
    (a finer rate than 1 / non-members cannot be told from 0, and reading at 0 would understate the leak)."""
    return max(GATE_FPR, 1.0 / max(n_nonmembers, 1))


def _low_fpr_numbers(score: np.ndarray, member: np.ndarray) -> dict[str, float]:
    n_nonmembers = int((~member).sum())
    resolved = n_nonmembers * DETAIL_FPR >= 1 - 1e-9
    return {
        "tpr_at_1pct_fpr": tpr_at_fpr(score, member, gate_fpr(n_nonmembers)),
        "tpr_at_0_1pct_fpr": tpr_at_fpr(score, member, DETAIL_FPR) if resolved else float("nan"),
    }


@dataclass(frozen=True)
class LowFPRMembershipResult:
    tpr_at_1pct_fpr: float  # of the strongest attack: the share of members it flags at ≤ `fpr` false alarms
    attack: str  # which: "loss" (threshold on the loss) or "lira" (offline LiRA with reference heads)
    fpr: float  # where that TPR is read: 1%, or 1 / non-members when they are fewer than 100
    tpr_at_0_1pct_fpr: float  # of the same attack; NaN when the non-members cannot resolve 0.1% (see `resolution`)
    smallest_fpr: float  # 1 / non-members: the lowest non-zero false-positive rate these candidates can show
    resolution: str  # which low FPRs the non-members were too few to read, and what was read instead
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
    fpr = gate_fpr(n_nonmembers)
    resolution = (
        ""
        if n_nonmembers * DETAIL_FPR >= 1 - 1e-9
        else (
            f"{n_nonmembers} non-members resolve false-positive rates down to 1/{n_nonmembers} = "
            f"{1 / max(n_nonmembers, 1):.2%}: TPR at 0.1% FPR not measured (it needs 1,000)"
            + ("" if fpr == GATE_FPR else f"; TPR at 1% FPR read at {fpr:.2%}, one false alarm")
        )
    )

    def statistics(resample: Resample) -> dict[str, float]:
        rows = resample.rows
        return {"tpr": tpr_at_fpr(scores[attack][rows], member[rows], fpr)}

    return LowFPRMembershipResult(
        tpr_at_1pct_fpr=by_attack[attack]["tpr_at_1pct_fpr"],
        attack=attack,
        fpr=fpr,
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
