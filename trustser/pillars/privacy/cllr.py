"""Log-likelihood-ratio cost of verification scores (Brümmer and du Preez 2006), and its minimum.

Cllr = ½ (mean over targets of log2(1 + e^−llr) + mean over non-targets of log2(1 + e^llr)), in bits:
0 for scores that separate perfectly and are calibrated, 1 for a system that always answers
llr = 0 ("no idea"). Cllr_min is the Cllr of the same scores after the best monotonic recalibration
(pool-adjacent-violators, PAV): what the scores could give an attacker who calibrates them on these
trials, so it judges discrimination alone. The constant llr = 0 is one monotonic map, hence
Cllr_min ≤ 1 for any scores; the EER looks at one operating point, Cllr_min at all of them.
The VoicePrivacy 2020 evaluation plan reports both; its 2022 and 2024 plans keep the EER alone.
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression


def cllr(llr: np.ndarray, is_target: np.ndarray) -> float:
    """Cllr (bits) of log-likelihood ratios (nats); NaN without both targets and non-targets."""
    llr, is_target = np.asarray(llr, np.float64), np.asarray(is_target, bool)
    if is_target.all() or not is_target.any():
        return float("nan")
    costs = np.mean(np.logaddexp(0.0, -llr[is_target])) + np.mean(np.logaddexp(0.0, llr[~is_target]))
    return float(0.5 * costs / np.log(2.0))


def cllr_min(scores: np.ndarray, is_target: np.ndarray) -> float:
    """Cllr (bits) after PAV: the target posterior as a non-decreasing function of the score (ties pooled),
    turned into a log-likelihood ratio by removing the trials' own prior odds."""
    scores, is_target = np.asarray(scores, np.float64), np.asarray(is_target, bool)
    n_target, n_nontarget = int(is_target.sum()), int((~is_target).sum())
    if n_target == 0 or n_nontarget == 0:
        return float("nan")
    # PAV depends on the scores' order only: fitted on their ranks, which are exact integers (equal scores
    # share one), so that nearly equal floats (cosines a few ulps apart) cannot upset sklearn's interpolation
    # (it returned NaN on the default corpus's ge2e posteriors).
    rank = np.unique(scores, return_inverse=True)[1].astype(np.float64)
    posterior = IsotonicRegression(increasing=True).fit_transform(rank, is_target.astype(np.float64))
    # PAV gives 0 only to blocks of non-targets and 1 only to blocks of targets: the infinite llr of such
    # a block costs nothing, so each side's cost is computed from odds that stay finite for it.
    prior_odds = n_target / n_nontarget
    p_target, p_nontarget = posterior[is_target], posterior[~is_target]
    target_cost = np.log1p((1.0 - p_target) / p_target * prior_odds)  # log(1 + e^−llr) for targets
    nontarget_cost = np.log1p(p_nontarget / (1.0 - p_nontarget) / prior_odds)  # log(1 + e^llr) for non-targets
    return float(0.5 * (target_cost.mean() + nontarget_cost.mean()) / np.log(2.0))
