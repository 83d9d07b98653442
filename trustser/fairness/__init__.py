"""Fairness evaluators: are emotions recognised alike across speaker groups?"""

from trustser.fairness.metrics import FairnessResult, equality_of_opportunity, evaluate_fairness, statistical_parity

__all__ = ["FairnessResult", "equality_of_opportunity", "evaluate_fairness", "statistical_parity"]
