"""Each dimensional gate fails on a planted flaw and passes its clean control, judged by the shipped gates."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from trustser.cache.store import Cache
from trustser.corpora import create
from trustser.corpora.split import CorpusSplit
from trustser.gates.measurement import Measurement
from trustser.gates.thresholds import load_gates
from trustser.models.context import RunContext
from trustser.models.training import TrainConfig
from trustser.pillars import declared_metrics
from trustser.pillars.fairness.dimensional import attribute_fairness
from trustser.pillars.safety.shift import shift_attack, shift_result
from trustser.pillars.utility.dimensional import attribute_utility
from trustser.run.backbone_run import trained_run
from trustser.vocabulary import Verdict

ROOT = Path(__file__).resolve().parents[2]
GATES = load_gates(ROOT / "thresholds.toml", declared_metrics())
NAMES = ("arousal", "dominance", "valence")


def verdict(metric: str, measured: Measurement) -> Verdict:
    gate = GATES.gate(metric)
    return gate.judge(measured.value, "test", measured.interval, measured.group_size, measured.speakers).verdict


def with_shuffled_attributes(corpus, seed: int = 0):
    """The corpus whose utterances carry each other's attributes: nothing in the audio predicts them."""
    order = np.random.default_rng(seed).permutation(len(corpus))
    shuffled = dataclasses.replace
    moved = [shuffled(u, attributes=corpus.utterances[j].attributes) for u, j in zip(corpus.utterances, order)]
    twin = type(corpus).__new__(type(corpus))
    twin.__dict__.update(corpus.__dict__)
    twin.utterances, twin._by_id = moved, {u.id: u for u in moved}
    fingerprint = corpus.fingerprint()
    twin.fingerprint = lambda: fingerprint  # the same audio: its features are the corpus's (heads differ: targets)
    return twin


def test_an_encoder_given_shuffled_attributes_scores_clearly_lower_ccc(tmp_path):
    corpus = create("synthetic:speakers=4,sentences=2", tmp_path / "cache")
    folds = corpus.folds(4, 0)
    scores = {}
    for name, audited in (("planted", with_shuffled_attributes(corpus)), ("clean", corpus)):
        split = CorpusSplit(audited, folds, task="dimensional")
        run = trained_run("egemaps", RunContext(split, Cache(tmp_path / "cache"), TrainConfig(seed=0)))
        scores[name] = attribute_utility(run).ccc["arousal"]
    assert scores["clean"] > scores["planted"] + 0.4, scores
    assert verdict("utility.ccc_arousal", Measurement(scores["clean"])) == Verdict.PASS, scores
    assert verdict("utility.ccc_arousal", Measurement(scores["planted"])) == Verdict.FAIL, scores


def _ratings(seed: int = 0):
    """Eight speakers (four of each gender), forty utterances each, normalised ratings and a close prediction."""
    rng = np.random.default_rng(seed)
    speakers = np.repeat([f"spk{i}" for i in range(8)], 40)
    genders = np.where(np.repeat(np.arange(8), 40) % 2 == 0, "female", "male")
    true = rng.uniform(0.1, 0.9, size=(len(speakers), 3))
    return true, true + rng.normal(0, 0.03, size=true.shape), genders, speakers


def _fairness(true, predicted, genders, speakers, by):
    groups = genders if by == "gender" else speakers
    return attribute_fairness(
        true, predicted, groups=groups, speakers=speakers, attributes=NAMES, span=6.0, attribute=by, n_resamples=50
    )


def _gender_gap(result, gap: str) -> Measurement:
    value = getattr(result, gap)
    return Measurement(
        value, interval=result.ci[gap], group_size=result.min_speakers_per_group, speakers=result.n_speakers
    )


@pytest.mark.parametrize("by", ["gender", "speaker"])
def test_a_clean_prediction_passes_the_fairness_gates(by):
    true, predicted, genders, speakers = _ratings()
    result = _fairness(true, predicted, genders, speakers, by)
    if by == "gender":
        assert verdict("fairness.ccc_difference_gender", _gender_gap(result, "ccc_difference")) == Verdict.PASS
        signed = _gender_gap(result, "signed_error_difference")
        assert verdict("fairness.signed_error_difference_gender", signed) == Verdict.PASS
    else:
        worst = Measurement(result.worst_group_ccc, group_size=result.min_group_size, speakers=result.n_speakers)
        assert verdict("fairness.worst_speaker_ccc", worst) == Verdict.PASS, result.worst_group_ccc


