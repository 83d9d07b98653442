"""Speaker linkability: can an attacker tell who is speaking from the released representations?

Two attacks (docs/metrics.md, Privacy), each run on every exposed representation, gating on the worst:

- closed-set identification: a standardised logistic regression trained on half of each speaker's
  utterances and tested on the other half (then the halves swapped). Top-1 accuracy; chance is
  1 / speakers.
- verification: same-speaker pairs of utterances as targets, other pairs as non-targets, scored by
  several attackers: an untrained cosine scorer on every pair (standardised embeddings), and
  informed attackers whose back-end (WCCN, PLDA: trustser.pillars.privacy.backends) is fitted on half
  of the speakers and scores the pairs of the other half. Equal error rate (VoicePrivacy convention):
  0.5 = the representation says nothing about identity; lower = more linkable; the result is the
  strongest attacker on the most linkable representation, and names both. Cllr_min
  (trustser.pillars.privacy.cllr) beside it judges every operating point, not only the EER's.
  Corpora with more than `MAX_TRIALS` pairs (over ~700 utterances) are scored on `MAX_TRIALS` pairs
  drawn uniformly with a fixed seed: all pairs grow with the square of the corpus (13 M pairs for
  5,000 utterances).

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

from trustser.pillars.privacy.backends import BACKENDS, pair_sums, standardised
from trustser.pillars.privacy.cllr import cllr_min
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
    eer: float  # equal error rate in [0, 1] of the strongest attacker on its most linkable representation
    attacker: str  # which attacker that is: "cosine" (untrained) or an informed back-end ("wccn", "plda")
    worst_representation: str
    cllr_min: float  # the lowest Cllr_min (bits) over attackers and representations; 1 = no information
    cllr_min_attacker: str
    cllr_min_representation: str
    n_target_trials: int  # of the strongest attacker (an informed one scores only pairs within a half)
    n_nontarget_trials: int
    n_speakers: int
    eer_by_representation: dict[str, float] = field(default_factory=dict)  # the lowest over attackers
    eer_by_attacker: dict[str, dict[str, float]] = field(default_factory=dict)  # attacker -> representation -> EER
    cllr_min_by_attacker: dict[str, dict[str, float]] = field(default_factory=dict)
    n_trials_by_attacker: dict[str, int] = field(default_factory=dict)
    backend_speakers: tuple[tuple[str, ...], ...] = ()  # the two halves; a back-end of one scores the other's pairs
    informed: str = ""  # why no informed attacker ran, when none did
    ci: tuple[float, float] = (float("nan"), float("nan"))  # of `eer`
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


def _cosine_scores(z: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Cosine similarity of (standardised) embeddings for each pair, a chunk at a time (no n x n matrix)."""
    z = z / np.linalg.norm(z, axis=1, keepdims=True).clip(1e-12)
    return pair_sums(z, z, first, second)


ATTACKERS = ("cosine", *BACKENDS)
"""Every verification attacker by the name results report: the untrained cosine scorer, then the informed ones."""

MIN_INFORMED_SPEAKERS = 4  # two to learn a back-end from, two whose pairs it scores (for different-speaker trials)


