"""`--model torch:package.module:factory`: the docs' team model (docs/plugins.md) loaded through its protocol
(sample_rate, labels, forward to logits, hidden states on request) computes what the model computes, keeps
the encoder contract, is fingerprinted by its weights and code, and every broken protocol is named."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from tests.doc_examples import write_python_file
from trustser.errors import SpecError
from trustser.models.finished.formats import load_finished_model
from trustser.models.head import WaveformClassifier
from trustser.testing import check_encoder

ROOT = Path(__file__).resolve().parents[2]
EMOTIONS = ("neutral", "happy", "sad", "angry")
SPEC = "torch:team_model:build"

BROKEN = """
import torch
from torch import nn

from team_model import TeamSER


def seeded(seed):
    torch.manual_seed(int(seed))
    return TeamSER()


def no_sample_rate():
    model = TeamSER()
    model.sample_rate = None
    return model


def no_labels():
    model = TeamSER()
    model.labels = "neu,hap"
    return model


def repeated_labels():
    model = TeamSER()
    model.labels = ["neu", "neu"]
    return model


def too_few_logits():
    model = TeamSER()  # four logits
    model.labels = ["neu", "hap", "sad", "ang", "fear"]
    return model


def frame_level_hidden_states():
    class FrameLevel(TeamSER):
        def forward(self, waveforms, lengths, output_hidden_states=False):
            logits = super().forward(waveforms, lengths)
            return (logits, (waveforms[:, None, :],)) if output_hidden_states else logits

    return FrameLevel()


def logits_only_tuple():
    class Logits(TeamSER):
        def forward(self, waveforms, lengths, output_hidden_states=False):
            return super().forward(waveforms, lengths)

    return Logits()


def raising_forward():
    class Raising(TeamSER):
        def forward(self, waveforms, lengths):
            raise RuntimeError("weights not loaded")

    return Raising()


def not_a_module():
    return {"sample_rate": 16000}


def calm_and_bored():
    model = TeamSER()
    model.labels = ["calm", "bored", "sad", "ang"]
    return model
