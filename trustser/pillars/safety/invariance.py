"""Invariance searched with hypothesis: small everyday changes must not change the predicted emotion.

For each utterance, hypothesis searches the space of benign transformations within budget (gain
within ±3 dB, time shift within ±10 ms, white noise at least 40 dB below the signal, by default) for
one that flips the prediction, and shrinks what it finds to a minimal counterexample: gain and shift
towards 0, noise towards inaudible. Noise is parametrised as "dB quieter than the budget" so that
shrinking towards 0 means less noise. The search is derandomised, so a run is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from trustser.pillars.safety.noise import add_at_snr, white_noise

QUIETEST_NOISE_DB = 100.0  # noise at this SNR counts as none


@dataclass(frozen=True)
class InvarianceBudget:
    gain_db: float  # |gain| ≤ this, dB
    shift_ms: float  # |shift| ≤ this, milliseconds (positive: delayed)
    noise_snr_db: float  # added white noise at least this far below the signal, dB


@dataclass(frozen=True)
class Perturbation:
    gain_db: float
    shift_ms: float
    noise_snr_db: float
    noise_seed: int


@dataclass(frozen=True)
class Counterexample:
    utterance_id: str
    perturbation: Perturbation
    clean_class: int
    perturbed_class: int


@dataclass(frozen=True)
class InvarianceResult:
    flip_rate: float  # share of searched utterances for which a flipping transformation was found
    n: int
    n_flipped: int
    max_examples: int  # transformations tried per utterance before shrinking
    budget: InvarianceBudget
    counterexamples: tuple[Counterexample, ...]
    examples: tuple[str, ...] = ()  # stored WAV pairs (<id>.original.wav, <id>.perturbed.wav)


def perturb(wave: np.ndarray, p: Perturbation, *, sample_rate: int) -> np.ndarray:
    """Gain, then a shift (zeros in front for a delay, samples dropped for an advance), then noise."""
    out = np.asarray(wave, dtype=np.float64) * 10 ** (p.gain_db / 20)
    shift = int(round(p.shift_ms * sample_rate / 1000))
    out = np.concatenate([np.zeros(shift), out]) if shift >= 0 else out[-shift:]
    if p.noise_snr_db < QUIETEST_NOISE_DB:
        return add_at_snr(out, white_noise(len(out), np.random.default_rng(p.noise_seed)), p.noise_snr_db)
    return out.astype(np.float32)


def find_flip(
    predict_one: Callable[[np.ndarray], int],
    wave: np.ndarray,
    *,
    sample_rate: int,
    budget: InvarianceBudget,
    max_examples: int,
) -> Perturbation | None:
    """The minimal in-budget transformation hypothesis finds that changes the prediction, or None."""
    from hypothesis import HealthCheck, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample

    clean = predict_one(wave)
    quieter = st.floats(0.0, QUIETEST_NOISE_DB - budget.noise_snr_db, allow_nan=False)
    strategy = st.builds(
        lambda gain, shift, q, seed: Perturbation(gain, shift, QUIETEST_NOISE_DB - q, seed),
        st.floats(-budget.gain_db, budget.gain_db, allow_nan=False),
        st.floats(-budget.shift_ms, budget.shift_ms, allow_nan=False),
        quieter,
        st.integers(0, 2**16),
    )
    search = settings(
        max_examples=max_examples,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    try:
        return find(
            strategy, lambda p: predict_one(perturb(wave, p, sample_rate=sample_rate)) != clean, settings=search
        )
    except NoSuchExample:
        return None


def invariance_search(
    predict_one: Callable[[np.ndarray], int],
    waves: list[np.ndarray],
    ids: list[str],
    *,
    sample_rate: int,
    budget: InvarianceBudget,
    max_examples: int,
) -> InvarianceResult:
    found = []
    for wave, utterance_id in zip(waves, ids):
        flip = find_flip(predict_one, wave, sample_rate=sample_rate, budget=budget, max_examples=max_examples)
        if flip is not None:
            perturbed = perturb(wave, flip, sample_rate=sample_rate)
            found.append(Counterexample(utterance_id, flip, predict_one(wave), predict_one(perturbed)))
    return InvarianceResult(
        len(found) / len(waves) if waves else float("nan"), len(waves), len(found), max_examples, budget, tuple(found)
    )
