"""Fairness of one protected attribute with 95% speaker-bootstrap intervals (docs/metrics.md, Fairness).

Point estimates come from `evaluate_fairness` (fairlearn's MetricFrame per group). Intervals:

- attribute coarser than the speaker (gender): resample speakers within each group, so every group
  stays present. With the few speakers of SER corpora (IEMOCAP: 10) these intervals are wide, which
  is the point: a gap between two groups of five speakers is also a gap between five pairs of voices.
- groups that are the speakers themselves: the groups are fixed (these speakers), and what is
  uncertain is each speaker's finite set of utterances, so utterances are resampled within each
  speaker. (Resampling speakers would only ever drop speakers, and a max over pairs or a worst
  group of a subset can never exceed the point estimate: a degenerate interval.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trustser.pillars.fairness.metrics import FairnessResult, evaluate_fairness, group_confusion, summary_from_counts
from trustser.pillars.speaker_bootstrap import N_RESAMPLES, Resample, speaker_intervals


@dataclass(frozen=True)
class GroupFairness:
    attribute: str  # "gender", "speaker", ...
    point: FairnessResult
    worst_group: str  # the group with the lowest UAR
    worst_group_uar: float
    n_speakers: int
    min_speakers_per_group: int  # 1 when the groups are speakers
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)  # 95% interval per gated number
    n_resamples: int = N_RESAMPLES


def group_fairness(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    groups: np.ndarray,
    speakers: np.ndarray,
    num_classes: int,
    attribute: str,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> GroupFairness:
    """Parity, equality of opportunity, per-group UAR and their speaker-bootstrap 95% intervals."""
    y_true, y_pred, groups, speakers = (np.asarray(a) for a in (y_true, y_pred, groups, speakers))
    point = evaluate_fairness(y_true, y_pred, groups=groups, num_classes=num_classes)
    by_speaker = _groups_are_speakers(groups, speakers)
    labels, index = np.unique(groups, return_inverse=True)
    speakers_per_group = [len(np.unique(speakers[groups == g])) for g in labels]

    def statistics(resample: Resample) -> dict[str, float]:
        rows = resample.rows
        counts = group_confusion(y_true[rows], y_pred[rows], index[rows], n_groups=len(labels), num_classes=num_classes)
        return summary_from_counts(counts)

    units = np.arange(len(y_true)) if by_speaker else speakers  # what is drawn with replacement
    worst = min(point.uar_by_group, key=point.uar_by_group.get)
    return GroupFairness(
        attribute=attribute,
        point=point,
        worst_group=worst,
        worst_group_uar=point.uar_by_group[worst],
        n_speakers=len(np.unique(speakers)),
        min_speakers_per_group=int(min(speakers_per_group)),
        ci=speaker_intervals(statistics, units, groups, n_resamples=n_resamples, seed=seed),
        n_resamples=n_resamples,
    )


def _groups_are_speakers(groups: np.ndarray, speakers: np.ndarray) -> bool:
    """True when each group is one speaker; otherwise each speaker must sit in exactly one group."""
    pairs = np.unique(np.stack([groups.astype(str), speakers.astype(str)]), axis=1)
    if len(np.unique(pairs[1])) != pairs.shape[1]:
        raise ValueError("a speaker appears in more than one group; speaker resampling needs one group per speaker")
    return len(np.unique(pairs[0])) == pairs.shape[1]
