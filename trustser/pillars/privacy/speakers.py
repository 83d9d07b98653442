"""Speaker linkability: can an attacker tell who is speaking from the released representations?

Two attacks (docs/metrics.md, Privacy), each run on every exposed representation, gating on the worst:

- closed-set identification: a standardised logistic regression trained on half of each speaker's
  utterances and tested on the other half (then the halves swapped). Top-1 accuracy; chance is
  1 / speakers.
- verification: the speakers split into two halves; same-speaker pairs of utterances within a half
  as targets, different-speaker pairs within a half as non-targets, scored by each of several
  attackers: an untrained cosine scorer (standardised embeddings), informed attackers whose
  back-end (WCCN, PLDA: trustser.pillars.privacy.backends) is fitted on the other half's speakers,
  and "informed", the attacker that deploys whichever of the three its own validation on the other
  half's speakers favours (a trained back-end only when it beats cosine there by `SELECTION_MARGIN`:
  one fitted to noise can score worse than no back-end at all).
  Equal error rate (VoicePrivacy convention): 0.5 = the representation says nothing about identity;
  lower = more linkable; the result is the strongest attacker on the most linkable representation,
  and names both. Cllr_min (trustser.pillars.privacy.cllr) beside it judges every operating point,
  not only the EER's. Corpora with more than `MAX_TRIALS` pairs (over ~700 utterances) are scored on
  the within-half pairs among `MAX_TRIALS` pairs drawn uniformly with a fixed seed: all pairs grow
  with the square of the corpus (13 M pairs for 5,000 utterances).

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
    attacker: str  # which attacker that is: "cosine" (untrained), a back-end ("wccn", "plda") or "informed"
    worst_representation: str
    cllr_min: float  # the lowest Cllr_min (bits) over attackers and representations; 1 = no information
    cllr_min_attacker: str
    cllr_min_representation: str
    n_target_trials: int  # every attacker scores the same trials: the pairs within each half of the speakers
    n_nontarget_trials: int
    n_speakers: int
    eer_by_representation: dict[str, float] = field(default_factory=dict)  # the lowest over attackers
    eer_by_attacker: dict[str, dict[str, float]] = field(default_factory=dict)  # attacker -> representation -> EER
    cllr_min_by_attacker: dict[str, dict[str, float]] = field(default_factory=dict)
    speaker_halves: tuple[tuple[str, ...], ...] = ()  # trials: pairs within a half; back-ends learn from the other
    informed: str = ""  # why no informed attacker ran, when none did
    informed_backends: dict[str, tuple[str, ...]] = field(default_factory=dict)  # representation -> each half's choice
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


BACKEND_CANDIDATES = ("cosine", *BACKENDS)
ATTACKERS = (*BACKEND_CANDIDATES, "informed")
"""Every verification attacker by the name results report: the untrained cosine scorer, each trained
back-end, and the informed attacker that chooses among them by validation (`select_backend`)."""

SELECTION_MARGIN = (
    0.02  # validation EER a trained back-end must gain over cosine for the informed attacker to deploy it
)

MIN_INFORMED_SPEAKERS = 4  # two halves of two: each half has different-speaker pairs, and two speakers to learn from


def speaker_halves(n_speakers: int, *, seed: int) -> np.ndarray:
    """0/1 per speaker (numbered 0..n-1): the speakers dealt into two halves in random order."""
    half = np.zeros(n_speakers, dtype=np.int64)
    half[np.random.default_rng(seed).permutation(n_speakers)[n_speakers // 2 :]] = 1
    return half


def _per_half(
    score, z: np.ndarray, speakers: np.ndarray, utterance_half: np.ndarray, first: np.ndarray, second: np.ndarray
) -> np.ndarray:
    """Scores of pairs within a half, each half's scored by `score(z_half, first, second, z_other, speakers_other)`
    and standardised over that half's pairs (label-free score normalisation: the two halves' back-ends need
    not share a scale, and each half holds targets and non-targets alike)."""
    scores = np.empty(len(first))
    for half in np.unique(utterance_half):
        rows, other = np.flatnonzero(utterance_half == half), utterance_half != half
        pairs = utterance_half[first] == half
        local = np.searchsorted(rows, first[pairs]), np.searchsorted(rows, second[pairs])
        scores[pairs] = standardised(score(z[rows], *local, z[other], speakers[other]))
    return scores


def _cosine(z, first, second, _z_other, _speakers_other) -> np.ndarray:
    return _cosine_scores(z, first, second)


def _informed(fit):
    def score(z, first, second, z_other, speakers_other) -> np.ndarray:
        return fit(z_other, speakers_other).score(z, first, second)

    return score


def _scorer(backend: str):
    return _cosine if backend == "cosine" else _informed(BACKENDS[backend])


def _within_half_trials(owner: np.ndarray, half: np.ndarray, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The trial pairs (`trial_pairs`) whose two utterances' speakers (`owner`, 0..k-1) share a half."""
    first, second = trial_pairs(len(owner), seed=seed)
    within = half[owner[first]] == half[owner[second]]
    return first[within], second[within]


