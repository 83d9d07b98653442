"""The [0, 1] mapping for torchattacks is exact, and a sign step of one ε lands exactly on the SNR budget."""

import numpy as np
import pytest
import torch
from torch import nn

from trustser.pillars.safety.snr import linf_budget, snr_db
from trustser.pillars.safety.unit_interval import UnitIntervalModel


class Energy(nn.Module):
    """A tiny differentiable 'classifier': two logits from the waveform's energy and mean."""

    def forward(self, waves, lengths):
        return torch.stack([waves.pow(2).sum(1), waves.sum(1)], dim=1)


def utterances(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, scale, size).astype(np.float32) for scale, size in ((0.3, 1600), (0.01, 900), (0.9, 2000))]


def test_round_trip_is_exact_and_inside_unit_interval():
    waves = utterances()
    wrapped = UnitIntervalModel(Energy(), waves, budget_db=45.0)
    unit = wrapped.clean_unit()
    assert unit.min() >= 0.25 and unit.max() <= 0.75
    back = wrapped.to_waves(unit)
    for row, wave in enumerate(waves):
        np.testing.assert_allclose(back[row, : len(wave)].numpy(), wave, rtol=0, atol=1e-12)
        assert torch.all(back[row, len(wave) :] == 0)


@pytest.mark.parametrize("budget_db", [20.0, 45.0, 60.0])
def test_one_epsilon_sign_step_gives_each_utterance_its_snr(budget_db):
    waves = utterances(1)
    wrapped = UnitIntervalModel(Energy(), waves, budget_db)
    step = torch.sign(torch.randn_like(wrapped.clean_unit()))
    perturbed = wrapped.to_waves(wrapped.clean_unit() + wrapped.epsilon * step)
    for row, wave in enumerate(waves):
        assert snr_db(wave, perturbed[row, : len(wave)].numpy()) == pytest.approx(budget_db, abs=1e-9)


def test_padding_gets_no_gradient():
    waves = utterances(2)
    wrapped = UnitIntervalModel(Energy(), waves, 30.0)
    unit = wrapped.clean_unit().requires_grad_(True)
    wrapped(unit).sum().backward()
    grad = unit.grad.reshape(len(waves), -1)  # torchattacks sees [batch, 1, 1, samples]
    assert torch.all(grad[1, len(waves[1]) :] == 0)
    assert torch.all(grad[1, : len(waves[1])] != 0)


def test_l2_radius_gives_each_utterance_its_snr():
    waves = utterances(3)
    wrapped = UnitIntervalModel(Energy(), waves, 25.0, norm="L2")
    direction = torch.randn_like(wrapped.clean_unit()) * wrapped.mask[:, None, None, :]
    step = direction / direction.reshape(len(waves), -1).norm(dim=1)[:, None, None, None]
    perturbed = wrapped.to_waves(wrapped.clean_unit() + wrapped.epsilon * step)
    for row, wave in enumerate(waves):
        assert snr_db(wave, perturbed[row, : len(wave)].numpy()) == pytest.approx(25.0, abs=1e-9)


def test_linf_budget_matches_the_snr_definition():
    wave = utterances()[0]
    eps = linf_budget(wave, 30.0)
    assert snr_db(wave, wave + eps * np.sign(np.random.default_rng(0).normal(size=wave.shape))) == pytest.approx(30.0)
    assert snr_db(wave, wave) == float("inf")


def test_silent_utterance_is_refused():
    with pytest.raises(ValueError, match="silent"):
        UnitIntervalModel(Energy(), [np.zeros(100, dtype=np.float32)], 30.0)
