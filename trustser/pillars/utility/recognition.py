"""Emotion recognition utility over speaker-independent folds (docs/metrics.md, Utility)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score


@dataclass(frozen=True)
class UtilityResult:
    uar: float  # mean over folds of unweighted average recall
    uar_std: float
    accuracy: float  # mean over folds (weighted accuracy, WA)
    accuracy_std: float
    macro_f1: float
    uar_by_fold: tuple[float, ...]
    confusion: tuple[tuple[float, ...], ...]  # row-normalised per true class, pooled over folds
    n: int
    n_folds: int


def evaluate_utility(y_true: np.ndarray, y_pred: np.ndarray, folds: np.ndarray, *, num_classes: int) -> UtilityResult:
    fold_ids = np.unique(folds)
    uars = [balanced_accuracy_score(y_true[folds == f], y_pred[folds == f]) for f in fold_ids]
    accuracies = [accuracy_score(y_true[folds == f], y_pred[folds == f]) for f in fold_ids]
    f1s = [
        f1_score(y_true[folds == f], y_pred[folds == f], average="macro", labels=range(num_classes), zero_division=0)
        for f in fold_ids
    ]
    confusion = confusion_matrix(y_true, y_pred, labels=range(num_classes), normalize="true")
    return UtilityResult(
        uar=float(np.mean(uars)),
        uar_std=float(np.std(uars)),
        accuracy=float(np.mean(accuracies)),
        accuracy_std=float(np.std(accuracies)),
        macro_f1=float(np.mean(f1s)),
        uar_by_fold=tuple(float(u) for u in uars),
        confusion=tuple(tuple(float(v) for v in row) for row in np.nan_to_num(confusion)),
        n=len(y_true),
        n_folds=len(fold_ids),
    )
