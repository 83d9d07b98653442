"""Utility: UAR, accuracy and the rest over the folds' test predictions."""

from __future__ import annotations

from trustser.pipeline import BackboneRun
from trustser.utility import UtilityResult, evaluate_utility
from trustser.audit.memo import memoised


@memoised
def utility(run: BackboneRun) -> UtilityResult:
    p = run.predictions
    return evaluate_utility(p.y_true, p.y_pred, p.fold, len(run.corpus.emotions))
