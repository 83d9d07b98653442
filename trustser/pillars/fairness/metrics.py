"""Group fairness of emotion predictions (docs/metrics.md, Fairness).

`statistical_parity` and `equality_of_opportunity` reproduce holisticai's
`multiclass_statistical_parity` and `multiclass_equality_of_opp` with `aggregation_fun="max"`, the
metrics of the original TrustSER study, over the classes 0..num_classes-1:

- statistical parity: s_g[c] = P(ŷ = c | A = g); d(k, j) = ½ Σ_c |s_k[c] − s_j[c]|;
- equality of opportunity: M_g[i, j] = P(ŷ = i | y = j, A = g); d(k, j) = Σ_{i,j} |M_k − M_j| / (2C);

each reported as the max of d over pairs of groups. Where a group has no utterance of a true class
j, holisticai's smoothing (+1e-32 on every count) makes column j of M_g uniform (1 / C); we do the
same so that our numbers are holisticai's. Per-group UAR (sklearn `balanced_accuracy_score`: mean
recall over the classes present in that group's labels) and per-class recall come from fairlearn's
`MetricFrame`; `summary_from_counts` recomputes the gated numbers from confusion counts for the
bootstrap, and the unit tests hold it to the MetricFrame values.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations
from typing import Callable

import numpy as np
from fairlearn.metrics import MetricFrame
from sklearn.metrics import balanced_accuracy_score


@dataclass(frozen=True)
class FairnessResult:
    statistical_parity: float  # max over group pairs of the total-variation distance, in [0, 1]
    equality_of_opportunity: float  # max over group pairs, in [0, 1]
    uar_by_group: dict[str, float]  # balanced accuracy of each group, keyed by str(group label)
    recall_by_group: dict[str, list[float]]  # recall of each class per group (nan: group has no such class)
    uar_difference: float  # max − min of per-group UAR
    uar_ratio: float  # min / max of per-group UAR (nan when every group's UAR is 0)
    n: int
    n_groups: int
    min_group_size: int


def _encode(labels: np.ndarray, num_classes: int, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class indices, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{name} holds classes outside 0..{num_classes - 1}")
    return labels.astype(np.int64)


def _group_index(groups: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct group labels and each row's position among them."""
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise ValueError(f"groups must have shape ({n},), got {groups.shape}")
    labels, index = np.unique(groups, return_inverse=True)
    if len(labels) < 2:
        raise ValueError(f"fairness needs at least two groups, got {len(labels)}: {labels.tolist()}")
    return labels, index


def _max_over_pairs(per_group: np.ndarray, distance: Callable[[np.ndarray, np.ndarray], float]) -> float:
    return float(max(distance(a, b) for a, b in combinations(per_group, 2)))


def _prediction_rates(y_pred: np.ndarray, *, groups: np.ndarray, num_classes: int) -> np.ndarray:
    """[groups, classes]: P(ŷ = c | A = g)."""
    y_pred = _encode(y_pred, num_classes, "y_pred")
    labels, index = _group_index(groups, len(y_pred))
    counts = np.bincount(index * num_classes + y_pred, minlength=len(labels) * num_classes)
    counts = counts.reshape(len(labels), num_classes).astype(np.float64)
    return counts / counts.sum(axis=1, keepdims=True)


def group_confusion(
    y_true: np.ndarray, y_pred: np.ndarray, group_index: np.ndarray, *, n_groups: int, num_classes: int
) -> np.ndarray:
    """[groups, predicted, true] counts; `group_index` holds each row's group as 0..n_groups-1."""
    cells = (group_index * num_classes + y_pred) * num_classes + y_true
    counts = np.bincount(cells, minlength=n_groups * num_classes**2)
    return counts.reshape(n_groups, num_classes, num_classes).astype(np.float64)


