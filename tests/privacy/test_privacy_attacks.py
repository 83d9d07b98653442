"""Privacy evaluators on planted representations: each flaw fails its shipped gate, the control passes."""

from pathlib import Path

import numpy as np
import pytest
import torch

from trustser.corpora.folds import Fold
from trustser.features.frames import LayerFeatures
from trustser.gates.thresholds import load_gates
from trustser.models.head import HeadConfig
from trustser.models.training import TrainConfig, per_utterance_loss, train_head
from trustser.pillars import declared_metrics
from trustser.pillars.privacy import (
    attribute_inference,
    equal_error_rate,
    member_split,
    membership_inference,
    speaker_identification,
    speaker_verification,
)

ROOT = Path(__file__).resolve().parents[2]
GATES = load_gates(ROOT / "thresholds.toml", declared_metrics())
SPEAKERS = np.repeat([f"s{i}" for i in range(8)], 40)
GENDER = np.where(np.arange(len(SPEAKERS)) // 40 % 2 == 0, "female", "male")
FOLDS = [Fold(i, (), (), (f"s{i}", f"s{i + 4}")) for i in range(4)]


def verdict(metric: str, value: float) -> str:
    return GATES.gate(metric).judge(value, "unit").verdict


def test_gender_appended_to_a_representation_fails_attribute_inference():
    rng = np.random.default_rng(0)
    clean = rng.normal(size=(len(SPEAKERS), 16))
    leaky = np.c_[clean, (GENDER == "female").astype(float)]
    control = attribute_inference({"clean": clean}, GENDER, SPEAKERS, FOLDS)
    planted = attribute_inference({"clean": clean, "leaky": leaky}, GENDER, SPEAKERS, FOLDS)
    assert verdict("privacy.gender_inference_uar", control.uar) == "PASS"
    assert planted.worst_representation == "leaky" and planted.uar == 1.0
    assert verdict("privacy.gender_inference_uar", planted.uar) == "FAIL"
    assert planted.ci[0] <= planted.uar <= planted.ci[1] and control.chance == 0.5


def test_per_fold_representations_use_each_folds_rows():
    rng = np.random.default_rng(1)
    per_fold = np.stack([rng.normal(size=(len(SPEAKERS), 4)) for _ in FOLDS])
    per_fold[2, :, 0] = GENDER == "male"  # only fold 2's head leaks
    result = attribute_inference({"head": per_fold}, GENDER, SPEAKERS, FOLDS)
    assert 0.55 < result.uar < 0.8  # a quarter of the test utterances are perfectly attacked


def test_speaker_one_hot_fails_identification_and_verification():
    rng = np.random.default_rng(0)
    owner = np.unique(SPEAKERS, return_inverse=True)[1]
    one_hot = np.eye(8)[owner] + 0.01 * rng.normal(size=(len(SPEAKERS), 8))
    noise = rng.normal(size=(len(SPEAKERS), 8))
    identified = speaker_identification({"one_hot": one_hot, "noise": noise}, SPEAKERS)
    verified = speaker_verification({"one_hot": one_hot, "noise": noise}, SPEAKERS, n_resamples=50)
    assert identified.accuracy == 1.0 and identified.accuracy_by_representation["noise"] < 0.3
    assert verdict("privacy.speaker_id_accuracy", identified.accuracy) == "FAIL"
    assert verified.eer == 0.0 and verified.eer_by_representation["noise"] == pytest.approx(0.5, abs=0.03)
    assert verdict("privacy.speaker_verification_eer", verified.eer) == "FAIL"
    control_id = speaker_identification({"noise": noise}, SPEAKERS)
    control_eer = speaker_verification({"noise": noise}, SPEAKERS, n_resamples=50)
    assert verdict("privacy.speaker_id_accuracy", control_id.accuracy) == "PASS"
    assert verdict("privacy.speaker_verification_eer", control_eer.eer) == "PASS"
    assert control_eer.ci[0] <= control_eer.eer <= control_eer.ci[1]


def test_equal_error_rate_by_hand():
    # targets score 0.9, 0.4; non-targets 0.6, 0.1. Threshold between 0.6 and 0.4: FAR 1/2, FRR 1/2.
    assert equal_error_rate(np.array([0.9, 0.4, 0.6, 0.1]), np.array([1, 1, 0, 0], bool)) == pytest.approx(0.5)
    assert equal_error_rate(np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 1, 0, 0], bool)) == 0.0
    # weights = repeating trials
    scores, target = np.array([0.9, 0.4, 0.6, 0.1]), np.array([1, 1, 0, 0], bool)
    assert equal_error_rate(scores, target, np.array([2, 2, 1, 1])) == equal_error_rate(
        np.repeat(scores, [2, 2, 1, 1]), np.repeat(target, [2, 2, 1, 1])
    )


def _features(n: int, seed: int) -> LayerFeatures:
    generator = torch.Generator().manual_seed(seed)
    frames = torch.randn(n * 5, 1, 6, generator=generator)
    return LayerFeatures([f"u{i}" for i in range(n)], frames, torch.arange(0, n * 5 + 1, 5))


def _attack(features, labels, speakers, head_config, train_config) -> float:
    members, held_out = member_split(speakers)
    dev = np.arange(len(labels) - 20, len(labels))
    head = train_head(features, labels, members, dev, num_classes=4, head_config=head_config, train_config=train_config)
    losses = [per_utterance_loss(head, features, labels, rows) for rows in (members, held_out)]
    return membership_inference(*losses, speakers[members], speakers[held_out]).advantage


def test_memorising_head_fails_membership_and_leaks_more_than_the_release_recipe():
    n = 120
    speakers = np.repeat(np.arange(4), n // 4)
    features = _features(n, 0)
    random_labels = np.random.default_rng(0).integers(0, 4, n)
    memorise = _attack(
        features,
        random_labels,
        speakers,
        HeadConfig(conv_dim=32, mlp_dim=32, dropout=0.0),
        TrainConfig(learning_rate=3e-3, weight_decay=0.0, max_epochs=120, patience=120),
    )
    assert verdict("privacy.membership_advantage", memorise) == "FAIL"
    learnable = (features.pooled()[:, 0, :2].numpy() > 0) @ np.array([1, 2])  # labels a function of the input
    released = _attack(features, learnable, speakers, HeadConfig(), TrainConfig())
    assert released < memorise  # the gate's clean control is the planted audit on `tones` (PASS)


def test_verification_trials_are_every_pair_up_to_the_cap_then_a_seeded_uniform_sample():
    from trustser.pillars.privacy.speakers import MAX_TRIALS, trial_pairs

    first, second = trial_pairs(640, seed=0)  # the default corpus: every pair once
    assert len(first) == 640 * 639 // 2 <= MAX_TRIALS and (first < second).all()
    first, second = trial_pairs(5120, seed=0)  # 13 M pairs: a sample, not an n x n matrix
    assert len(first) == MAX_TRIALS and (first < second).all() and second.max() < 5120
    again = trial_pairs(5120, seed=0)
    assert (again[0] == first).all() and (again[1] == second).all()
    counts = np.bincount(np.r_[first, second], minlength=5120)  # uniform: Poisson spread, no favoured utterances
    assert counts.min() > 0 and counts.std() < 1.2 * np.sqrt(counts.mean())
    assert abs(counts[:2560].mean() - counts[2560:].mean()) < 0.02 * counts.mean()