def speaker_halves(n_speakers: int, *, seed: int) -> np.ndarray:
    """0/1 per speaker (numbered 0..n-1): the speakers dealt into two halves in random order."""
    half = np.zeros(n_speakers, dtype=np.int64)
    half[np.random.default_rng(seed).permutation(n_speakers)[n_speakers // 2 :]] = 1
    return half


@dataclass(frozen=True)
class _Trials:
    """The pairs one attacker scores (positions into all utterances), sorted for the EER, with their owners."""

    a: np.ndarray  # speaker number of each pair's first utterance
    b: np.ndarray
    sorted: tuple[np.ndarray, np.ndarray, np.ndarray]  # `_sort_trials` of its scores

    @property
    def same(self) -> np.ndarray:
        return self.a == self.b


def _informed_scores(
    fit, z: np.ndarray, speakers: np.ndarray, utterance_half: np.ndarray, first: np.ndarray, second: np.ndarray
) -> np.ndarray:
    """Scores of pairs within a half (first and second in the same half) of standardised embeddings `z`,
    each half by a back-end fitted on the other half's utterances and speakers."""
    scores = np.empty(len(first))
    for half in (0, 1):
        rows = np.flatnonzero(utterance_half == half)
        scorer = fit(z[utterance_half != half], speakers[utterance_half != half])
        pairs = utterance_half[first] == half
        local = np.searchsorted(rows, first[pairs]), np.searchsorted(rows, second[pairs])
        scores[pairs] = scorer.score(z[rows], *local)
    return scores


def _lowest(value: float) -> float:
    """A value to minimise over, a NaN (not measured) never winning."""
    return np.inf if np.isnan(value) else value


def speaker_verification(
    representations: Mapping[str, np.ndarray],
    speakers: np.ndarray,
    *,
    attackers: tuple[str, ...] = ATTACKERS,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> SpeakerVerificationResult:
    """EER and Cllr_min per attacker and representation ([n, dim]) over utterance pairs; the result is the lowest.

    The cosine attacker scores every pair (up to `MAX_TRIALS`). An informed attacker (`BACKENDS`)
    splits the speakers into two halves and scores the pairs within each half with a back-end fitted
    on the other half, so that no scored speaker was seen in training; pairs across the halves are not
    its trials. `attackers` names those that run (`ATTACKERS`); with fewer than `MIN_INFORMED_SPEAKERS`
    speakers only the cosine one does, and the result says so (`informed`).
    """
    unknown = sorted(set(attackers) - set(ATTACKERS))
    if unknown or not attackers:
        raise ValueError(f"attackers must name some of {ATTACKERS}, got {list(attackers)}")
    speakers = np.asarray(speakers)
    names, owner = np.unique(speakers, return_inverse=True)
    first, second = trial_pairs(len(speakers), seed=seed)
    half = speaker_halves(len(names), seed=seed)
    informed = len(names) >= MIN_INFORMED_SPEAKERS
    within = half[owner[first]] == half[owner[second]]
    ran = tuple(a for a in attackers if informed or a == "cosine")
    if not ran:
        raise ValueError(f"{len(names)} speakers: informed attackers need {MIN_INFORMED_SPEAKERS}; add 'cosine'")
    n_trials = {a: len(first) if a == "cosine" else int(within.sum()) for a in ran}
    eers: dict[str, dict[str, float]] = {attacker: {} for attacker in ran}
    cllrs: dict[str, dict[str, float]] = {attacker: {} for attacker in ran}
    best: tuple[float, str, str, _Trials] | None = None  # only the strongest attack's trials are kept, for its CI
    for name, loaded in representations.items():
        z = standardised(loaded)
        for attacker in ran:
            if attacker == "cosine":
                pairs, scores = (first, second), _cosine_scores(z, first, second)
            else:
                pairs = first[within], second[within]
                scores = _informed_scores(BACKENDS[attacker], z, speakers, half[owner], *pairs)
            a, b = owner[pairs[0]], owner[pairs[1]]
            trials = _Trials(a, b, _sort_trials(scores, a == b))
            eers[attacker][name] = _sorted_eer(*trials.sorted, None)
            cllrs[attacker][name] = cllr_min(scores, trials.same)
            if best is None or _lowest(eers[attacker][name]) < _lowest(best[0]):
                best = (eers[attacker][name], attacker, name, trials)
    eer, attacker, worst, trials = best
    per_speaker = np.bincount(owner)

    def statistics(resample: Resample) -> dict[str, float]:
        # A resample is a multiset of the original trials: speakers s, t drawn w_s and w_t times give
        # w_s·w_t copies of each (s, t) trial and w_s copies of each within-speaker trial; pairs of two
        # copies of one speaker are not trials.
        drawn = np.bincount(owner[resample.rows], minlength=len(per_speaker)) / per_speaker
        weights = np.where(trials.same, drawn[trials.a], drawn[trials.a] * drawn[trials.b])
        return {"eer": _sorted_eer(*trials.sorted, weights)}

    cllr_attacker, cllr_representation = min(
        ((a, r) for a in ran for r in cllrs[a]), key=lambda pair: _lowest(cllrs[pair[0]][pair[1]])
    )
    return SpeakerVerificationResult(
        eer=eer,
        attacker=attacker,
        worst_representation=worst,
        cllr_min=cllrs[cllr_attacker][cllr_representation],
        cllr_min_attacker=cllr_attacker,
        cllr_min_representation=cllr_representation,
        n_target_trials=int(trials.same.sum()),
        n_nontarget_trials=int((~trials.same).sum()),
        n_speakers=len(names),
        eer_by_representation={r: min(eers[a][r] for a in ran) for r in eers[ran[0]]},
        eer_by_attacker=eers,
        cllr_min_by_attacker=cllrs,
        n_trials_by_attacker=n_trials,
        backend_speakers=tuple(tuple(names[half == h].tolist()) for h in (0, 1)) if ran != ("cosine",) else (),
        informed=""
        if informed or set(attackers) == {"cosine"}
        else f"{len(names)} speakers: informed attackers need "
        f"{MIN_INFORMED_SPEAKERS}, to learn from some and score others; cosine only",
        ci=speaker_intervals(statistics, speakers, n_resamples=n_resamples, seed=seed)["eer"],
        n_resamples=n_resamples,
    )
