"""The score-based black-box attack keeps every utterance within its SNR budget, flips a tiny-margin
model but not a wide-margin one, is reproducible from its seed and never asks for a gradient."""

import numpy as np
import pytest
import torch
from torch import nn

from trustser.encoders.base import pad_waveforms
from trustser.pillars.safety.blackbox import KIND, gabor_atom, model_scores, score_based_attack
from trustser.pillars.safety.snr import snr_db

RATE = 8000
BANDS_HZ = ((300, 700), (1100, 1700), (2100, 2700), (3100, 3700))  # one band per class


class BandPower(nn.Module):
    """Four logits: the log power per sample in four broad bands, whichever tone is loudest wins.

    Each utterance is analysed on its own samples, so zero padding, hence batching, changes nothing.
    """

    def forward(self, waves, lengths):
        assert not torch.is_grad_enabled(), "a black-box attack must not build a graph"
        return torch.stack([self.band_power(wave[:length]) for wave, length in zip(waves, lengths)])

    @staticmethod
    def band_power(wave):
        spectrum = torch.stft(wave, 256, window=torch.hann_window(256), return_complex=True).abs() ** 2
        hz = torch.fft.rfftfreq(256, 1 / RATE)
        power = [spectrum[(hz >= low) & (hz < high)].sum() for low, high in BANDS_HZ]
        return torch.log(torch.stack(power) / len(wave) + 1e-12)


def tones(emotion_db: float, count: int = 10, seed: int = 0):
    """A loud 150 Hz carrier (outside every band) plus a class tone `emotion_db` below it."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, count)
    waves = []
    for label in labels:
        t = np.arange(int(rng.integers(1600, 3200))) / RATE
        hz = (500, 1400, 2400, 3400)[label]
        cue = 0.3 * 10 ** (emotion_db / 20) * np.sin(2 * np.pi * hz * t + rng.uniform(0, 6))
        wave = 0.3 * np.sin(2 * np.pi * 150 * t) + cue
        waves.append((wave + 1e-4 * rng.standard_normal(len(t))).astype(np.float32))
    return waves, labels


def attack(waves, labels, budget_db, max_queries=60, seed=0, batch_size=4, model=None):
    scores = model_scores((model or BandPower()).eval())
    return score_based_attack(
        scores,
        waves,
        labels,
        budget_db=budget_db,
        max_queries=max_queries,
        sample_rate=RATE,
        seed=seed,
        batch_size=batch_size,
    )


@pytest.mark.parametrize("budget_db", [10.0, 20.0, 45.0])
def test_every_waveform_the_model_hears_keeps_the_snr_budget(budget_db):
    waves, labels = tones(emotion_db=-30.0)
    result = attack(waves, labels, budget_db)
    assert result.n_total == len(waves) and result.n_attacked >= len(waves) - 1
    for clean, heard in zip(waves, result.adversarial):
        assert heard.dtype == np.float32 and len(heard) == len(clean)
        assert snr_db(clean, heard) >= budget_db
    assert result.snr_db_min >= budget_db


def test_flips_a_tiny_margin_model_and_not_a_wide_margin_one():
    # at 20 dB the attacker's energy is 10 dB above a class tone 30 dB below the carrier, and 20 dB
    # below a class tone as loud as the carrier
    fragile = attack(*tones(emotion_db=-30.0), budget_db=20.0)
    robust = attack(*tones(emotion_db=0.0), budget_db=20.0)
    assert fragile.kind == KIND and fragile.success_rate >= 0.8
    assert fragile.queries_median < fragile.max_queries  # successes stop early
    assert robust.n_attacked == 10 and robust.success_rate == 0.0
    assert set(robust.queries) == {robust.max_queries}  # a failure spends the whole query budget


def test_same_seed_same_attack_and_batching_changes_nothing():
    waves, labels = tones(emotion_db=-30.0, seed=1)
    first = attack(waves, labels, 20.0, seed=3, batch_size=3)
    again = attack(waves, labels, 20.0, seed=3, batch_size=3)
    one_by_one = attack(waves, labels, 20.0, seed=3, batch_size=1)
    other_seed = attack(waves, labels, 20.0, seed=4, batch_size=3)
    for result in (again, one_by_one):
        assert result.queries == first.queries and result.flipped == first.flipped
        for a, b in zip(first.adversarial, result.adversarial):
            np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first.adversarial, other_seed.adversarial))


def test_only_scores_are_used_so_a_numpy_model_works():
    """The attack sees a function from waveforms to scores: no autograd anywhere (BandPower also asserts
    that no graph is built); here the model is plain numpy, like openSMILE."""
    waves, labels = tones(emotion_db=-30.0, seed=2)
    model = BandPower()
    seen = []

    def scores(rows, batch):
        seen.extend(type(w) for w in batch)
        with torch.no_grad():
            logits = model(*pad_waveforms(batch)).numpy()
        return np.exp(logits - logits.max(axis=1, keepdims=True))

    result = score_based_attack(scores, waves, labels, budget_db=20.0, max_queries=40, sample_rate=RATE)
    assert set(seen) == {np.ndarray} and result.n_success > 0 and max(result.queries) <= 40


def test_only_correctly_classified_utterances_are_attacked_and_others_kept_clean():
    waves, labels = tones(emotion_db=0.0, count=8, seed=4)
    wrong = (labels + 1) % 4
    wrong[:3] = labels[:3]
    result = attack(waves, wrong, 20.0)
    assert result.n_attacked == 3 and result.queries[3:] == (1,) * 5
    for clean, heard in zip(waves[3:], result.adversarial[3:]):
        np.testing.assert_array_equal(clean, heard)


def test_gabor_atoms_have_unit_energy_and_stay_inside_the_utterance():
    rng = np.random.default_rng(0)
    for samples in (3, 64, 1000, 16000):
        atom = gabor_atom(rng, samples, 16000)
        assert atom.shape == (samples,) and np.linalg.norm(atom) == pytest.approx(1.0)


def test_a_silent_utterance_or_a_tiny_query_budget_is_refused():
    waves, labels = tones(emotion_db=0.0, count=2)
    with pytest.raises(ValueError, match="budget"):
        attack([np.zeros(800, dtype=np.float32)], np.array([0]), 20.0)
    with pytest.raises(ValueError, match="max_queries"):
        attack(waves, labels, 20.0, max_queries=1)


def test_runs_on_egemaps_through_opensmile():
    """The non-differentiable encoder it exists for: openSMILE in numpy, under torch.no_grad, batched."""
    pytest.importorskip("opensmile")
    from trustser.encoders import create
    from trustser.models.head import EmotionHead, WaveformClassifier

    torch.manual_seed(0)
    encoder = create("egemaps")
    model = WaveformClassifier(encoder, EmotionHead(1, encoder.hidden_size, 4)).eval()
    rng = np.random.default_rng(0)
    waves = [
        (0.1 * np.sin(2 * np.pi * 180 * np.arange(n) / 16000) + 0.01 * rng.standard_normal(n)).astype(np.float32)
        for n in (8000, 9600, 12000)
    ]
    labels = model_scores(model)(np.arange(3), waves).argmax(axis=1)
    result = score_based_attack(model_scores(model), waves, labels, budget_db=30.0, max_queries=6, sample_rate=16000)
    assert result.n_attacked == 3 and result.snr_db_min >= 30.0 and max(result.queries) <= 6
