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
