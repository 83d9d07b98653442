"""Every registered finished-model format (`--model PREFIX:...`) keeps what the audit relies on, on the tiny
test models its registration declares (`register_format(prefix, load, usage=..., checked_as=[...])`).

Each test model is written into a scratch directory and loaded through `load_finished_model`, the path
`--model` takes: it is a `FinishedModel` whose labels map onto the audit's emotions, whose encoder keeps
the encoder contract and whose head gives one log-probability per emotion on a padded batch, with
gradients reaching the waveform. A format registered without a test model fails, as does a spec it
cannot load that raises anything but the errors the audit reports as a bad spec.
"""

from __future__ import annotations

import pytest
import torch

from trustser.models.finished import formats
from trustser.models.finished.formats import load_finished_model
from trustser.models.finished.model import FinishedModel
from trustser.models.head import WaveformClassifier
from trustser.specs.registrations import Unavailable, unbuildable
from trustser.testing import check_encoder

EMOTIONS = ("neutral", "happy", "sad", "angry")
SPEC_ERRORS = (KeyError, ValueError, FileNotFoundError, ImportError, OSError)  # what the audit reports as a bad spec
EXAMPLES = {
    example.label: (prefix, example) for prefix, entry in formats.registered().items() for example in entry.checked_as
}
PREFIXES = list(formats.registered())


def test_every_registered_format_can_be_built_in_tests():
    problem = unbuildable(formats.registered(), "model format", "a tiny model of the format")
    assert not problem, problem


def test_a_format_registered_without_a_test_model_fails_that_test(monkeypatch):
    monkeypatch.setattr(formats, "_REGISTERED", dict(formats.registered()))
    formats.register_format("unlisted", lambda spec, emotions, overrides: None, usage="unlisted:<file>")
    with pytest.raises(AssertionError, match=r"\['unlisted'\] have no way to be built in tests"):
        test_every_registered_format_can_be_built_in_tests()


def test_an_unknown_kind_names_every_registered_prefix():
    with pytest.raises(ValueError, match=r"^--model takes .*, got 'tflite:m'$") as raised:
        load_finished_model("tflite:m", EMOTIONS, {})
    for entry in formats.registered().values():
        assert entry.usage.startswith(f"{entry.prefix}:") and entry.usage in str(raised.value)


def built_spec(label: str, scratch) -> str:
    """The example's spec, its files written into `scratch`; skipped, saying why, where it cannot be built here."""
    try:
        return EXAMPLES[label][1].build(scratch)
    except Unavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture(scope="module")
def load(tmp_path_factory):
    """`load(label)` -> the spec of that test model and the finished model, each loaded once per module."""
    loaded = {}

    def finished(label: str):
        if label not in loaded:
            spec = built_spec(label, tmp_path_factory.mktemp("example"))
            loaded[label] = spec, load_finished_model(spec, EMOTIONS, {})
        return loaded[label]

    return finished


def batch(sample_rate: int) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([sample_rate, sample_rate * 6 // 10, sample_rate * 37 // 100])
    waves = 0.05 * torch.randn(len(lengths), int(lengths.max()), generator=torch.Generator().manual_seed(0))
    return waves * (torch.arange(waves.shape[1])[None, :] < lengths[:, None]), lengths


@pytest.mark.parametrize("label", EXAMPLES)
def test_the_test_model_loads_through_its_prefix(label, load):
    prefix, _ = EXAMPLES[label]
    spec, finished = load(label)
    assert spec.startswith(f"{prefix}:"), f"{label} built {spec!r}, not a {prefix}: spec"
    assert isinstance(finished, FinishedModel) and finished.spec == spec
    assert isinstance(finished.id2label, dict) and all(isinstance(label, str) for label in finished.id2label.values())


@pytest.mark.parametrize("label", EXAMPLES)
def test_its_labels_map_to_the_audits_emotions(label, load):
    _, finished = load(label)
    groups = finished.head.classifier.groups
    assert len(groups) == len(EMOTIONS) and all(groups), groups
    assert all(index in finished.id2label for group in groups for index in group), (groups, finished.id2label)


@pytest.mark.parametrize("label", EXAMPLES)
def test_it_gives_one_log_probability_per_emotion_on_a_padded_batch(label, load):
    _, finished = load(label)
    model = WaveformClassifier(finished.encoder, finished.head).eval()
    waves, lengths = batch(finished.encoder.sample_rate)
    waves.requires_grad_(True)
    log_probabilities = model(waves, lengths)
    assert log_probabilities.shape == (len(lengths), len(EMOTIONS))
    assert torch.isfinite(log_probabilities).all() and (log_probabilities.logsumexp(-1) <= 1e-5).all()
    if finished.encoder.differentiable:
        log_probabilities[:, 0].sum().backward()
        assert torch.isfinite(waves.grad).all() and waves.grad.abs().sum() > 0


@pytest.mark.parametrize("label", EXAMPLES)
def test_its_encoder_meets_the_encoder_contract(label, load):
    check_encoder(load(label)[1].encoder)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_source_that_is_not_there_is_a_bad_spec_naming_it(prefix, tmp_path):
    spec = f"{prefix}:{tmp_path / 'no-such-model'}"
    with pytest.raises(SPEC_ERRORS) as raised:
        load_finished_model(spec, EMOTIONS, {})
    assert str(tmp_path / "no-such-model") in str(raised.value)
