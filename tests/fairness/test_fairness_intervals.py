"""Speaker-bootstrap intervals and the vectorised fairness summary the bootstrap uses."""

import numpy as np
import pytest
from hypothesis import given, settings

from tests.fairness.test_fairness_metrics import audits
from trustser.pillars.fairness import evaluate_fairness, group_fairness
from trustser.pillars.fairness.metrics import group_confusion, summary_from_counts
from trustser.pillars.speaker_bootstrap import percentile_interval, speaker_resamples


@settings(max_examples=50, deadline=None)
@given(audits())
def test_summary_from_counts_matches_metricframe(audit):
    y_true, y_pred, groups, num_classes = audit
    result = evaluate_fairness(y_true, y_pred, groups=groups, num_classes=num_classes)
    labels, index = np.unique(groups, return_inverse=True)
    summary = summary_from_counts(group_confusion(y_true, y_pred, index, n_groups=len(labels), num_classes=num_classes))
    assert summary["statistical_parity"] == pytest.approx(result.statistical_parity)
    assert summary["equality_of_opportunity"] == pytest.approx(result.equality_of_opportunity)
    assert summary["uar_difference"] == pytest.approx(result.uar_difference)
    assert summary["uar_ratio"] == pytest.approx(result.uar_ratio, nan_ok=True)
    assert summary["worst_group_uar"] == pytest.approx(min(result.uar_by_group.values()))


def test_speaker_resamples_keep_strata_and_whole_speakers():
    speakers = np.repeat(["a", "b", "c", "d", "e"], [3, 4, 5, 6, 7])
    strata = np.repeat(["f", "f", "m", "m", "m"], [3, 4, 5, 6, 7])
    for resample in speaker_resamples(speakers, strata, n_resamples=30, seed=1):
        drawn = [speakers[resample.rows[resample.draw == d]] for d in np.unique(resample.draw)]
        assert all(len(set(s)) == 1 and len(s) == np.sum(speakers == s[0]) for s in drawn)  # whole speakers
        assert [strata[resample.rows[resample.draw == d]][0] for d in range(len(drawn))].count("f") == 2


def test_percentile_interval_ignores_nan():
    assert percentile_interval(np.r_[np.arange(101.0), np.nan]) == pytest.approx((2.5, 97.5))
    assert np.isnan(percentile_interval(np.array([np.nan]))[0])


def _corpus(seed: int, bias: float):
    rng = np.random.default_rng(seed)
    speakers = np.repeat(np.arange(10), 80)
    gender = np.where(speakers % 2 == 0, "female", "male")
    y_true = rng.integers(0, 4, len(speakers))
    correct = rng.random(len(speakers)) < np.where(gender == "female", 0.8 - bias, 0.8)
    y_pred = np.where(correct, y_true, rng.integers(0, 4, len(speakers)))
    return y_true, y_pred, gender, speakers


def _gender_fairness(y_true, y_pred, gender, speakers):
    return group_fairness(y_true, y_pred, groups=gender, speakers=speakers, num_classes=4, attribute="gender")


def test_intervals_contain_the_point_and_separate_a_planted_gap():
    fair, biased = (_gender_fairness(*_corpus(0, bias)) for bias in (0.0, 0.5))
    for result in (fair, biased):
        low, high = result.ci["uar_difference"]
        assert low <= result.point.uar_difference <= high
        assert result.min_speakers_per_group == 5 and result.n_speakers == 10
    assert biased.ci["uar_difference"][0] > fair.ci["uar_difference"][1]
    assert biased.worst_group == "female"


def test_speaker_groups_resample_utterances_within_speakers():
    y_true, y_pred, _, speakers = _corpus(0, 0.0)
    result = group_fairness(
        y_true, y_pred, groups=speakers, speakers=speakers, num_classes=4, attribute="speaker", n_resamples=50
    )
    assert result.min_speakers_per_group == 1 and result.point.n_groups == 10
    low, high = result.ci["worst_group_uar"]
    assert low < high  # not degenerate, as a speaker resample of a worst group would be
    with pytest.raises(ValueError, match="more than one group"):
        group_fairness(
            y_true, y_pred, groups=np.arange(len(speakers)) % 2, speakers=speakers, num_classes=4, attribute="x"
        )
