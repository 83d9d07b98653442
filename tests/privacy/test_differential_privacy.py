"""DP-SGD head: opacus's ε for the chosen settings, and less membership leakage than the plain head."""

import numpy as np
import pytest
import torch

from trustser.features.frames import LayerFeatures
from trustser.models.head import HeadConfig
from trustser.models.training import TrainConfig, per_utterance_loss, train_head
from trustser.pillars.privacy import member_split, membership_inference
from trustser.pillars.privacy.differential_privacy import DPConfig, train_dp_head

N = 120
SPEAKERS = np.repeat(np.arange(4), N // 4)
HEAD = HeadConfig(conv_dim=32, mlp_dim=32, dropout=0.0)
MEMORISE = TrainConfig(learning_rate=3e-3, weight_decay=0.0, max_epochs=120, patience=120)


def _features() -> LayerFeatures:
    frames = torch.randn(N * 4, 1, 6, generator=torch.Generator().manual_seed(0))
    return LayerFeatures([f"u{i}" for i in range(N)], frames, torch.arange(0, N * 4 + 1, 4))


def _advantage(head, features, labels, members, held_out) -> float:
    losses = [per_utterance_loss(head, features, labels, rows) for rows in (members, held_out)]
    return membership_inference(*losses, SPEAKERS[members], SPEAKERS[held_out]).advantage


def test_dp_head_reports_opacus_epsilon_and_leaks_less_than_the_plain_head():
    features = _features()
    labels = np.random.default_rng(0).integers(0, 4, N)  # random labels: only memorisation can fit them
    members, held_out = member_split(SPEAKERS)
    plain = train_head(features, labels, members, held_out[:10], num_classes=4, head_config=HEAD, train_config=MEMORISE)
    dp = DPConfig(target_epsilon=2.0, delta=0.0, max_grad_norm=1.0, epochs=MEMORISE.max_epochs)
    private, account = train_dp_head(
        features, labels, members, held_out[:10], num_classes=4, head_config=HEAD, train_config=MEMORISE, dp=dp
    )
    assert account.epsilon == pytest.approx(2.0, rel=0.05) and account.epsilon <= 2.0 + 1e-6
    assert account.delta == 1e-5 and account.noise_multiplier > 0.5 and account.steps > 0
    assert _advantage(private, features, labels, members, held_out) < _advantage(
        plain, features, labels, members, held_out
    )


def test_default_delta_is_one_over_n_capped():
    def dp(delta: float) -> DPConfig:
        return DPConfig(target_epsilon=8.0, delta=delta, max_grad_norm=1.0, epochs=20)

    assert dp(0.0).delta_for(1000) == 1e-5
    assert dp(0.0).delta_for(10) == 1e-5
    assert dp(1e-3).delta_for(10) == 1e-3
