"""FGSM and PGD through torchattacks keep every utterance within its SNR budget, batching changes
nothing, and noise is mixed in at exactly the requested SNR."""

import re
import sys

import numpy as np
import pytest
import torch
from torch import nn

from trustser.errors import NotApplicable
from trustser.pillars.safety import run_attack, snr_db
from trustser.pillars.safety.attacks import INSTALL_TORCHATTACKS
from trustser.pillars.safety.noise import NOISE_TYPES, add_at_snr, noise_robustness, noisy_copy, pink_noise
from trustser.pillars.safety.transfer import transfer_attack


class Spectral(nn.Module):
    """A small differentiable classifier: four logits from the power at the four tone frequencies.

    Correlating with sinusoids sums over samples, so zero padding adds nothing: batching is invisible.
    """

    def forward(self, waves, lengths):
        t = torch.arange(waves.shape[1], dtype=waves.dtype) / 8000
        logits = []
        for hz in (400, 1400, 2400, 3400):
            cos, sin = torch.cos(2 * torch.pi * hz * t), torch.sin(2 * torch.pi * hz * t)
            logits.append(torch.log((waves @ cos) ** 2 + (waves @ sin) ** 2 + 1e-6))
        return torch.stack(logits, dim=1)


def tones(count=12, seed=0):
    rng = np.random.default_rng(seed)
    t = [np.arange(int(rng.integers(1200, 2400))) / 8000 for _ in range(count)]
    labels = rng.integers(0, 4, count)
    waves = [
        (0.3 * np.sin(2 * np.pi * (400 + 1000 * y) * x) + 0.01 * rng.standard_normal(len(x))).astype(np.float32)
        for x, y in zip(t, labels)
    ]
    return waves, labels


@pytest.mark.parametrize("attack", ["FGSM", "PGD"])
@pytest.mark.parametrize("budget_db", [10.0, 30.0])
def test_every_adversarial_waveform_keeps_its_snr_budget(attack, budget_db):
    waves, labels = tones()
    result = run_attack(Spectral().eval(), waves, labels, budget_db=budget_db, attack=attack, batch_size=5)
    for clean, produced in zip(waves, result.adversarial):
        assert snr_db(clean, produced) >= budget_db - 1e-6
    assert result.snr_db_min >= budget_db - 1e-6 and result.n_total == len(waves)


@pytest.mark.parametrize("attack", ["FGSM", "PGD"])
def test_batched_and_one_by_one_attacks_agree(attack):
    waves, labels = tones(seed=1)
    model = Spectral().eval()
    batched = run_attack(model, waves, labels, budget_db=10.0, attack=attack, batch_size=6)
    single = run_attack(model, waves, labels, budget_db=10.0, attack=attack, batch_size=1)
    assert batched.n_attacked == single.n_attacked and batched.n_success == single.n_success
    for a, b in zip(batched.adversarial, single.adversarial):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_pgd_is_at_least_as_strong_as_fgsm():
    waves, labels = tones(seed=2)
    model = Spectral().eval()
    fgsm, pgd = (run_attack(model, waves, labels, budget_db=-3.0, attack=name) for name in ("FGSM", "PGD"))
    assert pgd.n_success >= fgsm.n_success > 0


@pytest.mark.parametrize("noise", NOISE_TYPES)
def test_noise_is_mixed_at_the_requested_snr(noise):
    rng = np.random.default_rng(0)
    wave = (0.2 * np.sin(np.arange(4000) / 7)).astype(np.float32)
    others = [rng.standard_normal(n).astype(np.float32) for n in (900, 5000, 3000, 1200, 700)]
    noisy = noisy_copy(wave, noise=noise, snr_db=12.0, rng=rng, others=others)
    assert snr_db(wave, noisy) == pytest.approx(12.0, abs=1e-3)


def test_pink_noise_power_falls_as_one_over_frequency():
    noise = pink_noise(2**16, np.random.default_rng(0))
    power = np.abs(np.fft.rfft(noise)) ** 2
    low, high = power[100:200].mean(), power[1000:2000].mean()
    assert low / high == pytest.approx(np.mean(1 / np.arange(100, 200)) / np.mean(1 / np.arange(1000, 2000)), rel=0.2)


def test_robustness_reports_each_condition_and_the_worst_drop_at_the_gate():
    waves, labels = tones(count=16, seed=3)
    model = Spectral().eval()

    def predict(batch):
        return np.array([int(model(torch.as_tensor(w)[None], None).argmax()) for w in batch])

    result = noise_robustness(predict, waves, labels, [waves] * len(waves), snr_db=30.0, curve_db=(-20.0,), seed=0)
    assert len(result.conditions) == 2 * len(NOISE_TYPES) and result.n == 16
    at_gate = [c.relative_drop for c in result.conditions if c.snr_db == 30.0]
    assert result.worst_relative_drop == max(at_gate)
    assert max(c.relative_drop for c in result.conditions if c.snr_db == -20.0) > result.worst_relative_drop
    assert add_at_snr(waves[0], np.ones(len(waves[0])), 0.0).dtype == np.float32


