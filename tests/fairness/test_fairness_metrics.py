"""Fairness metrics: hand-worked cases, holisticai's published examples, invariants, fairlearn agreement."""

import warnings

import numpy as np
import pytest
from fairlearn.metrics import demographic_parity_difference, equal_opportunity_difference, equalized_odds_difference
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import balanced_accuracy_score

from trustser.pillars.fairness import FairnessResult, equality_of_opportunity, evaluate_fairness, statistical_parity

SETTINGS = settings(max_examples=50, deadline=None)

# holisticai's docstring example (bias/metrics/_multiclass.py), three groups and three classes.
HOLISTIC_GROUPS = np.array(list("AAAABBBBCC"))
HOLISTIC_PRED = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
HOLISTIC_TRUE = np.array([0, 1, 1, 0, 1, 0, 2, 1, 2, 1])


def test_statistical_parity_by_hand():
    # a: ŷ = 0,0,1,1 -> s_a = (1/2, 1/2, 0)     b: ŷ = 0,1,2,2 -> s_b = (1/4, 1/4, 1/2)
    # c: ŷ = 0,0,0,0 -> s_c = (1, 0, 0)
    # d(a,b) = ½(1/4 + 1/4 + 1/2) = 1/2;  d(a,c) = ½(1/2 + 1/2 + 0) = 1/2;  d(b,c) = ½(3/4 + 1/4 + 1/2) = 3/4
    groups = np.array(list("aaaabbbbcccc"))
    y_pred = np.array([0, 0, 1, 1, 0, 1, 2, 2, 0, 0, 0, 0])
    assert statistical_parity(y_pred, groups=groups, num_classes=3) == pytest.approx(0.75)
    assert statistical_parity(y_pred[:8], groups=groups[:8], num_classes=3) == pytest.approx(0.5)
    # A fourth class nobody predicts adds |0 − 0| to every pair.
    assert statistical_parity(y_pred, groups=groups, num_classes=4) == pytest.approx(0.75)


def test_equality_of_opportunity_by_hand():
    # Columns = true class, rows = prediction, C = 2.
    # a: y=0 -> ŷ 0,0 ; y=1 -> ŷ 1,0        M_a = [[1, 1/2], [0, 1/2]]
    # b: y=0 -> ŷ 0,1 ; y=1 -> ŷ 1,1        M_b = [[1/2, 0], [1/2, 1]]
    # Σ|M_a − M_b| = 1/2 + 1/2 + 1/2 + 1/2 = 2 ; / (2C) = 2/4 = 1/2
    groups = np.array(list("aaaabbbb"))
    y_true = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    y_pred = np.array([0, 0, 1, 0, 0, 1, 1, 1])
    assert equality_of_opportunity(y_true, y_pred, groups=groups, num_classes=2) == pytest.approx(0.5)
    # With C = 3 (class 2 absent everywhere): column 2 is uniform in both groups (holisticai's
    # smoothing), so the sum is unchanged, but it is divided by 2C = 6: 2/6 = 1/3.
    assert equality_of_opportunity(y_true, y_pred, groups=groups, num_classes=3) == pytest.approx(1 / 3)


def test_holisticai_published_examples():
    # holisticai documents multiclass_statistical_parity(..., aggregation_fun="max") = 0.5 and
    # multiclass_equality_of_opp(...) (mean over pairs) = 0.7962962962962963 for this example.
    assert statistical_parity(HOLISTIC_PRED, groups=HOLISTIC_GROUPS, num_classes=3) == pytest.approx(0.5)
    # Pairwise by hand (group C has no true class 0, so its column 0 is uniform 1/3):
    # d(A,B) = (2 + 1 + 4/3) / 6 = 13/18,  d(A,C) = (4/3 + 2 + 4/3) / 6 = 7/9,  d(B,C) = (4/3 + 2 + 2) / 6 = 8/9
    pairs = {}
    for pair in ("AB", "AC", "BC"):
        keep = np.isin(HOLISTIC_GROUPS, list(pair))
        pairs[pair] = equality_of_opportunity(
            HOLISTIC_TRUE[keep], HOLISTIC_PRED[keep], groups=HOLISTIC_GROUPS[keep], num_classes=3
        )
    assert pairs == pytest.approx({"AB": 13 / 18, "AC": 7 / 9, "BC": 8 / 9})
    assert np.mean(list(pairs.values())) == pytest.approx(0.7962962962962963, abs=1e-12)
    assert equality_of_opportunity(
        HOLISTIC_TRUE, HOLISTIC_PRED, groups=HOLISTIC_GROUPS, num_classes=3
    ) == pytest.approx(8 / 9)


