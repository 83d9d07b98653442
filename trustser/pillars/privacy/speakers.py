"""Speaker linkability: can an attacker tell who is speaking from the released representations?

Two attacks (docs/metrics.md, Privacy), each run on every exposed representation, gating on the worst:

- closed-set identification: a standardised logistic regression trained on half of each speaker's
  utterances and tested on the other half (then the halves swapped). Top-1 accuracy; chance is
  1 / speakers.
- verification: a cosine-scoring attacker on every pair of utterances (standardised embeddings),
  same-speaker pairs as targets. Equal error rate (VoicePrivacy convention): 0.5 = the
  representation says nothing about identity; lower = more linkable. Corpora with more than
  `MAX_TRIALS` pairs (over ~700 utterances) are scored on `MAX_TRIALS` pairs drawn uniformly with a
  fixed seed: all pairs grow with the square of the corpus (13 M pairs for 5,000 utterances).

Intervals resample speakers (identification: their utterances' correctness; verification: their
trials, weighted by how often the resample drew each speaker).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from trustser.pillars.speaker_bootstrap import N_RESAMPLES, Resample, speaker_intervals


@dataclass(frozen=True)
class SpeakerIdentificationResult:
    accuracy: float  # top-1, of the most revealing representation
    worst_representation: str
    chance: float  # 1 / speakers
    n: int
    n_speakers: int
    accuracy_by_representation: dict[str, float] = field(default_factory=dict)
    ci: tuple[float, float] = (float("nan"), float("nan"))
    n_resamples: int = N_RESAMPLES


@dataclass(frozen=True)
class SpeakerVerificationResult:
    eer: float  # equal error rate in [0, 1] of the most linkable representation; 0.5 = no information
    worst_representation: str
    n_target_trials: int
    n_nontarget_trials: int
    n_speakers: int
    eer_by_representation: dict[str, float] = field(default_factory=dict)
    ci: tuple[float, float] = (float("nan"), float("nan"))
    n_resamples: int = N_RESAMPLES


def _halves(speakers: np.ndarray, *, seed: int) -> np.ndarray:
    """0/1 per utterance: each speaker's utterances dealt alternately into two halves, in random order."""
    rng = np.random.default_rng(seed)
    half = np.zeros(len(speakers), dtype=np.int64)
    for speaker in np.unique(speakers):
        rows = rng.permutation(np.flatnonzero(speakers == speaker))
        half[rows[1::2]] = 1
    return half


def _identification_correct(x: np.ndarray, speakers: np.ndarray, half: np.ndarray, *, seed: int) -> np.ndarray:
    correct = np.zeros(len(speakers), dtype=bool)
    for test_half in (0, 1):
        test = half == test_half
        attacker = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
        attacker.fit(x[~test], speakers[~test])
        correct[test] = attacker.predict(x[test]) == speakers[test]
    return correct


def speaker_identification(
    representations: Mapping[str, np.ndarray], speakers: np.ndarray, *, seed: int = 0
) -> SpeakerIdentificationResult:
    """Closed-set top-1 accuracy per representation ([n, dim]); the result is the most revealing one."""
    speakers = np.asarray(speakers)
    half = _halves(speakers, seed=seed)
    correct = {
        name: _identification_correct(np.asarray(x, np.float64), speakers, half, seed=seed)
        for name, x in representations.items()
    }
    scores = {name: float(c.mean()) for name, c in correct.items()}
    worst = max(scores, key=scores.get)

    def statistics(resample: Resample) -> dict[str, float]:
        return {"accuracy": float(correct[worst][resample.rows].mean())}

    return SpeakerIdentificationResult(
        accuracy=scores[worst],
        worst_representation=worst,
        chance=1.0 / len(np.unique(speakers)),
        n=len(speakers),
        n_speakers=len(np.unique(speakers)),
        accuracy_by_representation=scores,
        ci=speaker_intervals(statistics, speakers, seed=seed)["accuracy"],
    )


def equal_error_rate(scores: np.ndarray, is_target: np.ndarray, weights: np.ndarray | None = None) -> float:
    """EER: where the false-acceptance and false-rejection rates cross (linear interpolation).

    `weights` counts each trial that many times (a bootstrap resample as multiplicities).
    """
    return _sorted_eer(*_sort_trials(np.asarray(scores, np.float64), np.asarray(is_target, bool)), weights)