class ByLength(nn.Module):
    """A 'model' whose decision no in-budget perturbation can reach: it looks only at utterance length."""

    def __init__(self, waves, labels):
        super().__init__()
        self.table = {len(w): int(y) for w, y in zip(waves, labels)}

    def forward(self, waves, lengths):
        return torch.nn.functional.one_hot(torch.tensor([self.table[int(n)] for n in lengths]), 4).float()


def test_transfer_attack_fails_a_fragile_target_and_passes_a_robust_one():
    waves, labels = tones(seed=2)
    surrogate = Spectral().eval()
    fragile = transfer_attack(
        surrogate, Spectral().eval(), waves, labels, budget_db=-3.0, attack="PGD", surrogate="spectral"
    )
    robust = transfer_attack(
        surrogate, ByLength(waves, labels), waves, labels, budget_db=-3.0, attack="PGD", surrogate="spectral"
    )
    assert fragile.attack == "PGD transferred from spectral" and fragile.success_rate > 0.2
    assert robust.n_attacked == len(waves) and robust.success_rate == 0.0
    assert min(snr_db(w, a) for w, a in zip(waves, fragile.adversarial)) >= -3.0 - 1e-6


def test_invariance_search_finds_and_shrinks_a_gain_flip():
    from trustser.pillars.safety.invariance import InvarianceBudget, invariance_search

    def loud(wave) -> int:  # flips at an RMS of 0.1: a gain of 2 dB moves 0.095 across
        return int(np.sqrt(np.mean(np.square(wave))) > 0.1)

    rng = np.random.default_rng(0)
    waves = [(level * rng.standard_normal(1600)).astype(np.float32) for level in (0.02, 0.095, 0.5)]
    result = invariance_search(
        loud,
        waves,
        ["quiet", "edge", "loud"],
        sample_rate=16000,
        budget=InvarianceBudget(3.0, 10.0, 40.0),
        max_examples=30,
    )
    assert result.flip_rate == pytest.approx(1 / 3) and [c.utterance_id for c in result.counterexamples] == ["edge"]
    flip = result.counterexamples[0].perturbation
    assert 0 < flip.gain_db <= 3.0 and flip.shift_ms == 0.0 and flip.noise_snr_db == 100.0  # shrunk: gain only


@pytest.mark.parametrize("attack", ["PGDL2", "APGD"])
def test_l2_and_apgd_keep_the_budget_and_find_flips(attack):
    waves, labels = tones(seed=2)
    result = run_attack(Spectral().eval(), waves, labels, budget_db=-3.0, attack=attack)
    assert result.snr_db_min >= -3.0 - 1e-6 and result.n_success > 0


@pytest.mark.parametrize("attack", ["FGSM", "PGD", "PGDL2"])
def test_targeted_success_means_landing_on_the_target(attack):
    waves, labels = tones(seed=2)
    model = Spectral().eval()
    targeted = run_attack(model, waves, labels, budget_db=-3.0, attack=attack, targeted=True)
    untargeted = run_attack(model, waves, labels, budget_db=-3.0, attack=attack)
    assert targeted.attack == f"targeted {attack}" and targeted.snr_db_min >= -3.0 - 1e-6
    assert targeted.n_success <= untargeted.n_attacked
    with pytest.raises(ValueError, match="unknown attack"):
        run_attack(model, waves, labels, budget_db=10.0, attack="APGD", targeted=True)


def test_apgd_draws_its_start_from_the_audit_seed(monkeypatch):
    import torchattacks

    seeds, real = [], torchattacks.APGD

    def spy(*args, **kwargs):
        seeds.append(kwargs["seed"])
        return real(*args, **kwargs)

    monkeypatch.setattr(torchattacks, "APGD", spy)
    waves, labels = tones(count=6, seed=3)
    model = Spectral().eval()
    first, again = (run_attack(model, waves, labels, budget_db=10.0, attack="APGD", seed=7) for _ in range(2))
    assert seeds and set(seeds) == {7}  # --seed reaches the attack, not a fixed 0
    for a, b in zip(first.adversarial, again.adversarial):
        np.testing.assert_array_equal(a, b)  # and the same seed reproduces it


@pytest.mark.parametrize(
    "attack",
    [
        lambda waves, labels: run_attack(Spectral().eval(), waves, labels, budget_db=30.0, attack="FGSM"),
        lambda waves, labels: transfer_attack(
            Spectral().eval(), Spectral().eval(), waves, labels, budget_db=30.0, attack="PGD", surrogate="spectral"
        ),
    ],
    ids=["white-box", "transfer"],
)
def test_without_torchattacks_an_attack_does_not_apply_and_names_the_install(monkeypatch, attack):
    """torchattacks is not a declared dependency: a plain `pip install trustser` lacks it. The audit then
    reports the attacks as SKIPs (the plugin's NotApplicable path), never an ImportError."""
    monkeypatch.setitem(sys.modules, "torchattacks", None)  # what `import torchattacks` meets when it is not installed
    waves, labels = tones()
    with pytest.raises(
        NotApplicable, match=re.escape("torchattacks is not installed") + ".*" + re.escape(INSTALL_TORCHATTACKS)
    ):
        attack(waves, labels)
