"""Score-based black-box attack at an SNR budget: it queries the model's class scores, never its gradients.

For encoders gradients cannot reach (eGeMAPS through openSMILE's C++ code), this measures what an
attacker with only an API that returns class probabilities can do. The search is SimBA (Guo et al.
2019, "Simple Black-box Adversarial Attacks"): pick a direction, try adding it and, if that does not
help, subtracting it; keep whichever lowers the margin p_true − max p_other. SimBA walks a fixed
orthonormal basis (pixels, DCT); audio emotion cues live in time-frequency regions, so the directions
here are random Gabor atoms: a windowed cosine of random frequency, phase, position and length.

The perturbation δ always stays in the L2 ball of the SNR budget (radius ‖x‖₂·10^(−S/20), shrunk by
the float32 rounding the model's input adds), so every waveform the model hears has SNR ≥ S; an
utterance's own samples only are perturbed, padding never. Each utterance draws its atoms from its
own generator seeded by (seed, position), so batching does not change the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from trustser.encoders.base import pad_waveforms
from trustser.pillars.safety.snr import l2_budget, snr_db

KIND = "score-based black-box"
ATTACK = "SimBA (Gabor atoms)"
LOWEST_HZ = 50.0
HIGHEST_FRACTION_OF_RATE = 0.45  # just below Nyquist
WINDOW_HALVINGS = 4  # atoms span the whole utterance, or 1/2, 1/4, 1/8 of it
FLOAT32_ROUNDING = 2.0**-23  # twice float32's relative rounding error: the radius keeps this much slack

# (utterance positions in the attacked list, their waveforms) -> class scores [n, classes]; positions let
# a caller route each utterance to its own model (e.g. its fold's)
Scores = Callable[[np.ndarray, list[np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class BlackBoxResult:
    attack: str
    kind: str  # "score-based black-box": only output scores were used
    budget_db: float
    max_queries: int  # per utterance, the query of the clean input included
    success_rate: float  # among utterances classified correctly before the attack; NaN if none was
    n_attacked: int
    n_success: int
    n_total: int
    queries_median: float  # queries spent per attacked utterance (a failed one spent max_queries)
    snr_db_min: float  # of the waveforms the model heard, over the attacked utterances
    snr_db_median: float
    adversarial: tuple[np.ndarray, ...] = ()  # float32, as the model heard them; the clean input when not attacked
    flipped: tuple[bool, ...] = ()
    queries: tuple[int, ...] = ()  # per input utterance
    examples: tuple[str, ...] = ()  # stored WAV pairs of successful attacks (<id>.adversarial.wav)


def model_scores(model: nn.Module, *, batch_size: int = 16) -> Scores:
    """The class probabilities of a waveform model, as an API would return them, computed without autograd."""

    def scores(rows: np.ndarray, waves: list[np.ndarray]) -> np.ndarray:
        parts = []
        for start in range(0, len(waves), batch_size):
            with torch.no_grad():
                logits = model(*pad_waveforms(waves[start : start + batch_size]))
            parts.append(torch.softmax(logits.double(), dim=1).numpy())
        return np.concatenate(parts)

    return scores


def gabor_atom(rng: np.random.Generator, samples: int, sample_rate: int) -> np.ndarray:
    """A unit-L2 windowed cosine inside `samples` samples: random length, position, frequency and phase."""
    length = max(min(samples, 64), samples >> int(rng.integers(WINDOW_HALVINGS)))
    start = int(rng.integers(samples - length + 1))
    hz = float(np.exp(rng.uniform(np.log(LOWEST_HZ), np.log(HIGHEST_FRACTION_OF_RATE * sample_rate))))
    phase = rng.uniform(0.0, 2.0 * np.pi)
    atom = np.zeros(samples)
    window = np.hanning(length + 2)[1:-1]  # no zero end points, so even a short atom has energy
    atom[start : start + length] = window * np.cos(2.0 * np.pi * hz * np.arange(length) / sample_rate + phase)
    return atom / np.linalg.norm(atom)


def safe_radius(clean: np.ndarray, budget_db: float) -> float:
    """The L2 radius of the budget minus what rounding x + δ to float32 can add to ‖δ‖."""
    radius = l2_budget(clean, budget_db)
    safe = radius - FLOAT32_ROUNDING * (float(np.linalg.norm(np.asarray(clean, dtype=np.float64))) + radius)
    if safe <= 0.0:
        raise ValueError(f"no perturbation fits a {budget_db} dB budget on this utterance (silent, or beyond float32)")
    return safe


def project(delta: np.ndarray, radius: float) -> np.ndarray:
    norm = float(np.linalg.norm(delta))
    return delta if norm <= radius else delta * (radius / norm)


def margin(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """p_true − max p_other per row: negative once the prediction left the true class."""
    rows = np.arange(len(labels))
    others = scores.copy()
    others[rows, labels] = -np.inf
    return scores[rows, labels] - others.max(axis=1)


class _Search:
    """SimBA's state for one batch: each utterance's δ, margin and queries spent."""

    def __init__(
        self,
        scores: Scores,
        rows: np.ndarray,
        waves: list[np.ndarray],
        labels: np.ndarray,
        *,
        budget_db: float,
        max_queries: int,
        seed: int,
        step: float,
        sample_rate: int,
    ):
        self.scores, self.rows, self.labels = scores, rows, labels
        self.clean = [np.asarray(w, dtype=np.float64) for w in waves]
        self.radius = np.array([safe_radius(w, budget_db) for w in self.clean])
        self.heard = [np.asarray(w, dtype=np.float32) for w in waves]
        self.rngs = [np.random.default_rng((seed, int(row))) for row in rows]
        self.max_queries, self.step, self.sample_rate = max_queries, step, sample_rate
        first = self._query(np.arange(len(rows)), self.heard)
        self.queries = np.ones(len(rows), dtype=np.int64)  # the clean input's
        self.before = first.argmax(axis=1)
        self.after = self.before.copy()
        self.margin = margin(first, labels)

    def _query(self, members: np.ndarray, heard: list[np.ndarray]) -> np.ndarray:
        return np.asarray(self.scores(self.rows[members], heard), dtype=np.float64)

    def run(self) -> None:
        """Until each utterance is flipped or has spent its queries; misclassified ones are not attacked."""
        active = np.flatnonzero(self.before == self.labels)
        while True:
            active = active[(self.after[active] == self.labels[active]) & (self.queries[active] < self.max_queries)]
            if not len(active):
                return
            atoms = {i: gabor_atom(self.rngs[i], len(self.clean[i]), self.sample_rate) for i in active}
            trying = active
            for sign in (1.0, -1.0):
                trying = trying[self.queries[trying] < self.max_queries]
                if not len(trying):
                    break
                improved = self._try(trying, {i: sign * atoms[i] for i in trying})
                trying = trying[~improved]

    def _try(self, members: np.ndarray, atoms: dict[int, np.ndarray]) -> np.ndarray:
        """Query δ + step·radius·atom (projected) for `members`; keep it where the margin fell."""
        candidates = []
        for i in members:
            delta = project(self.heard[i] - self.clean[i] + self.step * self.radius[i] * atoms[i], self.radius[i])
            candidates.append((self.clean[i] + delta).astype(np.float32))
        scores = self._query(members, candidates)
        self.queries[members] += 1
        new_margin = margin(scores, self.labels[members])
        improved = new_margin < self.margin[members]
        for row, i in enumerate(members):
            if improved[row]:
                self.heard[i], self.margin[i], self.after[i] = candidates[row], new_margin[row], scores[row].argmax()
        return improved


@dataclass(frozen=True)
class SearchOutcome:
    """What SimBA did to each utterance: predictions before and after, queries spent, audio heard last."""

    before: np.ndarray
    after: np.ndarray
    queries: np.ndarray
    heard: list[np.ndarray]


def score_based_attack(
    scores: Scores,
    waves: Sequence[np.ndarray],
    labels: np.ndarray,
    *,
    budget_db: float,
    max_queries: int,
    sample_rate: int,
    seed: int = 0,
    step: float = 0.5,
    batch_size: int = 16,
) -> BlackBoxResult:
    """SimBA with Gabor atoms on every utterance the model classifies correctly, `max_queries` each.

    `step` is the size of one move as a fraction of the budget's L2 radius. Untargeted success: the
    prediction leaves the true class. Never calls backward: `scores` sees waveforms only.
    """
    options = dict(budget_db=budget_db, max_queries=max_queries, sample_rate=sample_rate, seed=seed, step=step)
    outcome = simba_search(scores, waves, labels, batch_size=batch_size, **options)
    return black_box_result(
        waves,
        outcome.heard,
        np.asarray(labels, dtype=np.int64),
        before=outcome.before,
        after=outcome.after,
        queries=outcome.queries,
        budget_db=budget_db,
        max_queries=max_queries,
    )


def simba_search(
    scores: Scores,
    waves: Sequence[np.ndarray],
    labels: np.ndarray,
    positions: np.ndarray | None = None,
    *,
    budget_db: float,
    max_queries: int,
    sample_rate: int,
    seed: int = 0,
    step: float = 0.5,
    batch_size: int = 16,
) -> SearchOutcome:
    """The search of `score_based_attack`, without judging it. `positions[i]` (default i) is utterance
    i's place in the whole attacked list: it seeds the utterance's generator and is what `scores`
    receives, so a part of the list (a fold, on a worker) is searched exactly as within the whole."""
    if max_queries < 2:
        raise ValueError(f"max_queries must leave room for one try after the clean query, got {max_queries}")
    labels = np.asarray(labels, dtype=np.int64)
    positions = np.arange(len(waves)) if positions is None else np.asarray(positions, dtype=np.int64)
    order = np.argsort([len(w) for w in waves], kind="stable")  # similar lengths pad less
    before, after = np.empty(len(waves), dtype=np.int64), np.empty(len(waves), dtype=np.int64)
    queries = np.zeros(len(waves), dtype=np.int64)
    heard: list[np.ndarray] = [np.asarray(w, dtype=np.float32) for w in waves]
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        search = _Search(
            scores,
            positions[batch],
            [waves[i] for i in batch],
            labels[batch],
            budget_db=budget_db,
            max_queries=max_queries,
            seed=seed,
            step=step,
            sample_rate=sample_rate,
        )
        search.run()
        before[batch], after[batch], queries[batch] = search.before, search.after, search.queries
        for row, i in enumerate(batch):
            heard[i] = search.heard[row]
    return SearchOutcome(before, after, queries, heard)


def black_box_result(
    waves: Sequence[np.ndarray],
    heard: list[np.ndarray],
    labels: np.ndarray,
    *,
    before: np.ndarray,
    after: np.ndarray,
    queries: np.ndarray,
    budget_db: float,
    max_queries: int,
) -> BlackBoxResult:
    correct = before == labels
    flipped = correct & (after != labels)
    snrs = np.array([snr_db(w, h) for w, h, attacked in zip(waves, heard, correct) if attacked] or [np.nan])
    # the radius leaves room for float32 rounding, so anything below the budget is a bug
    if correct.any() and np.min(snrs) < budget_db:
        raise AssertionError(f"{ATTACK} produced {np.min(snrs):.6f} dB < budget {budget_db} dB")
    return BlackBoxResult(
        attack=ATTACK,
        kind=KIND,
        budget_db=float(budget_db),
        max_queries=int(max_queries),
        success_rate=float(flipped.sum() / correct.sum()) if correct.any() else float("nan"),
        n_attacked=int(correct.sum()),
        n_success=int(flipped.sum()),
        n_total=len(waves),
        queries_median=float(np.median(queries[correct])) if correct.any() else float("nan"),
        snr_db_min=float(np.min(snrs)),
        snr_db_median=float(np.median(snrs)),
        adversarial=tuple(heard),
        flipped=tuple(bool(f) for f in flipped),
        queries=tuple(int(q) for q in queries),
    )
