"""Informed speaker verification and Cllr_min on numpy arrays: the back-ends, the cost, the planted case."""

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from trustser.gates.thresholds import load_gates
from trustser.pillars import declared_metrics
from trustser.pillars.privacy import speaker_verification
from trustser.pillars.privacy.backends import fit_plda, fit_wccn, standardised, within_speaker_covariance
from trustser.pillars.privacy.cllr import cllr, cllr_min
from trustser.pillars.privacy.speakers import select_backend

ROOT = Path(__file__).resolve().parents[2]
GATES = load_gates(ROOT / "thresholds.toml", declared_metrics())
SPEAKERS = np.repeat([f"s{i}" for i in range(8)], 40)


def verdict(metric: str, value: float) -> str:
    return GATES.gate(metric).judge(value, "unit").verdict


def test_cllr_min_by_hand():
    # Ascending: 0.05 N, 0.1 N, 0.4 T, 0.6 N, 0.9 T. PAV: 0, 0, 1/2, 1/2, 1. Prior odds 2/3, so the llr of
    # p = 1/2 is log(3/2): the target at 0.4 costs log2(1 + 2/3), the non-target at 0.6 log2(1 + 3/2); the
    # blocks at 0 and 1 cost nothing.
    scores = np.array([0.9, 0.4, 0.6, 0.1, 0.05])
    target = np.array([1, 1, 0, 0, 0], bool)
    expected = 0.5 * (np.log2(5 / 3) / 2 + np.log2(5 / 2) / 3)
    assert cllr_min(scores, target) == pytest.approx(expected)
    # balanced: 0.1 N, 0.4 T, 0.6 N, 0.9 T pools the middle pair at 1/2, llr 0: one bit for each of them
    assert cllr_min(scores[:4], target[:4]) == pytest.approx(0.5)
    assert cllr_min(np.array([3.0, 2.0, 1.0, 0.0]), np.array([1, 1, 0, 0], bool)) == 0.0  # separable
    assert np.isnan(cllr_min(np.array([1.0, 2.0]), np.array([1, 1], bool)))


def test_cllr_min_properties_on_random_scores():
    rng = np.random.default_rng(0)
    for separation in (0.0, 0.5, 2.0):
        target = rng.random(400) < 0.3
        scores = rng.normal(size=400) + separation * target
        low = cllr_min(scores, target)
        assert 0.0 <= low <= 1.0
        assert cllr_min(np.exp(scores), target) == pytest.approx(low)  # it sees the order only
        # no affine calibration of the scores beats the best monotonic one; llr = 0 costs exactly 1 bit
        for scale, shift in ((1.0, 0.0), (2.0, -1.0), (0.3, 0.5)):
            assert low <= cllr(scale * scores + shift, target) + 1e-12
    assert cllr(np.zeros(10), np.arange(10) < 4) == pytest.approx(1.0)
    ties = np.round(rng.normal(size=2000), 1)  # many equal scores, pooled: still finite, still <= 1
    assert 0.0 <= cllr_min(ties, rng.random(2000) < 0.5) <= 1.0


def test_plda_scores_are_the_two_covariance_log_likelihood_ratio():
    rng = np.random.default_rng(1)
    speakers = np.repeat(np.arange(6), 50)
    means = rng.normal(scale=2.0, size=(6, 3))
    x = standardised(means[speakers] + rng.normal(size=(300, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0], [0, 0, 0.3]]))
    plda = fit_plda(x, speakers)
    # the model's B and W back in the embedding space, from the fitted basis (W = I, B diagonal there)
    inverse = np.linalg.inv(plda.transform)
    within, between = inverse.T @ inverse, inverse.T @ np.diag(plda.between) @ inverse
    assert within == pytest.approx(within_speaker_covariance(x, speakers))
    total = within + between
    same = multivariate_normal(np.zeros(6), np.block([[total, between], [between, total]]))
    single = multivariate_normal(np.zeros(3), total)
    first, second = np.array([0, 0, 7, 120]), np.array([1, 60, 250, 121])
    expected = [
        same.logpdf(np.r_[x[i], x[j]]) - single.logpdf(x[i]) - single.logpdf(x[j]) for i, j in zip(first, second)
    ]
    assert plda.score(x, first, second) == pytest.approx(expected)


def test_wccn_whitens_the_within_speaker_covariance():
    rng = np.random.default_rng(2)
    speakers = np.repeat(np.arange(5), 60)
    x = rng.normal(size=(5, 4))[speakers] + rng.normal(size=(300, 4)) * np.array([5.0, 1.0, 0.2, 0.2])
    whitening = fit_wccn(x, speakers).whitening
    assert whitening @ within_speaker_covariance(x, speakers) @ whitening == pytest.approx(np.eye(4), abs=1e-9)


