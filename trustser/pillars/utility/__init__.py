"""Utility evaluators: does the model recognise emotions?"""

from trustser.pillars.utility.recognition import UtilityResult, evaluate_utility

__all__ = ["UtilityResult", "evaluate_utility"]
