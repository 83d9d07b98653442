"""Sustainability evaluators: what does running the model cost (size, compute, energy)?"""

from trustser.compute.energy import (
    EnergyResult,
    combined_energy,
    machine_signature,
    measure_energy,
    measure_repeated_energy,
)
from trustser.pillars.sustainability.flops import count_flops
from trustser.pillars.sustainability.footprint import FootprintResult, measure_footprint
from trustser.pillars.sustainability.latency import LatencyResult, measure_latency
from trustser.pillars.sustainability.params import ModelSize, ParameterCount, count_parameters, model_size

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