def _sort_trials(scores: np.ndarray, is_target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trials by decreasing score: the order, targets in that order and where each threshold ends."""
    order = np.argsort(-scores, kind="stable")
    ordered = scores[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(ordered) != 0), len(ordered) - 1]
    return order, is_target[order], last_of_tie


def _sorted_eer(order: np.ndarray, target: np.ndarray, last_of_tie: np.ndarray, weights: np.ndarray | None) -> float:
    w = np.ones(len(order)) if weights is None else np.asarray(weights, np.float64)[order]
    hits, alarms = np.cumsum(w * target)[last_of_tie], np.cumsum(w * ~target)[last_of_tie]
    if hits[-1] == 0 or alarms[-1] == 0:
        return float("nan")
    fpr = np.r_[0.0, alarms / alarms[-1]]
    fnr = np.r_[1.0, 1.0 - hits / hits[-1]]
    i = int(np.flatnonzero(fnr <= fpr)[0])  # first threshold where misses no longer exceed false alarms
    d_prev, d_next = fpr[i - 1] - fnr[i - 1], fpr[i] - fnr[i]  # fpr − fnr is straight between i-1 and i
    share = d_prev / (d_prev - d_next) if d_prev != d_next else 0.0
    return float(fpr[i - 1] + share * (fpr[i] - fpr[i - 1]))


MAX_TRIALS = 250_000


def trial_pairs(n: int, *, seed: int, max_trials: int = MAX_TRIALS) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of utterances once (first < second), or `max_trials` pairs drawn uniformly when there are more."""
    if n * (n - 1) // 2 <= max_trials:
        return np.triu_indices(n, k=1)
    rng = np.random.default_rng(seed)
    first = rng.integers(0, n, size=max_trials)
    second = rng.integers(0, n - 1, size=max_trials)
    second += second >= first  # any utterance but the first
    return np.minimum(first, second), np.maximum(first, second)


def _cosine_scores(x: np.ndarray, first: np.ndarray, second: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
    """Cosine similarity of standardised embeddings for each pair, a chunk at a time (no n x n matrix)."""
    z = StandardScaler().fit_transform(x)
    z /= np.linalg.norm(z, axis=1, keepdims=True).clip(1e-12)
    scores = np.empty(len(first))
    for start in range(0, len(first), chunk):
        rows = slice(start, start + chunk)
        scores[rows] = np.einsum("ij,ij->i", z[first[rows]], z[second[rows]])
    return scores


def speaker_verification(
    representations: Mapping[str, np.ndarray], speakers: np.ndarray, *, n_resamples: int = N_RESAMPLES, seed: int = 0
) -> SpeakerVerificationResult:
    """Cosine-scoring EER per representation ([n, dim]) over utterance pairs; the result is the lowest."""
    speakers = np.asarray(speakers)
    owner = np.unique(speakers, return_inverse=True)[1]
    first, second = trial_pairs(len(speakers), seed=seed)
    a, b = owner[first], owner[second]
    same = a == b
    eers, worst, worst_trials = {}, None, None
    for name, x in representations.items():  # only the worst representation's trials are kept, for its CI
        trials = _sort_trials(_cosine_scores(np.asarray(x, np.float64), first, second), same)
        eers[name] = _sorted_eer(*trials, None)
        if worst is None or eers[name] < eers[worst]:
            worst, worst_trials = name, trials
    per_speaker = np.bincount(owner)

    def statistics(resample: Resample) -> dict[str, float]:
        # A resample is a multiset of the original trials: speakers s, t drawn w_s and w_t times give
        # w_s·w_t copies of each (s, t) trial and w_s copies of each within-speaker trial; pairs of two
        # copies of one speaker are not trials.
        drawn = np.bincount(owner[resample.rows], minlength=len(per_speaker)) / per_speaker
        weights = np.where(same, drawn[a], drawn[a] * drawn[b])
        return {"eer": _sorted_eer(*worst_trials, weights)}

    return SpeakerVerificationResult(
        eer=eers[worst],
        worst_representation=worst,
        n_target_trials=int(same.sum()),
        n_nontarget_trials=int((~same).sum()),
        n_speakers=len(np.unique(speakers)),
        eer_by_representation=eers,
        ci=speaker_intervals(statistics, speakers, n_resamples=n_resamples, seed=seed)["eer"],
        n_resamples=n_resamples,
    )
