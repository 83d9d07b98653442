"""Fairness evaluators: are emotions recognised alike across speaker groups?"""

from trustser.pillars.fairness.intervals import GroupFairness, group_fairness
from trustser.pillars.fairness.metrics import (
    FairnessResult,
    equality_of_opportunity,
    evaluate_fairness,
    statistical_parity,
)

__all__ = [
    "FairnessResult",
    "GroupFairness",
    "equality_of_opportunity",
    "evaluate_fairness",
    "group_fairness",
    "statistical_parity",
]
