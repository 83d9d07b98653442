"""Perturbation budgets as signal-to-noise ratios (docs/metrics.md, Safety)."""

from __future__ import annotations

import numpy as np


def snr_db(clean: np.ndarray, perturbed: np.ndarray) -> float:
    """10·log10(Σx² / Σδ²) in dB, computed in float64; +inf when nothing changed."""
    clean = np.asarray(clean, dtype=np.float64)
    noise = np.asarray(perturbed, dtype=np.float64) - clean
    noise_energy = float(np.sum(noise**2))
    if noise_energy == 0.0:
        return float("inf")
    return float(10.0 * np.log10(np.sum(clean**2) / noise_energy))


def linf_budget(clean: np.ndarray, budget_db: float) -> float:
    """Per-sample amplitude ε = rms(x)·10^(−S/20): a sign perturbation of this size has SNR exactly S."""
    rms = float(np.sqrt(np.mean(np.asarray(clean, dtype=np.float64) ** 2)))
    return rms * 10.0 ** (-budget_db / 20.0)


def l2_budget(clean: np.ndarray, budget_db: float) -> float:
    """Radius r = ‖x‖₂·10^(−S/20): any perturbation with ‖δ‖₂ ≤ r has SNR ≥ S."""
    return float(np.linalg.norm(np.asarray(clean, dtype=np.float64))) * 10.0 ** (-budget_db / 20.0)
