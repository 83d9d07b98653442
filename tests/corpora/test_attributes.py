"""Corpora carry arousal, dominance and valence in their own units, normalised for heads by their scale."""

import dataclasses

import numpy as np
import pytest

from trustser.corpora import create
from trustser.corpora.base import NO_CATEGORY, BadData
from trustser.corpora.manifest import write_sample as write_manifest_sample
from trustser.corpora.synthetic import planted_attributes
from trustser.errors import SpecError

FIXTURES = "fixtures/corpora"


def rated(corpus, utterance_id: str) -> dict[str, float]:
    return dict(next(u for u in corpus.utterances if u.id == utterance_id).attributes)


def test_msp_podcast_reads_emoact_emoval_emodom_on_its_1_to_7_scale(tmp_path):
    corpus = create(f"msp_podcast:{FIXTURES}/msp_podcast", tmp_path)
    assert corpus.attribute_names == ("arousal", "dominance", "valence")
    assert (corpus.attribute_scale.low, corpus.attribute_scale.high) == (1.0, 7.0)
    # speaker 101's angry segment: EmoAct 6.0, EmoVal 2.0, EmoDom 5.5, nudged by (101 % 3 - 1) * 0.25 = +0.25
    angry = next(u for u in corpus.utterances if u.speaker == "spk101" and u.emotion == "angry")
    assert dict(angry.attributes) == {"arousal": 6.25, "valence": 2.25, "dominance": 5.75}
    values = corpus.attribute_values()
    assert values.min() >= 0 and values.max() <= 1
    np.testing.assert_allclose(corpus.attribute_values(normalised=False), 1 + 6 * values)


def test_iemocap_reads_its_bracket_as_valence_activation_dominance(tmp_path):
    corpus = create(f"iemocap:{FIXTURES}/iemocap", tmp_path)
    assert corpus.attribute_scale.high == 5.0
    # the sample rates angry turns [V, A, D] = [1.5, 4.0, 4.0]: low valence, high arousal
    angry = next(u for u in corpus.utterances if u.emotion == "angry")
    assert dict(angry.attributes) == {"valence": 1.5, "arousal": 4.0, "dominance": 4.0}


def test_msp_improv_reads_the_consensus_line_ratings(tmp_path):
    corpus = create(f"msp_improv:{FIXTURES}/msp_improv", tmp_path)
    assert corpus.attribute_names == ("arousal", "dominance", "valence")
    assert dict(corpus.utterances[0].attributes) == {"arousal": 3.0, "valence": 3.2, "dominance": 3.0}


def test_a_manifest_rates_on_the_scale_its_spec_names(tmp_path):
    write_manifest_sample(tmp_path / "m")
    corpus = create(f"manifest:{tmp_path}/m/manifest_rated.csv,scale=1-5", tmp_path / "cache")
    assert corpus.attribute_scale.describe() == "1-5"
    assert corpus.attribute_names == ("arousal", "dominance", "valence")
    with pytest.raises(SpecError, match="name their scale, e.g. manifest:.*scale=1-7"):
        create(f"manifest:{tmp_path}/m/manifest_rated.csv", tmp_path / "cache")
    with pytest.raises(SpecError, match="has no arousal, dominance, valence column"):
        create(f"manifest:{tmp_path}/m/manifest.csv,scale=1-5", tmp_path / "cache")
    with pytest.raises(SpecError, match="scale= is a manifest's option"):
        create(f"iemocap:{FIXTURES}/iemocap,scale=1-5", tmp_path / "cache")


def test_a_rating_outside_the_scale_is_bad_data_naming_the_file(tmp_path):
    write_manifest_sample(tmp_path / "m")
    table = tmp_path / "m" / "manifest_rated.csv"
    lines = table.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",9.5"  # dominance 9.5 on a 1-5 scale
    table.write_text("\n".join(lines) + "\n")
    corpus = create(f"manifest:{table},scale=1-5", tmp_path / "cache")
    assert [d.reason for d in corpus.dropped if d.bad] == ["invalid attribute rating"]
    with pytest.raises(BadData, match=r"spk01_neutral.wav: invalid attribute rating .*9.5.* outside the .*1-5"):
        create(f"manifest:{table},scale=1-5", tmp_path / "cache", on_bad_audio="fail")