def planted_identity(identity: float, *, seed: int = 0) -> np.ndarray:
    """16-dim embeddings of SPEAKERS: identity in a 3-dim subspace of small variance (a speaker's mean, of
    deviation `identity`), under one nuisance direction of deviation 10 (loudness, say) that cosine
    scoring cannot look past, plus isotropic noise of 0.1. Standardising each dimension does not help:
    the nuisance spreads over all of them."""
    rng = np.random.default_rng(seed)
    owner = np.unique(SPEAKERS, return_inverse=True)[1]
    basis = np.linalg.qr(rng.normal(size=(16, 16)))[0]
    nuisance, subspace = basis[:, 0], basis[:, 1:4]
    means = rng.normal(scale=identity, size=(8, 3))
    return (
        rng.normal(scale=10.0, size=(len(SPEAKERS), 1)) * nuisance
        + means[owner] @ subspace.T
        + rng.normal(scale=0.1, size=(len(SPEAKERS), 16))
    )


def test_identity_in_a_low_variance_direction_fails_informed_verification_and_passes_cosine_alone():
    planted = {"planted": planted_identity(1.0)}
    informed = speaker_verification(planted, SPEAKERS, n_resamples=50)
    cosine = speaker_verification(planted, SPEAKERS, attackers=("cosine",), n_resamples=50)
    for metric, value in (("eer", cosine.eer), ("cllr_min", cosine.cllr_min)):
        assert verdict(f"privacy.speaker_verification_{metric}", value) == "PASS", (metric, value)
    assert cosine.eer > 0.35 and cosine.attacker == "cosine"
    assert informed.attacker in {"wccn", "plda"} and informed.worst_representation == "planted"
    assert informed.eer < 0.15 and informed.cllr_min < 0.4 and informed.cllr_min_attacker in {"wccn", "plda"}
    # validating on its own speakers, the informed attacker deploys a trained back-end in both halves
    assert set(informed.informed_backends["planted"]) <= {"wccn", "plda"}
    assert informed.eer_by_attacker["informed"]["planted"] < 0.15
    assert verdict("privacy.speaker_verification_eer", informed.eer) == "FAIL"
    assert verdict("privacy.speaker_verification_cllr_min", informed.cllr_min) == "FAIL"
    assert informed.eer_by_attacker["cosine"]["planted"] == cosine.eer  # the same cosine attacker among them
    assert informed.ci[0] <= informed.eer <= informed.ci[1]
    # the trials are the pairs within each half of the speakers: every target pair, 2 x C(4, 2) x 40 x 40
    # non-target pairs, the same for every attacker; an informed one's back-ends learned from the other half
    assert (informed.n_target_trials, informed.n_nontarget_trials) == (8 * 40 * 39 // 2, 12 * 40 * 40)
    assert (cosine.n_target_trials, cosine.n_nontarget_trials) == (informed.n_target_trials, 12 * 40 * 40)
    assert sorted(sum(informed.speaker_halves, ())) == sorted(set(SPEAKERS)) and len(informed.speaker_halves) == 2


def test_no_identity_passes_every_attacker():
    result = speaker_verification({"clean": planted_identity(0.0)}, SPEAKERS, n_resamples=50)
    assert all(e["clean"] > 0.4 for e in result.eer_by_attacker.values()), result.eer_by_attacker
    # nothing to learn: validation keeps the informed attacker on cosine, which back-ends fitted to noise can trail
    assert result.informed_backends["clean"] == ("cosine", "cosine")
    assert result.eer_by_attacker["informed"]["clean"] == result.eer_by_attacker["cosine"]["clean"]
    assert verdict("privacy.speaker_verification_eer", result.eer) == "PASS"
    assert verdict("privacy.speaker_verification_cllr_min", result.cllr_min) == "PASS"


def test_too_few_speakers_for_an_informed_attacker_run_cosine_only_and_say_so():
    three = SPEAKERS[SPEAKERS < "s3"]
    result = speaker_verification({"x": planted_identity(1.0)[: len(three)]}, three, n_resamples=20)
    assert list(result.eer_by_attacker) == ["cosine"] and "need 4" in result.informed and result.speaker_halves == ()
    assert result.n_nontarget_trials == 3 * 40 * 40  # all pairs
    assert select_backend(planted_identity(1.0)[: len(three)], three, seed=0) == "cosine"  # nothing to validate on
    with pytest.raises(ValueError, match="informed attackers need 4"):
        speaker_verification({"x": np.zeros((len(three), 2))}, three, attackers=("wccn",))
    with pytest.raises(ValueError, match="attackers must name"):
        speaker_verification({"x": np.zeros((len(three), 2))}, three, attackers=("lda",))


@pytest.mark.filterwarnings("error")
def test_degenerate_representations_give_finite_numbers_without_warnings():
    four = SPEAKERS[SPEAKERS < "s4"][::5]  # 4 speakers of 8 utterances
    rng = np.random.default_rng(3)
    cases = {
        "constant": np.zeros((32, 5)),
        "one dimension": rng.normal(size=(32, 1)),
        "wider than the utterances": rng.normal(size=(32, 300)),
        "each speaker one point": np.repeat(rng.normal(size=(4, 3)), 8, axis=0),  # no within-speaker variance
    }
    result = speaker_verification(cases, four, n_resamples=20)
    for attacker, eers in result.eer_by_attacker.items():
        for name, eer in eers.items():
            assert 0 <= eer <= 1 and 0 <= result.cllr_min_by_attacker[attacker][name] <= 1, (attacker, name)
    assert result.eer_by_attacker["cosine"]["constant"] == 0.5 and result.eer == 0.0