def test_per_group_uar_is_balanced_accuracy():
    # a: y = 0,0,1,1 ; ŷ = 0,2,1,1 -> recall(0) = 1/2, recall(1) = 1 -> UAR 3/4 (class 2 is only
    #    predicted, so balanced accuracy ignores it; macro recall over {0,1,2} would say 1/2)
    # b: y = 0,1,1,2 ; ŷ = 0,0,1,2 -> recalls 1, 1/2, 1 -> UAR 5/6
    groups = np.array(["f"] * 4 + ["m"] * 4)
    y_true = np.array([0, 0, 1, 1, 0, 1, 1, 2])
    y_pred = np.array([0, 2, 1, 1, 0, 0, 1, 2])
    result = evaluate_fairness(y_true, y_pred, groups=groups, num_classes=3)
    assert isinstance(result, FairnessResult)
    assert result.uar_by_group == pytest.approx({"f": 3 / 4, "m": 5 / 6})
    assert result.uar_difference == pytest.approx(5 / 6 - 3 / 4)
    assert result.uar_ratio == pytest.approx((3 / 4) / (5 / 6))
    assert (result.n, result.n_groups, result.min_group_size) == (8, 2, 4)


def test_rejects_one_group_and_out_of_range_labels():
    with pytest.raises(ValueError, match="two groups"):
        statistical_parity(np.array([0, 1]), groups=np.array(["f", "f"]), num_classes=2)
    with pytest.raises(ValueError, match="outside"):
        statistical_parity(np.array([0, 3]), groups=np.array(["f", "m"]), num_classes=3)
    with pytest.raises(ValueError, match="shape"):
        equality_of_opportunity(np.array([0, 1, 1]), np.array([0, 1]), groups=np.array(["f", "m"]), num_classes=2)


@st.composite
def audits(draw, max_classes=4, max_groups=3, max_n=60):
    """(y_true, y_pred, groups, num_classes) with at least two groups."""
    num_classes = draw(st.integers(2, max_classes))
    n_groups = draw(st.integers(2, max_groups))
    n = draw(st.integers(n_groups, max_n))
    groups = np.array(
        list(range(n_groups))
        + draw(st.lists(st.integers(0, n_groups - 1), min_size=n - n_groups, max_size=n - n_groups))
    )
    labels = st.lists(st.integers(0, num_classes - 1), min_size=n, max_size=n)
    return np.array(draw(labels)), np.array(draw(labels)), groups, num_classes


def _summary(result: FairnessResult) -> tuple:
    return (
        result.statistical_parity,
        result.equality_of_opportunity,
        *sorted(result.uar_by_group.values()),
        result.uar_difference,
        result.uar_ratio,
        result.n,
        result.n_groups,
        result.min_group_size,
    )


@SETTINGS
@given(audits(), st.data())
def test_relabelling_groups_changes_nothing(audit, data):
    y_true, y_pred, groups, num_classes = audit
    names = data.draw(st.permutations(["female", "male", "x", "other"]))
    renamed = np.array([names[g] for g in groups])
    before, after = (evaluate_fairness(y_true, y_pred, groups=g, num_classes=num_classes) for g in (groups, renamed))
    assert _summary(after) == pytest.approx(_summary(before), nan_ok=True)  # ratio is 0/0 if every UAR is 0


@SETTINGS
@given(audits(), st.data())
def test_permuting_rows_changes_nothing(audit, data):
    y_true, y_pred, groups, num_classes = audit
    order = np.array(data.draw(st.permutations(range(len(groups)))))
    before = evaluate_fairness(y_true, y_pred, groups=groups, num_classes=num_classes)
    after = evaluate_fairness(y_true[order], y_pred[order], groups=groups[order], num_classes=num_classes)
    assert after.uar_by_group == pytest.approx(before.uar_by_group)
    assert _summary(after) == pytest.approx(_summary(before), nan_ok=True)  # ratio is 0/0 if every UAR is 0


@SETTINGS
@given(audits())
def test_metrics_are_bounded_and_uar_matches_sklearn(audit):
    y_true, y_pred, groups, num_classes = audit
    result = evaluate_fairness(y_true, y_pred, groups=groups, num_classes=num_classes)
    assert 0 <= result.statistical_parity <= 1 + 1e-12
    assert 0 <= result.equality_of_opportunity <= 1 + 1e-12
    for group in np.unique(groups):
        keep = groups == group
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true"
            expected = balanced_accuracy_score(y_true[keep], y_pred[keep])
        assert result.uar_by_group[str(group)] == pytest.approx(expected)


