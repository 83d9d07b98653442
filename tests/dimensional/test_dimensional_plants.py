"""More dimensional gates on a planted flaw and a clean control, judged by the shipped gates (as in
test_dimensional_gates): the CCC drop under noise, membership inference on the regression loss, the
query-only (black-box) shift attack."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tests.dimensional.test_dimensional_gates import GATES, NAMES, verdict
from trustser.features.frames import LayerFeatures
from trustser.gates.measurement import Measurement
from trustser.models.head import HeadConfig
from trustser.models.training import TrainConfig, per_utterance_loss, train_head
from trustser.pillars.privacy.membership import member_split, membership_inference
from trustser.pillars.safety.blackbox_shift import ATTACK, model_answers, shift_search
from trustser.pillars.safety.dimensional import ccc_under_noise
from trustser.pillars.safety.shift import shift_result
from trustser.vocabulary import Verdict

RATE = 16000


class Loudness(nn.Module):
    """Rates every attribute as the utterance's amplitude (√2·rms, a sine's peak). `fragile` plants the flaw:
    the rating shrinks to the midpoint as the high-frequency share of the energy grows, i.e. under noise."""

    def __init__(self, *, fragile: bool):
        super().__init__()
        self.fragile = fragile

    def forward(self, waveforms, lengths):
        mask = (torch.arange(waveforms.shape[1])[None, :] < lengths[:, None]).double()
        x = waveforms.double() * mask
        power = x.pow(2).sum(1) / lengths
        rating = (2 * power).sqrt()
        if self.fragile:
            # a clean 100 Hz tone has a share of 0.0015; white noise 20 dB below adds about 0.02
            share = (x.diff(dim=1).pow(2) * mask[:, 1:]).sum(1) / lengths / power
            rating = 0.5 + (rating - 0.5) / (1 + (share / 0.01) ** 4)
        return rating[:, None].repeat(1, 3).float()


def _tones(n: int = 24, seed: int = 0):
    """Half-second 100 Hz tones whose amplitude is every attribute (normalised), two speakers per unit."""
    rng = np.random.default_rng(seed)
    amplitude = rng.uniform(0.1, 0.9, n)
    t = np.arange(RATE // 2) / RATE
    waves = [(a * np.sin(2 * np.pi * 100 * t + rng.uniform(0, 2 * np.pi))).astype(np.float32) for a in amplitude]
    speakers = np.array([f"spk{i % 4}" for i in range(n)])
    return waves, np.repeat(amplitude[:, None], 3, 1), speakers


def test_a_model_whose_ratings_collapse_under_noise_fails_the_noise_ccc_gate():
    waves, true, speakers = _tones()
    settings = GATES.gate("safety.noise_ccc_drop").settings
    drops = {}
    for name, fragile in (("planted", True), ("clean", False)):
        model = Loudness(fragile=fragile)
        units = [(model, waves[:12]), (model, waves[12:])]  # two folds' models, each on its own utterances
        result = ccc_under_noise(units, true, speakers, snr_db=settings.snr_db, rng=np.random.default_rng(0))
        assert result.clean_ccc > 0.95, result  # both rate clean speech well
        drops[name] = result.worst_drop
        expected = Verdict.FAIL if fragile else Verdict.PASS
        measured = Measurement(result.worst_drop, n=result.n)
        assert verdict("safety.noise_ccc_drop", measured) == expected, (name, result)
    assert drops["planted"] > 0.5 and drops["clean"] < 0.02, drops


def _frames(n: int, *, signal: bool, seed: int = 0):
    """Frames of n utterances with three attributes; with `signal` their mean along three dimensions is the
    attributes (plus noise), without it the attributes are drawn apart from the audio (nothing to learn)."""
    generator = torch.Generator().manual_seed(seed)
    counts = torch.randint(3, 20, (n,), generator=generator)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    targets = torch.rand(n, 3, generator=generator)
    frames = torch.randn(int(offsets[-1]), 2, 8, generator=generator)
    if signal:
        frames[:, :, :3] += 3 * targets[torch.repeat_interleave(torch.arange(n), counts)][:, None, :]
    features = LayerFeatures([f"u{i}" for i in range(n)], frames, offsets, samples=counts * 160)
    return features, targets.numpy()


def test_a_head_overfit_to_its_members_fails_the_membership_gate():
    """Membership inference on the regression loss (squared error summed over the attributes)."""
    speakers = np.repeat([f"spk{i}" for i in range(8)], 20)  # the candidates; 40 more utterances for dev
    members, held_out = member_split(speakers, seed=0)
    dev = np.arange(160, 200)
    advantages = {}
    for name in ("planted", "clean"):
        features, targets = _frames(200, signal=name == "clean")
        if name == "planted":  # random attributes, no regularisation, kept at the epoch it fits its members best
            config, recipe, stop_on = HeadConfig(conv_dim=64, mlp_dim=64, dropout=0.0), OVERFIT, members
        else:  # the release recipe's early stopping on utterances it did not train on
            config, recipe, stop_on = HeadConfig(conv_dim=16, mlp_dim=16), TrainConfig(max_epochs=30), dev
        head = train_head(features, targets, members, stop_on, num_classes=3, head_config=config, train_config=recipe)
        losses = [per_utterance_loss(head, features, targets, rows) for rows in (members, held_out)]
        result = membership_inference(*losses, speakers[members], speakers[held_out], seed=0)
        advantages[name] = result.advantage
        n = result.n_members + result.n_nonmembers
        measured = Measurement(result.advantage, n=n, interval=result.ci["advantage"], speakers=result.n_speakers)
        expected = Verdict.FAIL if name == "planted" else Verdict.PASS
        assert verdict("privacy.membership_advantage", measured) == expected, advantages
    assert advantages["planted"] > 0.5, advantages


# patience = max_epochs: it never stops early
OVERFIT = TrainConfig(learning_rate=1e-2, weight_decay=0.0, batch_size=16, max_epochs=40, patience=40)


class Hoarseness(nn.Module):
    """Rates every attribute by the log of the mean energy of the second difference (the highest frequencies):
    a low tone has almost none, so any inaudible high-frequency atom moves the rating far (the planted flaw)."""

    def forward(self, waveforms, lengths):
        mask = (torch.arange(waveforms.shape[1])[None, :] < lengths[:, None]).double()
        x = waveforms.double() * mask
        curvature = ((x[:, 2:] - 2 * x[:, 1:-1] + x[:, :-2]).pow(2) * mask[:, 2:]).sum(1) / lengths
        return (torch.log10(1 + curvature / 1e-7) - 0.4)[:, None].repeat(1, 3).float()


def test_a_model_a_query_attack_moves_within_budget_fails_the_black_box_shift_gate():
    waves = [0.5 * w / np.abs(w).max() for w in _tones(n=8)[0]]  # one loudness: the same clean rating (0.2)
    settings = GATES.gate("safety.blackbox_shift_success_rate").settings
    rates, answers = {}, {}
    for name, model in (("planted", Hoarseness()), ("clean", Loudness(fragile=False))):
        model_calls = model_answers(model)

        def counted(positions, heard, model_calls=model_calls, name=name):
            answers[name] = answers.get(name, 0) + len(heard)
            return model_calls(positions, heard)

        outcome = shift_search(
            counted,
            waves,
            budget_db=settings.budget_db,
            margin=settings.margin / 6,  # the attack works on normalised values, a 1-7 scale here
            max_queries=settings.max_queries,
            sample_rate=RATE,
        )
        assert outcome.snr_db.min() >= settings.budget_db  # within the budget
        result = shift_result(
            [outcome], attack=ATTACK, budget_db=settings.budget_db, margin=settings.margin, span=6.0, names=NAMES
        )
        rates[name] = result.success_rate
        expected = Verdict.FAIL if name == "planted" else Verdict.PASS
        assert verdict("safety.blackbox_shift_success_rate", Measurement(result.success_rate, n=8)) == expected, rates
    assert rates == {"planted": 1.0, "clean": 0.0}, rates
    assert answers["clean"] == 8 * settings.max_queries  # the robust model: every query spent, none helped enough
