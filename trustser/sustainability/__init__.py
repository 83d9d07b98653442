"""Sustainability evaluators: what does running the model cost (size, compute, energy)?"""

from trustser.sustainability.energy import (
    EnergyResult,
    combined_energy,
    machine_signature,
    measure_energy,
    measure_repeated_energy,
)
from trustser.sustainability.flops import count_flops
from trustser.sustainability.footprint import FootprintResult, measure_footprint
from trustser.sustainability.latency import LatencyResult, measure_latency
from trustser.sustainability.params import ModelSize, ParameterCount, count_parameters, model_size

__all__ = [
    "EnergyResult",
    "FootprintResult",
    "LatencyResult",
    "ModelSize",
    "ParameterCount",
    "combined_energy",
    "count_flops",
    "count_parameters",
    "machine_signature",
    "measure_energy",
    "measure_footprint",
    "measure_repeated_energy",
    "measure_latency",
    "model_size",
]