def select_backend(z: np.ndarray, speakers: np.ndarray, *, seed: int) -> str:
    """The back-end an attacker holding these labelled utterances would deploy on other speakers.

    Its speakers are split in two again; each candidate (`BACKEND_CANDIDATES`) scores the pairs within
    one sub-half after learning from the other, as `speaker_verification` does one level up, and the
    lowest EER wins, cosine unless a trained back-end beats it by `SELECTION_MARGIN`. With fewer than
    `MIN_INFORMED_SPEAKERS` speakers nothing can be validated, and nothing trained is deployed unchecked.
    """
    speakers = np.asarray(speakers)
    names, owner = np.unique(speakers, return_inverse=True)
    if len(names) < MIN_INFORMED_SPEAKERS:
        return "cosine"
    half = speaker_halves(len(names), seed=seed)
    first, second = _within_half_trials(owner, half, seed=seed)
    same = owner[first] == owner[second]
    eers = {
        backend: _lowest(equal_error_rate(_per_half(_scorer(backend), z, speakers, half[owner], first, second), same))
        for backend in BACKEND_CANDIDATES
    }
    trained = min(BACKENDS, key=eers.get)
    return trained if eers[trained] < eers["cosine"] - SELECTION_MARGIN else "cosine"


def _validated(choices: list[str], *, seed: int):
    """The informed attacker's scorer; the back-end each fit chose is appended to `choices`."""

    def score(z, first, second, z_other, speakers_other) -> np.ndarray:
        backend = select_backend(z_other, speakers_other, seed=seed)
        choices.append(backend)
        return _scorer(backend)(z, first, second, z_other, speakers_other)

    return score


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

    The speakers are split into two halves (`speaker_halves`) and the trials are the pairs within a half
    (up to `MAX_TRIALS` pairs drawn first): every attacker scores the same trials, the cosine one as it
    is, an informed one (`BACKENDS`) with a back-end fitted on the other half, so that no scored speaker
    was seen in training. (A pair across the halves would need a back-end that saw neither speaker, and
    only different-speaker pairs need one: a back-end per kind of pair would tell targets apart by which
    back-end scored them.) `attackers` names those that run (`ATTACKERS`). With fewer than
    `MIN_INFORMED_SPEAKERS` speakers the trials are all pairs and only the cosine attacker runs; the
    result says so (`informed`).
    """
    unknown = sorted(set(attackers) - set(ATTACKERS))
    if unknown or not attackers:
        raise ValueError(f"attackers must name some of {ATTACKERS}, got {list(attackers)}")
    speakers = np.asarray(speakers)
    names, owner = np.unique(speakers, return_inverse=True)
    informed = len(names) >= MIN_INFORMED_SPEAKERS
    half = speaker_halves(len(names), seed=seed) if informed else np.zeros(len(names), dtype=np.int64)
    first, second = _within_half_trials(owner, half, seed=seed)
    a, b = owner[first], owner[second]
    same = a == b
    ran = tuple(attacker for attacker in attackers if informed or attacker == "cosine")
    if not ran:
        raise ValueError(f"{len(names)} speakers: informed attackers need {MIN_INFORMED_SPEAKERS}; add 'cosine'")
    eers: dict[str, dict[str, float]] = {attacker: {} for attacker in ran}
    cllrs: dict[str, dict[str, float]] = {attacker: {} for attacker in ran}
    chosen: dict[str, tuple[str, ...]] = {}
    best: tuple[float, str, str, tuple] | None = None  # only the strongest attack's sorted trials are kept, for its CI
    for name, loaded in representations.items():
        z = standardised(loaded)
        for attacker in ran:
            choices: list[str] = []
            score = _validated(choices, seed=seed) if attacker == "informed" else _scorer(attacker)
            scores = _per_half(score, z, speakers, half[owner], first, second)
            trials = _sort_trials(scores, same)
            eers[attacker][name] = _sorted_eer(*trials, None)
            cllrs[attacker][name] = cllr_min(scores, same)
            if choices:
                chosen[name] = tuple(choices)
            if best is None or _lowest(eers[attacker][name]) < _lowest(best[0]):
                best = (eers[attacker][name], attacker, name, trials)
    eer, attacker, worst, trials = best
    per_speaker = np.bincount(owner)

    def statistics(resample: Resample) -> dict[str, float]:
        # A resample is a multiset of the original trials: speakers s, t drawn w_s and w_t times give
        # w_s·w_t copies of each (s, t) trial and w_s copies of each within-speaker trial; pairs of two
        # copies of one speaker are not trials.
        drawn = np.bincount(owner[resample.rows], minlength=len(per_speaker)) / per_speaker
        weights = np.where(same, drawn[a], drawn[a] * drawn[b])
        return {"eer": _sorted_eer(*trials, weights)}

    lowest_cllr = min(((k, r) for k in ran for r in cllrs[k]), key=lambda pair: _lowest(cllrs[pair[0]][pair[1]]))
    return SpeakerVerificationResult(
        eer=eer,
        attacker=attacker,
        worst_representation=worst,
        cllr_min=cllrs[lowest_cllr[0]][lowest_cllr[1]],
        cllr_min_attacker=lowest_cllr[0],
        cllr_min_representation=lowest_cllr[1],
        n_target_trials=int(same.sum()),
        n_nontarget_trials=int((~same).sum()),
        n_speakers=len(names),
        eer_by_representation={r: min(eers[k][r] for k in ran) for r in eers[ran[0]]},
        eer_by_attacker=eers,
        cllr_min_by_attacker=cllrs,
        speaker_halves=tuple(tuple(names[half == h].tolist()) for h in (0, 1)) if informed else (),
        informed=""
        if informed
        else f"{len(names)} speakers: informed attackers need {MIN_INFORMED_SPEAKERS}, "
        "to learn from some and score others; cosine only, on all pairs",
        informed_backends=chosen,
        ci=speaker_intervals(statistics, speakers, n_resamples=n_resamples, seed=seed)["eer"],
        n_resamples=n_resamples,
    )
