"""Safety evaluators: can a quiet perturbation change the predicted emotion?"""

from trustser.pillars.safety.attacks import AttackResult, run_attack
from trustser.pillars.safety.blackbox import BlackBoxResult, score_based_attack
from trustser.pillars.safety.snr import linf_budget, snr_db

__all__ = ["AttackResult", "BlackBoxResult", "linf_budget", "run_attack", "score_based_attack", "snr_db"]
