"""Calibration of a categorical model's posteriors: are its probabilities as often right as they claim?
(docs/metrics.md, Utility and Fairness)

Top-label calibration (Guo et al., ICML 2017): an utterance's confidence is the posterior of the emotion
it is predicted as, and it is right when that is its true emotion.

- ECE with equal-mass bins: the utterances sorted by confidence (ties in their row order), cut into
  `bins` contiguous bins whose sizes differ by at most one (fewer bins when there are fewer utterances);
  ECE = Σ_b (n_b / N) · |accuracy_b − mean confidence_b|. Equal-mass ("adaptive") bins, as in Nixon et
  al. (CVPR Workshops 2019, "Measuring Calibration in Deep Learning") and Roelofs et al. (AISTATS 2022),
  rather than Guo et al.'s equal-width ones: a trained head's confidences crowd near 1 (or near 1 / C),
  which leaves most equal-width bins empty and a few holding nearly everything.
- Brier score, multi-class (Brier 1950): the mean over utterances of Σ_c (p_c − 1[y = c])², in [0, 2];
  1 − 1 / C for a model that always answers the uniform distribution.

Intervals resample speakers (trustser.pillars.speaker_bootstrap); bins are recut on every resample.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trustser.pillars.speaker_bootstrap import N_RESAMPLES, Resample, speaker_intervals

DEFAULT_BINS = 10


@dataclass(frozen=True)
class Reliability:
    """The reliability diagram: per equal-mass bin, its mean confidence, its accuracy and its size."""

    confidence: tuple[float, ...]
    accuracy: tuple[float, ...]
    count: tuple[int, ...]


@dataclass(frozen=True)
class CalibrationResult:
    ece: float
    brier: float
    accuracy: float  # share of utterances whose predicted emotion is right (pooled over the folds)
    mean_confidence: float  # above `accuracy`: overconfident on average
    bins: int  # equal-mass bins asked for (fewer when there are fewer utterances)
    reliability: Reliability
    n: int
    n_speakers: int
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)  # 95% interval of "ece" and "brier"
    n_resamples: int = N_RESAMPLES


@dataclass(frozen=True)
class GroupCalibration:
    attribute: str  # "gender"
    ece_by_group: dict[str, float]
    brier_by_group: dict[str, float]
    overconfidence_by_group: dict[str, float]  # mean confidence − accuracy: a group the model is too sure about
    ece_difference: float  # max − min over groups
    brier_difference: float
    bins: int
    n: int
    n_speakers: int
    min_speakers_per_group: int
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)  # 95% interval of the differences
    n_resamples: int = N_RESAMPLES


def top_label(posteriors: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, correct) per utterance: the posterior of the predicted emotion, and whether it is the true one."""
    posteriors, y_true, y_pred = _checked(posteriors, y_true, y_pred)
    return posteriors[np.arange(len(y_pred)), y_pred], (y_pred == y_true).astype(np.float64)


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, *, bins: int = DEFAULT_BINS) -> Reliability:
    """Equal-mass bins of the utterances sorted by confidence (stable: ties keep their row order)."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    n = len(confidence)
    if n == 0:
        return Reliability((), (), ())
    order = np.argsort(confidence, kind="stable")
    sizes = np.full(min(bins, n), n // min(bins, n))
    sizes[: n % len(sizes)] += 1  # np.array_split's sizes: the first bins take one more
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    mean_confidence = np.add.reduceat(confidence[order], starts) / sizes
    accuracy = np.add.reduceat(correct[order], starts) / sizes
    return Reliability(
        tuple(float(c) for c in mean_confidence), tuple(float(a) for a in accuracy), tuple(int(s) for s in sizes)
    )


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, *, bins: int = DEFAULT_BINS) -> float:
    """Σ_b (n_b / N) · |accuracy_b − confidence_b| over equal-mass bins."""
    diagram = reliability_bins(confidence, correct, bins=bins)
    if not diagram.count:
        return float("nan")
    count = np.asarray(diagram.count, dtype=np.float64)
    gaps = np.abs(np.asarray(diagram.accuracy) - np.asarray(diagram.confidence))
    return float((count * gaps).sum() / count.sum())


def brier_scores(posteriors: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Per utterance, Σ_c (p_c − 1[y = c])²."""
    squared = np.square(posteriors).sum(axis=1)
    return squared - 2 * posteriors[np.arange(len(y_true)), y_true] + 1.0


