"""Sustainability evaluators: what does running the model cost (size, compute, energy)?"""

from trustser.sustainability.energy import EnergyResult, machine_signature, measure_energy
from trustser.sustainability.flops import count_flops
from trustser.sustainability.params import ParameterCount, count_parameters

__all__ = ["EnergyResult", "ParameterCount", "count_flops", "count_parameters", "machine_signature", "measure_energy"]
