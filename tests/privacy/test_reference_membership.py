"""LiRA-style membership inference with reference heads: the scoring on numpy arrays, and a head that
memorises a few outlier members, which the loss threshold misses at a low false-positive rate."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from trustser.features.frames import LayerFeatures
from trustser.gates.thresholds import load_gates
from trustser.models.head import HeadConfig
from trustser.models.training import TrainConfig, per_utterance_loss, predict_logits, train_head
from trustser.pillars import declared_metrics
from trustser.pillars.privacy import (
    lira_scores,
    logit_confidence,
    low_fpr_membership,
    member_split,
    reference_splits,
)
from trustser.pillars.privacy.membership import tpr_at_fpr

ROOT = Path(__file__).resolve().parents[2]
GATES = load_gates(ROOT / "thresholds.toml", declared_metrics())
GATE = "privacy.membership_tpr_at_1pct_fpr"


def verdict(value: float) -> str:
    return GATES.gate(GATE).judge(value, "unit").verdict


def test_logit_confidence_is_the_log_odds_of_the_true_class_and_stays_finite():
    logits = np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 0.0], [60.0, 0.0, 0.0]])
    labels = np.array([0, 2, 0])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    phi = logit_confidence(logits, labels)
    assert phi[:2] == pytest.approx(np.log(p[[0, 1], [0, 2]] / (1 - p[[0, 1], [0, 2]])))
    assert phi[2] == pytest.approx(60.0 - np.log(2.0))  # p = 1 - 2e-26: 1 - p would round to 0


def test_reference_heads_come_in_complementary_pairs_halving_each_speaker():
    speakers = np.repeat(np.arange(5), 11)
    splits = reference_splits(speakers, n_heads=4, seed=0)
    inside = np.stack([np.isin(np.arange(len(speakers)), rows) for rows in splits])
    assert (inside.sum(0) == 2).all()  # every candidate IN for two heads, OUT for two
    assert (inside[0] ^ inside[1]).all() and (inside[2] ^ inside[3]).all()
    assert not (inside[0] == inside[2]).all()  # the two pairs are different draws
    assert (np.bincount(speakers[splits[0]]) == 5).all()  # half of each speaker's 11 (rounded down)
    assert not np.array_equal(splits[0], member_split(speakers, seed=0)[0])  # not the target's own draw
    for n_heads in (2, 5):
        with pytest.raises(ValueError, match="complementary pairs"):
            reference_splits(speakers, n_heads=n_heads)


def test_tpr_is_read_at_the_fpr_the_non_members_resolve():
    member = np.r_[np.ones(10, bool), np.zeros(200, bool)]
    score = np.r_[np.arange(10) + 197.5, np.arange(200.0)]  # members 197.5 ... 206.5; non-members 0 ... 199
    # 1% of 200 non-members = two false alarms: the threshold may sit just above 197, flagging 198 and 199
    assert tpr_at_fpr(score, member, 0.01) == 1.0
    assert tpr_at_fpr(score, member, 0.0) == 0.8  # above 199: the members from 199.5 up
    result = low_fpr_membership({"loss": score}, member, np.arange(210) % 5, n_reference_heads=4)
    assert result.fpr == 0.01 and result.tpr_at_1pct_fpr == 1.0 and np.isnan(result.tpr_at_0_1pct_fpr)
    assert result.smallest_fpr == 1 / 200 and "200 non-members" in result.resolution and "1,000" in result.resolution
    few = low_fpr_membership({"loss": score[:90]}, member[:90], np.arange(90) % 5, n_reference_heads=4)
    assert few.fpr == 1 / 80 and "read at 1.25%" in few.resolution


def planted_confidences(memorised: float, *, seed: int = 0):
    """φ of 400 candidates under a target head (every other candidate a member) and under four
    reference heads in complementary pairs. Each candidate has its own difficulty (deviation 3, larger
    than any membership effect); training on a candidate raises its φ by `memorised` for one in five of
    them (outliers, learned by heart) and by nothing for the others."""
    rng = np.random.default_rng(seed)
    n = 400
    difficulty = rng.normal(scale=3.0, size=n)
    lift = np.where(rng.random(n) < 0.2, memorised, 0.0)
    member = np.arange(n) % 2 == 0
    first, second = rng.random(n) < 0.5, rng.random(n) < 0.5
    inside = np.stack([first, ~first, second, ~second])
    reference = difficulty + lift * inside + rng.normal(scale=0.3, size=(4, n))
    target = difficulty + lift * member + rng.normal(scale=0.3, size=n)
    return target, reference, inside, member


def _low_fpr(target, reference, inside, member):
    # the loss attack's score: cross-entropy = log(1 + e^−φ) is decreasing in φ, so φ itself ranks the same
    scores = {"loss": target, "lira": lira_scores(target, reference, inside)}
    return low_fpr_membership(scores, member, np.arange(len(member)) % 8, n_reference_heads=4)


def test_lira_calibrates_each_candidates_difficulty_where_the_loss_threshold_cannot():
    planted = _low_fpr(*planted_confidences(4.0))
    loss, lira = planted.by_attack["loss"], planted.by_attack["lira"]
    assert planted.attack == "lira" and lira["tpr_at_1pct_fpr"] > 3 * loss["tpr_at_1pct_fpr"]
    assert verdict(planted.tpr_at_1pct_fpr) == "FAIL" and verdict(loss["tpr_at_1pct_fpr"]) == "PASS"
    assert planted.ci[0] <= planted.tpr_at_1pct_fpr <= planted.ci[1]
    control = _low_fpr(*planted_confidences(0.0))
    assert verdict(control.tpr_at_1pct_fpr) == "PASS", control.by_attack
    assert control.by_attack["lira"]["auc"] == pytest.approx(0.5, abs=0.07)


N_POOL, N_DEV = 200, 20
HEAD = HeadConfig(conv_dim=32, mlp_dim=32, dropout=0.0)
MEMORISE = TrainConfig(learning_rate=0.03, weight_decay=0.0, max_epochs=30, patience=30, batch_size=100)


def _memorising_world(outliers: float):
    """8-dim one-frame utterances whose emotion is the strongest of 4 dimensions (easy), except `outliers`
    of them: another label, and a loud random fingerprint in the other 4 dimensions to learn them by.
    The last `N_DEV` utterances are the dev speakers', outside the candidates."""
    rng = np.random.default_rng(3)
    n = N_POOL + N_DEV
    rule = rng.integers(0, 4, n)
    x = 3.0 * np.eye(4, 8)[rule] + rng.normal(size=(n, 8))
    outlier = np.zeros(n, bool)
    outlier[rng.choice(N_POOL, int(outliers * N_POOL), replace=False)] = True
    labels = np.where(outlier, (rule + rng.integers(1, 4, n)) % 4, rule)
    x[outlier, 4:] += 6.0 * rng.normal(size=(int(outlier.sum()), 4))
    features = LayerFeatures(
        [f"u{i}" for i in range(n)], torch.tensor(x, dtype=torch.float32)[:, None, :], torch.arange(n + 1)
    )
    return features, labels