def test_the_synthetic_attributes_follow_the_rendered_prosody():
    calm = planted_attributes({"rate": 135, "volume": 80, "range": 15, "pitch": 38})
    excited = planted_attributes({"rate": 205, "volume": 145, "range": 85, "pitch": 68})
    assert calm["arousal"] == 1.0 and excited["arousal"] == 7.0
    faster = planted_attributes({"rate": 190, "volume": 80, "range": 15, "pitch": 38})
    assert faster["arousal"] > calm["arousal"] and faster["valence"] == calm["valence"]
    louder = planted_attributes({"rate": 135, "volume": 120, "range": 15, "pitch": 38})
    assert louder["dominance"] > calm["dominance"] and louder["valence"] < calm["valence"]


def test_the_synthetic_corpus_rates_each_emotion_as_its_profile(tmp_path):
    corpus = create("synthetic:speakers=4,sentences=2", tmp_path)
    values = corpus.attribute_values(normalised=False)
    mean = {e: values[corpus.column("emotion") == e].mean(0) for e in corpus.emotions}
    arousal, dominance, valence = 0, 1, 2
    assert mean["angry"][arousal] > mean["neutral"][arousal] > mean["sad"][arousal]
    assert mean["happy"][valence] > mean["neutral"][valence] > mean["angry"][valence]
    assert mean["angry"][dominance] == max(m[dominance] for m in mean.values())


def test_the_corpus_summary_names_the_attributes_and_their_scale(tmp_path):
    from trustser.corpora.summary import summarise

    corpus = create(f"iemocap:{FIXTURES}/iemocap", tmp_path)
    summary = summarise(corpus, corpus.folds(4), "iemocap:fixture", 4)
    assert summary.attribute_scale == "1-5" and set(summary.attributes) == {"arousal", "dominance", "valence"}
    assert summary.attributes["arousal"]["max"] == 4.0
    assert "attributes on a 1-5 scale: arousal mean" in summary.render()


def test_a_dimensional_split_of_a_corpus_without_attributes_is_refused_naming_it(tmp_path):
    from trustser.corpora.split import CorpusSplit

    corpus = create(f"cremad:{FIXTURES}/cremad", tmp_path)
    assert corpus.attribute_names == () and corpus.attribute_scale is None
    with pytest.raises(ValueError, match="corpus cremad rates no attribute .* a dimensional audit needs them"):
        CorpusSplit(corpus, corpus.folds(4), task="dimensional")
    assert CorpusSplit(corpus, corpus.folds(4)).num_outputs == len(corpus.emotions)


def test_a_manifest_with_ratings_and_no_emotion_column_is_a_dimensional_only_corpus(tmp_path):
    from trustser.corpora.split import CorpusSplit
    from trustser.run.session import AuditSession, AuditSettings, ConfigurationError

    write_manifest_sample(tmp_path / "m")
    table = tmp_path / "m" / "manifest_attributes.csv"
    assert "emotion" not in table.read_text().splitlines()[0]
    spec = f"manifest:{table},scale=1-5"
    corpus = create(spec, tmp_path / "cache")
    assert corpus.emotions == () and len(corpus) == 32 and {u.emotion for u in corpus.utterances} == {""}
    assert corpus.attribute_names == ("arousal", "dominance", "valence")
    assert (corpus.labels() == NO_CATEGORY).all()  # no class index; only a dimensional audit reads this corpus
    split = CorpusSplit(corpus, corpus.folds(2, 0), task="dimensional")
    assert split.targets.shape == (32, 3) and 0 <= split.targets.min() and split.targets.max() <= 1
    settings = AuditSettings(("mfcc",), spec, tmp_path / "report", tmp_path / "cache", folds=2)
    session = AuditSession(settings)
    assert session.task == "dimensional"  # no --task: picked from the corpus
    session.check()
    with pytest.raises(ConfigurationError, match="no emotion categories.*--task dimensional"):
        AuditSession(dataclasses.replace(settings, task="categorical")).check()
    with pytest.raises(SpecError, match="no emotion column: map= and emotions= do not apply"):
        create(f"{spec},map=x:angry", tmp_path / "cache")
    summary = session.corpus_summary.render()  # no table of emotions, the ratings instead
    assert "emotion" not in summary and "attributes on a 1-5 scale" in summary