def evaluate_calibration(
    posteriors: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    speakers: np.ndarray,
    bins: int = DEFAULT_BINS,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> CalibrationResult:
    """ECE, Brier score and the reliability diagram of one model's test posteriors, with speaker-bootstrap
    95% intervals of ECE and Brier."""
    confidence, correct = top_label(posteriors, y_true, y_pred)
    brier = brier_scores(np.asarray(posteriors, dtype=np.float64), np.asarray(y_true))
    speakers = _per_row(speakers, len(correct), "speakers")

    def statistics(resample: Resample) -> dict[str, float]:
        rows = resample.rows
        return {
            "ece": expected_calibration_error(confidence[rows], correct[rows], bins=bins),
            "brier": float(brier[rows].mean()),
        }

    return CalibrationResult(
        ece=expected_calibration_error(confidence, correct, bins=bins),
        brier=float(brier.mean()),
        accuracy=float(correct.mean()),
        mean_confidence=float(confidence.mean()),
        bins=bins,
        reliability=reliability_bins(confidence, correct, bins=bins),
        n=len(correct),
        n_speakers=len(np.unique(speakers)),
        ci=speaker_intervals(statistics, speakers, n_resamples=n_resamples, seed=seed),
        n_resamples=n_resamples,
    )


def group_calibration(
    posteriors: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    groups: np.ndarray,
    speakers: np.ndarray,
    attribute: str,
    bins: int = DEFAULT_BINS,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> GroupCalibration:
    """ECE and Brier score of each group's utterances (each group binned on its own) and the gaps between
    groups (max − min), with 95% intervals that resample speakers within each group."""
    confidence, correct = top_label(posteriors, y_true, y_pred)
    brier = brier_scores(np.asarray(posteriors, dtype=np.float64), np.asarray(y_true))
    groups = _per_row(groups, len(correct), "groups")
    speakers = _per_row(speakers, len(correct), "speakers")
    labels, index = np.unique(groups.astype(str), return_inverse=True)
    if len(labels) < 2:
        raise ValueError(f"calibration gaps need at least two groups, got {labels.tolist()}")

    def per_group(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ece, score, over = [], [], []
        for g in range(len(labels)):
            mine = rows[index[rows] == g]
            ece.append(expected_calibration_error(confidence[mine], correct[mine], bins=bins))
            score.append(brier[mine].mean() if len(mine) else np.nan)
            over.append(confidence[mine].mean() - correct[mine].mean() if len(mine) else np.nan)
        return np.array(ece), np.array(score), np.array(over)

    def statistics(resample: Resample) -> dict[str, float]:
        ece, score, _ = per_group(resample.rows)
        return {"ece_difference": float(np.ptp(ece)), "brier_difference": float(np.ptp(score))}

    ece, score, over = per_group(np.arange(len(correct)))
    speakers_per_group = [len(np.unique(speakers[index == g])) for g in range(len(labels))]
    return GroupCalibration(
        attribute=attribute,
        ece_by_group=dict(zip(labels.tolist(), map(float, ece))),
        brier_by_group=dict(zip(labels.tolist(), map(float, score))),
        overconfidence_by_group=dict(zip(labels.tolist(), map(float, over))),
        ece_difference=float(np.ptp(ece)),
        brier_difference=float(np.ptp(score)),
        bins=bins,
        n=len(correct),
        n_speakers=len(np.unique(speakers)),
        min_speakers_per_group=int(min(speakers_per_group)),
        ci=speaker_intervals(statistics, speakers, groups, n_resamples=n_resamples, seed=seed),
        n_resamples=n_resamples,
    )


def _checked(posteriors: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, ...]:
    posteriors = np.asarray(posteriors, dtype=np.float64)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if posteriors.ndim != 2 or y_true.shape != (len(posteriors),) or y_pred.shape != y_true.shape:
        raise ValueError(
            f"posteriors must be [utterances, emotions] with one true and one predicted emotion per row, got "
            f"posteriors {posteriors.shape}, y_true {y_true.shape}, y_pred {y_pred.shape}"
        )
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and (labels.min() < 0 or labels.max() >= posteriors.shape[1]):
            raise ValueError(f"{name} holds emotions outside 0..{posteriors.shape[1] - 1}")
    bad = np.flatnonzero(~np.isfinite(posteriors).all(1) | (np.abs(posteriors.sum(1) - 1) > 1e-3))
    if bad.size:
        raise ValueError(f"posteriors of rows {bad[:5].tolist()} are not finite probabilities summing to 1")
    return posteriors, y_true.astype(np.int64), y_pred.astype(np.int64)


def _per_row(values: np.ndarray, n: int, name: str) -> np.ndarray:
    values = np.asarray(values)
    if values.shape != (n,):
        raise ValueError(f"{name} must have one value per utterance ({n}), got shape {values.shape}")
    return values
