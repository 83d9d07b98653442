"""Lin's concordance correlation coefficient, the attribute track's score (docs/metrics.md, Utility).

CCC = 2 cov(x, y) / (var x + var y + (mean x − mean y)²), population moments: 1 for predictions equal
to the ratings, 0 for predictions uncorrelated with them (or constant), below 0 for anti-correlated
ones. Unlike Pearson's r it also falls when the predictions are shifted or scaled away from the
ratings. It is the same in the corpus's units and normalised (one affine map applied to both).
"""

from __future__ import annotations

import numpy as np


def ccc(predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
    """CCC of each column of [rows, attributes] (a 1-d input gives a 0-d array); NaN for fewer than two rows
    or when both columns are constant and equal (nothing to concord on)."""
    predicted, true = np.asarray(predicted, dtype=np.float64), np.asarray(true, dtype=np.float64)
    if len(true) < 2:
        return np.full(true.shape[1:], np.nan)
    mean_p, mean_t = predicted.mean(0), true.mean(0)
    covariance = ((predicted - mean_p) * (true - mean_t)).mean(0)
    denominator = predicted.var(0) + true.var(0) + (mean_p - mean_t) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2 * covariance / np.where(denominator > 0, denominator, 1), np.nan)
