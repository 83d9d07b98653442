"""Query-only attack on a dimensional model: can an API that returns attribute values be moved inaudibly?

The search is the categorical black-box attack's SimBA with random Gabor atoms (trustser.pillars.safety.
blackbox): try adding an atom and, if that does not help, subtracting it; keep whichever moves the answer
further from the clean answer, as measured by the success criterion itself: the largest move of any
attribute. (A pull towards a shifted target, as the white-box shift attacks use, would reject a step that
overshoots it, and a query search takes large steps.) An utterance is done once some attribute moved by
`margin` (normalised), or when it has spent `max_queries` queries (the clean one included). δ stays in
the L2 ball of the SNR budget, so every waveform the model hears has SNR ≥ S;
each utterance draws its atoms from its own generator seeded by (seed, position).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from trustser.encoders.base import pad_waveforms
from trustser.pillars.safety.blackbox import gabor_atom, project, safe_radius
from trustser.pillars.safety.shift import ShiftOutcome
from trustser.pillars.safety.snr import snr_db

ATTACK = "SimBA (Gabor atoms) on the largest attribute move"

# (utterance positions in the attacked list, their waveforms) -> attribute values [n, attributes], normalised
Answers = Callable[[np.ndarray, list[np.ndarray]], np.ndarray]


def model_answers(model: nn.Module) -> Answers:
    """A waveform model's attribute values, as an API would return them, computed without autograd."""

    def answers(positions: np.ndarray, waves: list[np.ndarray]) -> np.ndarray:
        with torch.no_grad():
            return model(*pad_waveforms(waves)).double().numpy()

    return answers


def shift_search(
    answers: Answers,
    waves: Sequence[np.ndarray],
    positions: np.ndarray | None = None,
    *,
    budget_db: float,
    margin: float,
    max_queries: int,
    sample_rate: int,
    seed: int = 0,
    step: float = 0.5,
) -> ShiftOutcome:
    """SimBA on every utterance, growing its largest attribute move; `step` is one move's size as a fraction of the
    budget's L2 radius. Never calls backward: `answers` sees waveforms only."""
    if max_queries < 2:
        raise ValueError(f"max_queries must leave room for one try after the clean query, got {max_queries}")
    positions = np.arange(len(waves)) if positions is None else np.asarray(positions, dtype=np.int64)
    clean = [np.asarray(w, dtype=np.float64) for w in waves]
    radius = np.array([safe_radius(w, budget_db) for w in clean])
    heard = [np.asarray(w, dtype=np.float32) for w in waves]
    rngs = [np.random.default_rng((seed, int(p))) for p in positions]
    before = np.asarray(answers(positions, heard), dtype=np.float64)
    current, moved = before.copy(), np.zeros(len(waves))
    queries = np.ones(len(waves), dtype=np.int64)
    while True:
        active = np.flatnonzero((moved < margin - 1e-9) & (queries < max_queries))
        if not len(active):
            break
        atoms = {i: gabor_atom(rngs[i], len(clean[i]), sample_rate) for i in active}
        trying = active
        for sign in (1.0, -1.0):
            trying = trying[queries[trying] < max_queries]
            if not len(trying):
                break
            candidates = [
                (clean[i] + project(heard[i] - clean[i] + sign * step * radius[i] * atoms[i], radius[i])).astype(
                    np.float32
                )
                for i in trying
            ]
            answered = np.asarray(answers(positions[trying], candidates), dtype=np.float64)
            queries[trying] += 1
            new_moved = np.abs(answered - before[trying]).max(1)
            improved = new_moved > moved[trying]
            for row, i in enumerate(trying):
                if improved[row]:
                    heard[i], current[i], moved[i] = candidates[row], answered[row], new_moved[row]
            trying = trying[~improved]
    snrs = np.array([snr_db(c, h) for c, h in zip(clean, heard)])
    # the radius leaves room for float32 rounding, so anything below the budget is a bug
    if len(snrs) and np.min(snrs) < budget_db:
        raise AssertionError(f"{ATTACK} produced {np.min(snrs):.6f} dB < budget {budget_db} dB")
    return ShiftOutcome(before, current, snrs, tuple(h.astype(np.float64) for h in heard))