"""


@pytest.fixture
def team_repo(tmp_path, monkeypatch):
    """The team's repository as the working directory, holding the docs' team_model.py (and broken variants)."""
    write_python_file(tmp_path, "team_model.py")
    (tmp_path / "variants.py").write_text(textwrap.dedent(BROKEN))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry not in ("", str(tmp_path))])
    yield tmp_path
    for name in ("team_model", "variants"):
        sys.modules.pop(name, None)


def test_the_audited_model_computes_the_models_own_log_probabilities(team_repo):
    finished = load_finished_model(SPEC, EMOTIONS, {})
    assert finished.id2label == {0: "neu", 1: "hap", 2: "sad", 3: "ang"}
    from team_model import build

    model, audited = build(), WaveformClassifier(finished.encoder, finished.head).eval()
    waves, lengths = torch.randn(3, 16000) * 0.1, torch.tensor([16000, 9000, 4000])
    waves[1, 9000:], waves[2, 4000:] = 0, 0
    with torch.no_grad():
        torch.testing.assert_close(audited(waves, lengths), torch.log_softmax(model(waves, lengths), -1))
        layers, frame_lengths = finished.encoder(waves, lengths)
        log_power, pooled = model(waves, lengths, output_hidden_states=True)[1]
    assert layers.shape == (3, 3, 1, 201) and frame_lengths.tolist() == [1, 1, 1]  # 2 hidden states, then logits
    torch.testing.assert_close(layers[:, 1, 0, :32], pooled)
    assert not layers[:, 1, 0, 32:].any() and not layers[:, 2, 0, 4:].any()  # zero-padded to the widest


def test_the_gradient_reaches_the_waveform(team_repo):
    finished = load_finished_model(SPEC, EMOTIONS, {})
    wave = (0.1 * torch.randn(1, 8000)).requires_grad_(True)
    WaveformClassifier(finished.encoder, finished.head)(wave, torch.tensor([8000]))[0, 2].backward()
    assert torch.isfinite(wave.grad).all() and (wave.grad != 0).float().mean() > 0.9


def test_the_model_as_an_encoder_keeps_the_contract(team_repo):
    check_encoder(load_finished_model(SPEC, EMOTIONS, {}).encoder)


def test_the_fingerprint_follows_weights_and_code(team_repo):
    fingerprint = lambda spec: load_finished_model(spec, EMOTIONS, {}).encoder.fingerprint()  # noqa: E731
    assert fingerprint("torch:variants:seeded:0") == fingerprint("torch:variants:seeded:0")
    assert fingerprint("torch:variants:seeded:1") != fingerprint("torch:variants:seeded:0")
    before = fingerprint(SPEC)
    (team_repo / "team_model.py").write_text((team_repo / "team_model.py").read_text() + "\n# retrained\n")
    sys.modules.pop("team_model")
    assert fingerprint(SPEC) != before  # same weights, changed code


def test_labels_merge_and_override_as_for_hugging_face_models(team_repo):
    finished = load_finished_model("torch:variants:calm_and_bored", EMOTIONS, {"calm": "neutral", "bored": "happy"})
    assert finished.head.classifier.groups == [[0], [1], [2], [3]]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("torch:team_model", "expected torch:<package.module>:<factory>"),
        ("torch:no_such_team_module:build", "cannot import module 'no_such_team_module'"),
        ("torch:team_model:missing", "has no attribute 'missing'"),
        ("torch:variants:not_a_module", "the factory returned dict, not a torch.nn.Module"),
        ("torch:variants:no_sample_rate", "TeamSER needs a `sample_rate` attribute, a positive int"),
        ("torch:variants:no_labels", "TeamSER needs a `labels` attribute, a list of label names"),
        ("torch:variants:repeated_labels", "at least two distinct labels"),
        ("torch:variants:too_few_logits", r"returned logits \(1, 4\), expected \[batch=1, len\(labels\)=5\]"),
        ("torch:variants:frame_level_hidden_states", r"hidden state 0 as \(1, 1, 16000\), expected \[batch=1, dim\]"),
        ("torch:variants:logits_only_tuple", r"output_hidden_states=True\) must return \(logits, hidden_states\)"),
        ("torch:variants:raising_forward", "raised RuntimeError: weights not loaded"),
        ("torch:variants:calm_and_bored", r"no output of the model stands for \['neutral', 'happy'\]"),
    ],
)
def test_a_broken_protocol_names_the_spec_and_what_is_missing(team_repo, spec, message):
    with pytest.raises(SpecError, match=message) as raised:
        load_finished_model(spec, EMOTIONS, {})
    assert str(raised.value).startswith(spec)


def test_a_broken_spec_is_a_usage_error_before_any_test(team_repo):
    (team_repo / "thresholds.toml").write_text((ROOT / "thresholds.toml").read_text())
    for option, spec in (("--model", "torch:variants:no_labels"), ("--backbone", "torch:no_such_team_module:build")):
        done = subprocess.run(
            [sys.executable, "-m", "pytest", str(ROOT / "trust_tests"), "-p", "no:cacheprovider", "-p"]
            + ["tests.planted.tones", "--corpus", "tones:speakers=4,per_emotion=2", option, spec]
            + ["--trust-cache", str(team_repo / "cache"), "--rootdir", str(team_repo)],
            cwd=team_repo,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 4, done.stdout[-2000:] + done.stderr[-2000:]
        assert spec in done.stderr and ("labels" in done.stderr or "cannot import" in done.stderr), done.stderr


def test_an_unknown_model_kind_names_the_known_kinds():
    with pytest.raises(SpecError, match=r"--model takes .*hf:<.*> or torch:<package.module>:<factory>, got 'tflite:m'"):
        load_finished_model("tflite:m", EMOTIONS, {})