@SETTINGS
@given(audits(max_groups=2))
def test_a_group_that_copies_another_is_perfectly_fair(audit):
    y_true, y_pred, _, num_classes = audit
    groups = np.array(["f"] * len(y_true) + ["m"] * len(y_true))
    result = evaluate_fairness(np.tile(y_true, 2), np.tile(y_pred, 2), groups=groups, num_classes=num_classes)
    assert result.statistical_parity == pytest.approx(0, abs=1e-12)
    assert result.equality_of_opportunity == pytest.approx(0, abs=1e-12)
    assert result.uar_difference == pytest.approx(0, abs=1e-12)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 3), st.integers(2, 5))
def test_predictions_independent_of_group_give_small_disparity(seed, n_groups, num_classes):
    # 20 000 utterances: each pair's TV distance is a sum of C terms of order sqrt(p(1-p) 2/n_g) ≈ 0.01.
    rng = np.random.default_rng(seed)
    n = 20_000
    groups = rng.integers(0, n_groups, n)
    y_true = rng.integers(0, num_classes, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, num_classes, n))  # depends on y only
    assert statistical_parity(y_pred, groups=groups, num_classes=num_classes) < 0.05
    assert equality_of_opportunity(y_true, y_pred, groups=groups, num_classes=num_classes) < 0.05


@st.composite
def binary_audits(draw, max_groups=3):
    """Binary labels where every group has both true classes, so every group's TPR is defined."""
    n_groups = draw(st.integers(2, max_groups))
    groups, y_true = [], []
    for g in range(n_groups):
        size = draw(st.integers(2, 15))
        groups += [g] * size
        y_true += [0, 1] + draw(st.lists(st.integers(0, 1), min_size=size - 2, max_size=size - 2))
    y_pred = draw(st.lists(st.integers(0, 1), min_size=len(groups), max_size=len(groups)))
    return np.array(y_true), np.array(y_pred), np.array(groups)


@SETTINGS
@given(binary_audits())
def test_binary_statistical_parity_is_fairlearn_demographic_parity(audit):
    # With C = 2, ½(|Δs[0]| + |Δs[1]|) = |Δ selection rate|, and the max over pairs is max − min.
    y_true, y_pred, groups = audit
    expected = demographic_parity_difference(y_true, y_pred, sensitive_features=groups)
    assert statistical_parity(y_pred, groups=groups, num_classes=2) == pytest.approx(expected, abs=1e-12)


@SETTINGS
@given(binary_audits(max_groups=2))
def test_binary_equality_of_opportunity_is_mean_of_one_vs_rest_fairlearn(audit):
    # With C = 2 each column of ΔM is (δ, −δ), so Σ|ΔM| / 4 = (|ΔTPR(class 1)| + |ΔTPR(class 0)|) / 2:
    # the mean over classes of fairlearn's equal_opportunity_difference one-vs-rest, which for two
    # groups is also equalized_odds_difference(agg="mean") (TPR(class 0) = 1 − FPR(class 1)).
    # It is not equal_opportunity_difference for class 1 alone.
    y_true, y_pred, groups = audit
    per_class = [
        equal_opportunity_difference((y_true == c).astype(int), (y_pred == c).astype(int), sensitive_features=groups)
        for c in (0, 1)
    ]
    ours = equality_of_opportunity(y_true, y_pred, groups=groups, num_classes=2)
    assert ours == pytest.approx(np.mean(per_class), abs=1e-12)
    assert ours == pytest.approx(
        equalized_odds_difference(y_true, y_pred, sensitive_features=groups, agg="mean"), abs=1e-12
    )


@SETTINGS
@given(audits(max_groups=2, max_classes=5))
def test_multiclass_bounds_one_vs_rest_fairlearn(audit):
    # Σ_c Δs[c] = 0, so any one class's |Δs[c]| ≤ ½ Σ_c |Δs[c]|: parity bounds every one-vs-rest
    # demographic parity difference. Each column of ΔM sums to 0, so Σ_i |ΔM[i, j]| ≥ 2 |ΔM[j, j]|:
    # equality of opportunity bounds the mean over classes of one-vs-rest equal opportunity.
    y_true, y_pred, groups, num_classes = audit
    parity = [
        demographic_parity_difference((y_true == c).astype(int), (y_pred == c).astype(int), sensitive_features=groups)
        for c in range(num_classes)
    ]
    assert statistical_parity(y_pred, groups=groups, num_classes=num_classes) >= max(parity) - 1e-12
    tpr_gaps = []
    for c in range(num_classes):
        present = [np.any((groups == g) & (y_true == c)) for g in np.unique(groups)]
        if all(present):  # fairlearn's TPR needs positives in every group; ours is 1/C-smoothed
            tpr_gaps.append(
                equal_opportunity_difference(
                    (y_true == c).astype(int), (y_pred == c).astype(int), sensitive_features=groups
                )
            )
        else:
            tpr_gaps.append(0.0)
    assert equality_of_opportunity(y_true, y_pred, groups=groups, num_classes=num_classes) >= np.mean(tpr_gaps) - 1e-12
