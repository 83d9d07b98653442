"""Demographic attributes for attribute inference: age bands, manifest columns, when no attacker applies."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from trustser import audit
from trustser.corpora.base import Utterance
from trustser.corpora.folds import Fold
from trustser.errors import NotApplicable
from trustser.features.frames import LayerFeatures
from trustser.models.head import EmotionHead, HeadConfig
from trustser.pillars.privacy import attribute_inference
from trustser.pillars.privacy.attribute_inference import most_inferable
from trustser.pillars.privacy.checks import AgeInferenceSettings, ExposureSettings
from trustser.pillars.privacy.demographics import age_group, age_groups, demographic_columns, why_not_attackable
from trustser.pillars.privacy.differential_privacy import MixedLayers, onto_all_layers
from trustser.run.memo import Memo

FOLDS = [Fold(i, (), (), (f"s{i}", f"s{i + 4}")) for i in range(4)]
SPEAKERS = np.repeat([f"s{i}" for i in range(8)], 10)


def _utterance(speaker: str, age: int | None = None, **demographics: str) -> Utterance:
    return Utterance(f"{speaker}_x", speaker, "female", "happy", age=age, demographics=tuple(demographics.items()))


def test_age_bands_cut_at_the_given_years():
    assert [age_group(a, [40]) for a in (18, 39, 40, 77)] == ["under 40", "under 40", "40 and over", "40 and over"]
    assert [age_group(a, [30, 60]) for a in (29, 30, 59, 60)] == [
        "under 30",
        "30 to under 60",
        "30 to under 60",
        "60 and over",
    ]
    assert age_group(None, [40]) == ""
    with pytest.raises(ValueError, match="increasing"):
        age_groups([_utterance("s0", 30)], [50, 40])


def test_every_demographic_key_becomes_a_column_with_unknowns_blank():
    utterances = [_utterance("s0", accent="north", l1="en"), _utterance("s1", accent="south")]
    assert {k: v.tolist() for k, v in demographic_columns(utterances).items()} == {
        "accent": ["north", "south"],
        "l1": ["en", ""],
    }
    assert demographic_columns([_utterance("s0")]) == {}


def test_an_attribute_no_fold_can_learn_is_not_attackable():
    two_groups = np.where(np.isin(SPEAKERS, ["s0", "s1", "s2", "s3"]), "a", "b")
    assert why_not_attackable(two_groups, SPEAKERS, FOLDS) is None
    one_speaker = np.where(SPEAKERS == "s0", "a", "b")  # fold 0 tests s0: its attacker never sees group a
    assert "fold 0" in why_not_attackable(one_speaker, SPEAKERS, FOLDS)
    assert "one group" in why_not_attackable(np.where(SPEAKERS == "s0", "", "b"), SPEAKERS, FOLDS)
    assert why_not_attackable(np.full(len(SPEAKERS), ""), SPEAKERS, FOLDS) == "no speaker has it"


def test_a_corpus_without_ages_or_demographics_is_not_applicable():
    run = SimpleNamespace(
        corpus=SimpleNamespace(name="plain", utterances=[_utterance("s0"), _utterance("s1")]), memo=Memo()
    )
    with pytest.raises(NotApplicable, match="no speaker ages"):
        audit.age_inference_uar(run, AgeInferenceSettings(exposed=("layers",), age_bands=(40.0,)))
    with pytest.raises(NotApplicable, match="no demographics"):
        audit.demographic_inference_uar(run, ExposureSettings(exposed=("layers",)))


def test_the_most_inferable_attribute_is_judged_with_every_attributes_chance():
    rng = np.random.default_rng(0)
    accent = np.where(np.isin(SPEAKERS, ["s0", "s1", "s4", "s5"]), "north", "south")
    region = np.array(["east", "west", "south"])[np.arange(len(SPEAKERS)) // 10 % 3]
    x = np.c_[rng.normal(size=(len(SPEAKERS), 4)), accent == "north"]
    results = [
        attribute_inference({"x": x}, values, SPEAKERS, FOLDS, attribute=name)
        for name, values in (("accent", accent), ("region", region))
    ]
    result = most_inferable(results, {"l1": "no l1 attacker: no speaker has it"})
    assert result.attribute == "accent" and result.uar == 1.0 and result.chance == 0.5
    assert result.chance_by_attribute["region"] == pytest.approx(1 / 3) and result.uar_by_attribute["region"] < 0.75
    assert result.not_attacked == {"l1": "no l1 attacker: no speaker has it"}


def test_a_head_trained_on_mixed_layers_computes_the_same_logits_on_all_layers():
    generator = torch.Generator().manual_seed(0)
    features = LayerFeatures(["a", "b", "c"], torch.randn(12, 3, 5, generator=generator), torch.tensor([0, 3, 7, 12]))
    released = EmotionHead(3, 5, 4, HeadConfig(conv_dim=8, mlp_dim=8))
    released.fit_standardisation(features.frames.mean(0), features.frames.std(0))
    one_layer = EmotionHead(1, 5, 4, HeadConfig(conv_dim=8, mlp_dim=8)).eval()
    mixed = MixedLayers(features, released)
    expected = one_layer(*mixed.batch([0, 1, 2]))
    assert torch.allclose(onto_all_layers(one_layer, released)(*features.batch([0, 1, 2])), expected, atol=1e-5)
