"""Robustness to everyday noise: UAR under white, pink and babble noise at SNR levels (docs/metrics.md).

Noise is scaled per utterance so that 10·log10(Σx² / Σn²) equals the SNR exactly. Pink noise has a
1/f power spectrum (white noise shaped in the frequency domain); babble is the sum of a few other
speakers' utterances from the same corpus, as in a crowded room. All draws come from one seeded
generator, so a run is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn.metrics import balanced_accuracy_score

NOISE_TYPES = ("white", "pink", "babble")
BABBLE_TALKERS = 4


@dataclass(frozen=True)
class NoiseCondition:
    noise: str
    snr_db: float
    uar: float
    relative_drop: float  # (UAR_clean − UAR_noisy) / UAR_clean


@dataclass(frozen=True)
class NoiseRobustnessResult:
    clean_uar: float
    gate_snr_db: float
    worst_noise: str  # the noise type with the largest drop at gate_snr_db
    worst_relative_drop: float  # at gate_snr_db, over the noise types
    conditions: tuple[NoiseCondition, ...]
    n: int


def white_noise(samples: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(samples)


def pink_noise(samples: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with power falling as 1/f (amplitude as 1/√f); the DC bin is removed."""
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    frequencies = np.arange(len(spectrum), dtype=np.float64)
    frequencies[0] = np.inf
    return np.fft.irfft(spectrum / np.sqrt(frequencies), n=samples)


def babble_noise(samples: int, rng: np.random.Generator, others: list[np.ndarray]) -> np.ndarray:
    """BABBLE_TALKERS other utterances, each looped to length from a random offset, at equal power."""
    mix = np.zeros(samples)
    for index in rng.choice(len(others), size=min(BABBLE_TALKERS, len(others)), replace=False):
        talker = np.asarray(others[index], dtype=np.float64)
        looped = np.resize(np.roll(talker, -int(rng.integers(len(talker)))), samples)
        mix += looped / (np.sqrt(np.mean(looped**2)) + 1e-12)
    return mix


def add_at_snr(wave: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`wave` plus `noise` scaled to `snr_db` below it (float32)."""
    signal_power, noise_power = np.sum(np.square(wave, dtype=np.float64)), np.sum(noise**2)
    scale = np.sqrt(signal_power / (noise_power * 10 ** (snr_db / 10)))
    return (wave + scale * noise).astype(np.float32)


def noisy_copy(
    wave: np.ndarray, *, noise: str, snr_db: float, rng: np.random.Generator, others: list[np.ndarray]
) -> np.ndarray:
    if noise == "white":
        return add_at_snr(wave, white_noise(len(wave), rng), snr_db)
    if noise == "pink":
        return add_at_snr(wave, pink_noise(len(wave), rng), snr_db)
    if noise == "babble":
        return add_at_snr(wave, babble_noise(len(wave), rng, others), snr_db)
    raise ValueError(f"unknown noise {noise!r}; known: {', '.join(NOISE_TYPES)}")


def noise_robustness(
    predict: Callable[[list[np.ndarray]], np.ndarray],
    waves: list[np.ndarray],
    labels: np.ndarray,
    babble_sources: list[list[np.ndarray]],
    *,
    snr_db: float,
    curve_db: tuple[float, ...],
    seed: int = 0,
) -> NoiseRobustnessResult:
    """UAR of `predict` on `waves` clean and under each noise type at the gated `snr_db` and each of `curve_db`.

    `babble_sources[i]` are utterances of other speakers than utterance i's, to build its babble from.
    """
    rng = np.random.default_rng(seed)
    clean = float(balanced_accuracy_score(labels, predict(waves)))
    conditions = []
    for snr in sorted({*curve_db, snr_db}):
        for noise in NOISE_TYPES:
            noisy = [
                noisy_copy(w, noise=noise, snr_db=snr, rng=rng, others=others)
                for w, others in zip(waves, babble_sources)
            ]
            uar = float(balanced_accuracy_score(labels, predict(noisy)))
            conditions.append(
                NoiseCondition(noise, float(snr), uar, (clean - uar) / clean if clean > 0 else float("nan"))
            )
    at_gate = [c for c in conditions if c.snr_db == snr_db]
    worst = max(at_gate, key=lambda c: c.relative_drop)
    return NoiseRobustnessResult(clean, float(snr_db), worst.noise, worst.relative_drop, tuple(conditions), len(waves))