def test_a_head_adding_one_point_to_one_gender_s_arousal_fails_the_signed_error_gate():
    true, predicted, genders, speakers = _ratings()
    predicted[genders == "female", 0] += 1 / 6  # +1 point of a 1-7 scale
    result = _fairness(true, predicted, genders, speakers, "gender")
    assert result.signed_error_difference == pytest.approx(1.0, abs=0.05)
    assert result.signed_error_difference_attribute == "arousal"
    low, high = result.ci["signed_error_difference"]
    assert low > 0.5  # the speaker-bootstrap interval excludes the bound too
    measured = _gender_gap(result, "signed_error_difference")
    assert verdict("fairness.signed_error_difference_gender", measured) == Verdict.FAIL


def test_a_head_that_follows_one_gender_less_fails_the_ccc_gap_gate():
    true, predicted, genders, speakers = _ratings()
    rng = np.random.default_rng(1)
    predicted[genders == "male", 2] = 0.5 + 0.3 * (predicted[genders == "male", 2] - 0.5) + rng.normal(0, 0.1, 160)
    result = _fairness(true, predicted, genders, speakers, "gender")
    assert result.ccc_difference_attribute == "valence"
    assert verdict("fairness.ccc_difference_gender", _gender_gap(result, "ccc_difference")) == Verdict.FAIL


def test_a_speaker_the_model_does_not_follow_fails_the_worst_speaker_gate():
    true, predicted, genders, speakers = _ratings()
    predicted[speakers == "spk3"] = 0.5 + np.random.default_rng(2).normal(0, 0.05, (40, 3))
    result = _fairness(true, predicted, genders, speakers, "speaker")
    assert result.worst_group == "spk3"
    worst = Measurement(result.worst_group_ccc, group_size=result.min_group_size, speakers=result.n_speakers)
    assert verdict("fairness.worst_speaker_ccc", worst) == Verdict.FAIL


class Carrier(nn.Module):
    """Predicts arousal, dominance, valence from the waveform's correlation with a fixed tone, `gain`-fold:
    a large gain is a model an inaudible perturbation along the tone moves far (the planted flaw)."""

    def __init__(self, gain: float):
        super().__init__()
        self.gain = gain
        self.register_buffer("carrier", torch.sin(torch.arange(16000) * 0.37))

    def forward(self, waveforms, lengths):
        mask = torch.arange(waveforms.shape[1])[None, :] < lengths[:, None]
        rms = (waveforms.pow(2) * mask).sum(1).div(lengths).sqrt()
        score = (waveforms * self.carrier[: waveforms.shape[1]] * mask).sum(1) / lengths / rms
        return (0.5 + self.gain * score)[:, None].repeat(1, 3)


@pytest.mark.parametrize("attack", ["FGSM", "PGD"])
def test_a_model_a_shifted_target_attack_moves_within_budget_fails_the_shift_gate(attack):
    rng = np.random.default_rng(0)
    waves = [(0.1 * rng.standard_normal(8000)).astype(np.float32) for _ in range(12)]
    gate = f"safety.{attack.lower()}_shift_success_rate"
    settings = GATES.gate(gate).settings
    rates = {}
    for name, gain in (("planted", 100.0), ("clean", 1.0)):
        outcome = shift_attack(
            Carrier(gain), waves, budget_db=settings.budget_db, margin=settings.margin / 6, attack=attack
        )
        assert outcome.snr_db.min() >= settings.budget_db - 1e-3  # within the budget
        result = shift_result(
            [outcome], attack=attack, budget_db=settings.budget_db, margin=settings.margin, span=6.0, names=NAMES
        )
        rates[name] = result.success_rate
        expected = Verdict.FAIL if name == "planted" else Verdict.PASS
        assert verdict(gate, Measurement(result.success_rate, n=result.n_attacked)) == expected, rates
    assert rates == {"planted": 1.0, "clean": 0.0}
