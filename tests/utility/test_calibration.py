"""Calibration: top-label ECE over equal-mass bins, the multi-class Brier score, their per-gender gaps and
their speaker-bootstrap intervals (trustser.pillars.utility.calibration)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import brier_score_loss

from trustser.pillars.utility.calibration import (
    brier_scores,
    evaluate_calibration,
    expected_calibration_error,
    group_calibration,
    reliability_bins,
    top_label,
)


def _reference_ece(confidence: np.ndarray, correct: np.ndarray, bins: int) -> float:
    """The definition, spelt out with np.array_split over the stably sorted utterances."""
    order = np.argsort(confidence, kind="stable")
    chunks = [c for c in np.array_split(order, min(bins, len(order))) if len(c)]
    return sum(len(c) * abs(correct[c].mean() - confidence[c].mean()) for c in chunks) / len(order)


def test_ece_by_hand():
    confidence, correct = np.array([0.9, 0.6, 0.8, 0.7]), np.array([1.0, 0.0, 1.0, 1.0])
    # sorted: (0.6, wrong), (0.7, right) | (0.8, right), (0.9, right): gaps |0.5 - 0.65| and |1 - 0.85|
    assert expected_calibration_error(confidence, correct, bins=2) == pytest.approx(0.15)
    assert expected_calibration_error(confidence, correct, bins=1) == pytest.approx(0.0)  # 0.75 vs 0.75
    assert expected_calibration_error(confidence, correct, bins=10) == pytest.approx(
        np.abs(correct - confidence).mean()
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 80), st.integers(1, 20), st.integers(0, 2**32 - 1))
def test_equal_mass_bins_match_the_definition(n, bins, seed):
    rng = np.random.default_rng(seed)
    confidence = np.round(rng.uniform(0.25, 1.0, n), 2)  # rounded: ties, which keep their row order
    correct = (rng.random(n) < 0.7).astype(float)
    diagram = reliability_bins(confidence, correct, bins=bins)
    assert sum(diagram.count) == n and max(diagram.count) - min(diagram.count) <= 1
    assert list(diagram.confidence) == sorted(diagram.confidence)
    assert expected_calibration_error(confidence, correct, bins=bins) == pytest.approx(
        _reference_ece(confidence, correct, bins)
    )


def test_brier_matches_sklearn_multiclass():
    rng = np.random.default_rng(0)
    posteriors = rng.dirichlet(np.ones(4), 200)
    y_true = rng.integers(0, 4, 200)
    assert brier_scores(posteriors, y_true).mean() == pytest.approx(
        brier_score_loss(y_true, posteriors, labels=[0, 1, 2, 3])
    )


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(1, keepdims=True))
    return exp / exp.sum(1, keepdims=True)


def _calibrated_world(n: int = 2000, seed: int = 0):
    """Labels drawn from the model's own posteriors: calibrated by construction."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.5, (n, 4))
    posteriors = _softmax(logits)
    y_true = np.array([rng.choice(4, p=p) for p in posteriors])
    speakers = np.repeat(np.arange(20), n // 20)
    return logits, y_true, speakers


def test_a_calibrated_model_scores_near_zero_and_logits_times_ten_do_not():
    logits, y_true, speakers = _calibrated_world()
    y_pred = logits.argmax(1)
    calibrated = evaluate_calibration(_softmax(logits), y_true, y_pred, speakers=speakers, n_resamples=50)
    overconfident = evaluate_calibration(_softmax(10 * logits), y_true, y_pred, speakers=speakers, n_resamples=50)
    assert _softmax(10 * logits).argmax(1).tolist() == y_pred.tolist()  # the same predictions...
    assert calibrated.accuracy == overconfident.accuracy
    assert calibrated.ece < 0.05 < 0.2 < overconfident.ece  # ...but no longer as often right as they claim
    assert overconfident.mean_confidence > overconfident.accuracy + 0.2
    assert calibrated.brier < overconfident.brier
    for result in (calibrated, overconfident):
        for name in ("ece", "brier"):
            low, high = result.ci[name]
            assert low <= getattr(result, name) <= high
    assert overconfident.ci["ece"][0] > calibrated.ci["ece"][1]


def test_per_gender_gaps_find_a_model_overconfident_for_one_gender_only():
    logits, y_true, speakers = _calibrated_world()
    gender = np.where(speakers % 2 == 0, "female", "male")
    y_pred = logits.argmax(1)
    fair = group_calibration(
        _softmax(logits), y_true, y_pred, groups=gender, speakers=speakers, attribute="gender", n_resamples=50
    )
    scaled = np.where((gender == "female")[:, None], 10 * logits, logits)
    unfair = group_calibration(
        _softmax(scaled), y_true, y_pred, groups=gender, speakers=speakers, attribute="gender", n_resamples=50
    )
    assert fair.ece_difference < 0.05 and unfair.ece_difference > 0.2
    assert unfair.overconfidence_by_group["female"] > 0.2 > abs(unfair.overconfidence_by_group["male"])
    assert unfair.ece_by_group["male"] == pytest.approx(fair.ece_by_group["male"])  # men's posteriors unchanged
    assert unfair.ci["ece_difference"][0] > fair.ci["ece_difference"][1]
    assert (unfair.min_speakers_per_group, unfair.n_speakers, unfair.n) == (10, 20, 2000)


def test_top_label_is_the_posterior_of_the_predicted_emotion():
    posteriors = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    confidence, correct = top_label(posteriors, np.array([1, 2]), np.array([0, 2]))
    assert confidence.tolist() == [0.5, 0.8] and correct.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "posteriors, y_true, message",
    [
        (
            np.array([[0.5, 0.6], [0.5, 0.5]]),
            np.array([0, 1]),
            r"posteriors of rows \[0\] are not finite probabilities",
        ),
        (np.array([[np.nan, 1.0], [0.5, 0.5]]), np.array([0, 1]), r"rows \[0\]"),
        (np.array([0.5, 0.5]), np.array([0]), r"posteriors must be \[utterances, emotions\]"),
        (np.array([[0.5, 0.5], [0.5, 0.5]]), np.array([0, 2]), r"y_true holds emotions outside 0..1"),
    ],
)
def test_bad_posteriors_are_refused_naming_what_is_wrong(posteriors, y_true, message):
    with pytest.raises(ValueError, match=message):
        evaluate_calibration(posteriors, y_true, np.zeros(len(y_true), int), speakers=np.arange(len(y_true)))