def _confusion_rates(y_true: np.ndarray, y_pred: np.ndarray, *, groups: np.ndarray, num_classes: int) -> np.ndarray:
    """[groups, predicted, true]: P(ŷ = i | y = j, A = g); uniform where group g has no class j."""
    y_true = _encode(y_true, num_classes, "y_true")
    y_pred = _encode(y_pred, num_classes, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {y_true.shape} vs {y_pred.shape}")
    labels, index = _group_index(groups, len(y_true))
    return _rates_from_counts(group_confusion(y_true, y_pred, index, n_groups=len(labels), num_classes=num_classes))


def _rates_from_counts(counts: np.ndarray) -> np.ndarray:
    num_classes = counts.shape[1]
    per_true_class = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = counts / per_true_class
    return np.where(per_true_class > 0, rates, 1.0 / num_classes)


def statistical_parity(y_pred: np.ndarray, *, groups: np.ndarray, num_classes: int) -> float:
    """Max over group pairs of the total-variation distance between predicted-class distributions."""
    rates = _prediction_rates(y_pred, groups=groups, num_classes=num_classes)
    return _max_over_pairs(rates, lambda a, b: 0.5 * np.abs(a - b).sum())


def equality_of_opportunity(y_true: np.ndarray, y_pred: np.ndarray, *, groups: np.ndarray, num_classes: int) -> float:
    """Max over group pairs of Σ |ΔM| / (2C), M the confusion matrix normalised per true class."""
    rates = _confusion_rates(y_true, y_pred, groups=groups, num_classes=num_classes)
    return _max_over_pairs(rates, lambda a, b: np.abs(a - b).sum() / (2 * num_classes))


def _max_pairwise(per_group: np.ndarray, scale: float) -> float:
    """Max over group pairs of Σ|a − b| / scale, all pairs at once ([groups, ...] input)."""
    flat = per_group.reshape(len(per_group), -1)
    return float(np.abs(flat[:, None, :] - flat[None, :, :]).sum(-1).max() / scale)


def summary_from_counts(counts: np.ndarray) -> dict[str, float]:
    """Every gated fairness number from [groups, predicted, true] counts, in one vectorised pass.

    The same definitions as `statistical_parity`, `equality_of_opportunity` and per-group balanced
    accuracy, without per-call validation, for the many resamples of a bootstrap.
    """
    num_classes = counts.shape[1]
    shares = counts.sum(axis=2) / counts.sum(axis=(1, 2))[:, None]
    positives = counts.sum(axis=1)  # [groups, true]
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.diagonal(counts, axis1=1, axis2=2) / positives
    uar = np.nanmean(np.where(positives > 0, recall, np.nan), axis=1)
    best, worst = float(uar.max()), float(uar.min())
    return {
        "statistical_parity": _max_pairwise(shares, 2.0),
        "equality_of_opportunity": _max_pairwise(_rates_from_counts(counts), 2.0 * num_classes),
        "uar_difference": best - worst,
        "uar_ratio": worst / best if best > 0 else float("nan"),
        "worst_group_uar": worst,
    }


def _recall_per_class(num_classes: int) -> Callable[[np.ndarray, np.ndarray], list[float]]:
    def recall_per_class(y_true: np.ndarray, y_pred: np.ndarray) -> list[float]:
        """Recall of each class 0..C-1 (nan where the class is absent from y_true)."""
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        return [
            float(np.mean(y_pred[y_true == c] == c)) if np.any(y_true == c) else float("nan")
            for c in range(num_classes)
        ]

    return recall_per_class


def _uar(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """sklearn's balanced accuracy; a predicted class absent from y_true is ignored, as it defines."""
    with warnings.catch_warnings():  # both warnings are about label sets, not about this value
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true", category=UserWarning)
        warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
        return balanced_accuracy_score(y_true, y_pred)


def evaluate_fairness(
    y_true: np.ndarray, y_pred: np.ndarray, *, groups: np.ndarray, num_classes: int
) -> FairnessResult:
    """Statistical parity, equality of opportunity and per-group UAR for one protected attribute."""
    y_true, y_pred, groups = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups)
    sizes = np.unique(groups, return_counts=True)[1]
    equality = equality_of_opportunity(y_true, y_pred, groups=groups, num_classes=num_classes)  # validates the inputs
    frame = MetricFrame(metrics=_uar, y_true=y_true, y_pred=y_pred, sensitive_features=groups)
    with warnings.catch_warnings():  # MetricFrame also reduces the list-valued metric over groups; we read by_group
        warnings.filterwarnings("ignore", message="invalid value encountered", category=RuntimeWarning)
        recalls = MetricFrame(
            metrics=_recall_per_class(num_classes), y_true=y_true, y_pred=y_pred, sensitive_features=groups
        )
    return FairnessResult(
        statistical_parity=statistical_parity(y_pred, groups=groups, num_classes=num_classes),
        equality_of_opportunity=equality,
        uar_by_group={str(group): float(uar) for group, uar in frame.by_group.items()},
        recall_by_group={str(group): list(recall) for group, recall in recalls.by_group.items()},
        uar_difference=float(frame.difference()),
        uar_ratio=float(frame.ratio()),
        n=len(y_true),
        n_groups=len(sizes),
        min_group_size=int(sizes.min()),
    )
