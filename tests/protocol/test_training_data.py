"""Declared training data: an encoder's registration, a checkpoint's model card and a team module's
attribute declare it; auditing on a declared corpus fails the gate, naming the overlap."""

from __future__ import annotations

from pathlib import Path

import pytest

from trustser.encoders import create
from trustser.encoders.hf_loading import model_card_datasets
from trustser.encoders.module_encoder import as_encoder
from trustser.encoders.registry import REGISTRY, Registration
from trustser.gates.thresholds import load_gates
from trustser.pillars import declared_metrics
from trustser.pillars.protocol import names_corpus, training_data_overlap
from trustser.testing.examples import PlainFrameEncoder
from trustser.vocabulary import Verdict

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "declared, corpus, named",
    [
        ("AbstractTTS/IEMOCAP", "iemocap", True),
        ("iemocap_audio", "iemocap", True),
        ("CREMA-D", "cremad", True),
        ("someone/crema-d-parquet", "cremad", True),
        ("MSP-Podcast", "msp_podcast", True),
        ("emo-db", "emodb", True),
        ("synthetic", "synthetic", True),
        ("someone/synthetic-speech", "synthetic", False),  # only a corpus's known spellings match inside a name
        ("librispeech_asr", "iemocap", False),
        ("msp-improv", "msp_podcast", False),
    ],
)
def test_a_declared_dataset_names_the_corpus_by_its_spellings(declared, corpus, named):
    assert names_corpus(declared, corpus) is named


def test_a_model_trained_on_the_audited_corpus_fails_the_gate_naming_it_and_one_trained_elsewhere_passes():
    gate = load_gates(ROOT / "thresholds.toml", declared_metrics())["protocol.declared_training_data"]
    overlap = training_data_overlap(("librispeech_asr", "AbstractTTS/IEMOCAP"), "iemocap")
    judgement = gate.judge(len(overlap.overlapping), "wav2vec2 on iemocap", note=overlap.note)
    assert judgement.verdict is Verdict.FAIL
    assert "declares training on AbstractTTS/IEMOCAP: the audited corpus (iemocap)" in judgement.message
    elsewhere = training_data_overlap(("librispeech_asr",), "iemocap")
    assert gate.judge(len(elsewhere.overlapping), "x").verdict is Verdict.PASS and "not on iemocap" in elsewhere.note
    assert training_data_overlap((), "iemocap").note == "declares no training data"


def test_a_registration_declares_what_its_encoder_was_trained_on(monkeypatch):
    mfcc = REGISTRY.registered()["mfcc"]
    declared = Registration("mfcc", mfcc.factory, mfcc.checked_as, ("synthetic",))
    monkeypatch.setitem(REGISTRY.registrations, "mfcc", declared)
    assert create("mfcc").trained_on == ("synthetic",)
    monkeypatch.undo()
    assert create("mfcc").trained_on == ()


def test_a_team_module_declares_it_with_an_attribute_checked_for_its_type():
    module = PlainFrameEncoder()
    module.trained_on = ["iemocap", "cremad"]
    assert as_encoder(module, spec="torch:team:enc").trained_on == ("iemocap", "cremad")
    module.trained_on = 7
    with pytest.raises(ValueError, match="torch:team:enc: trained_on must be a dataset name or a list of them"):
        as_encoder(module, spec="torch:team:enc")


def test_a_checkpoints_model_card_declares_its_datasets(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert model_card_datasets(str(tmp_path)) == ()  # no card
    card = "---\nlicense: mit\ndatasets:\n- AbstractTTS/IEMOCAP\n- librispeech_asr\n---\n# A model\n"
    (tmp_path / "README.md").write_text(card)
    assert model_card_datasets(str(tmp_path)) == ("AbstractTTS/IEMOCAP", "librispeech_asr")
    (tmp_path / "README.md").write_text("---\ndatasets: cremad\n---\n")
    assert model_card_datasets(str(tmp_path)) == ("cremad",)
    (tmp_path / "README.md").write_text("# no front matter\n")
    assert model_card_datasets(str(tmp_path)) == ()