def _head_attack(outliers: float):
    features, labels = _memorising_world(outliers)
    speakers = np.repeat(np.arange(4), N_POOL // 4)
    members, _ = member_split(speakers)
    pool, dev = np.arange(N_POOL), np.arange(N_POOL, N_POOL + N_DEV)

    def train(rows: np.ndarray, seed: int):
        recipe = dataclasses.replace(MEMORISE, seed=seed)
        return train_head(features, labels, rows, dev, num_classes=4, head_config=HEAD, train_config=recipe)

    def confidence(head) -> np.ndarray:
        return logit_confidence(predict_logits(head, features, pool).numpy(), labels[pool])

    target = train(members, 0)
    references = [(rows, train(rows, 1 + k)) for k, rows in enumerate(reference_splits(speakers, n_heads=4))]
    scores = {
        "loss": -per_utterance_loss(target, features, labels, pool).astype(np.float64),
        "lira": lira_scores(
            confidence(target),
            np.stack([confidence(head) for _, head in references]),
            np.stack([np.isin(pool, rows) for rows, _ in references]),
        ),
    }
    return low_fpr_membership(scores, np.isin(pool, members), speakers, n_reference_heads=4)


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_head_memorising_outlier_members_fails_with_reference_heads_and_not_with_the_loss_alone():
    planted = _head_attack(0.2)
    assert planted.attack == "lira" and planted.by_attack["loss"]["tpr_at_1pct_fpr"] < 0.05
    assert verdict(planted.tpr_at_1pct_fpr) == "FAIL", planted.by_attack
    assert verdict(planted.by_attack["loss"]["tpr_at_1pct_fpr"]) == "PASS"
    control = _head_attack(0.0)  # the same memorising recipe, nothing to learn by heart
    assert verdict(control.tpr_at_1pct_fpr) == "PASS", control.by_attack
