"""A team's encoder through `--backbone torch:package.module:factory` or an entry point of the group
`trustser.encoders`: wrapped to the `Encoder` interface, fingerprinted by its weights and code, and every
mistake reported naming the spec and what is missing."""

from __future__ import annotations

import sys

import pytest
import torch

from tests.encoders.plain_encoder import FramePowers
from tests.plugin_distribution import write_distribution
from trustser.encoders import available, create
from trustser.encoders.base import Encoder
from trustser.errors import SpecError
from trustser.testing import check_encoder

SPEC = "torch:tests.encoders.plain_encoder:build"


def test_a_plain_module_is_wrapped_with_its_declared_attributes():
    encoder = create(SPEC)
    assert isinstance(encoder, Encoder) and isinstance(encoder.module, FramePowers)
    assert (encoder.name, encoder.sample_rate, encoder.num_layers, encoder.hidden_size) == (SPEC, 16000, 2, 6)
    assert encoder.min_seconds == 0.025 and encoder.differentiable
    wave = torch.randn(1, 16000)
    layers, frame_lengths = encoder(wave, torch.tensor([16000]))
    expected, _ = FramePowers()(wave, torch.tensor([16000]))
    torch.testing.assert_close(layers, expected, rtol=0, atol=0)
    check_encoder(encoder)


def test_the_fingerprint_follows_the_weights():
    assert create(SPEC).fingerprint() == create(SPEC).fingerprint()
    assert create(f"{SPEC}:1").fingerprint() != create(SPEC).fingerprint()  # seed 1: other weights


def test_an_encoder_subclass_is_used_as_it_is(tmp_path, monkeypatch):
    (tmp_path / "team_encoder.py").write_text(
        "from trustser.encoders.mfcc import create_mfcc\n\ndef build():\n    return create_mfcc(None)\n"
    )
    monkeypatch.chdir(tmp_path)  # imported from the working directory, as from a team's repository root
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry not in ("", str(tmp_path))])
    encoder = create("torch:team_encoder:build")
    assert type(encoder).__name__ == "MFCCEncoder" and encoder.fingerprint() == create("mfcc").fingerprint()
    sys.modules.pop("team_encoder")


@pytest.mark.parametrize(
    "spec, message",
    [
        ("torch:tests.encoders.plain_encoder", "expected torch:<package.module>:<factory>"),
        ("torch:no_such_team_module:build", "cannot import module 'no_such_team_module'"),
        ("torch:tests.encoders.plain_encoder:missing", "has no attribute 'missing'"),
        ("torch:tests.encoders.plain_encoder:WINDOW", "has a non-callable 'WINDOW'"),
        ("torch:tests.encoders.plain_encoder:build:x", r"build\(\) raised ValueError: invalid literal"),
        ("torch:torch.nn:Identity", "Identity lacks the encoder attribute\\(s\\) sample_rate, num_layers, hidden_size"),
        ("torch:builtins:dict", "the factory returned dict, not a torch.nn.Module"),
    ],
)
def test_a_bad_spec_names_itself_and_what_is_missing(spec, message):
    with pytest.raises(SpecError, match=message) as raised:
        create(spec)
    assert str(raised.value).startswith(spec)


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A distribution declaring encoders as entry points, as `pip install team-plugin` would leave it."""
    write_distribution(
        tmp_path,
        "team_plugin",
        {
            "trustser.encoders": {
                "frame_powers": "tests.encoders.plain_encoder:build",
                "not_an_encoder": "builtins:dict",
                "mfcc": "builtins:dict",
            }
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def test_an_entry_point_builds_the_encoder_it_names(installed_plugin):
    assert {"frame_powers", "mfcc", "torch"} <= set(available())
    encoder = create("frame_powers")
    assert isinstance(encoder.module, FramePowers) and encoder.name == "frame_powers"
    seeded = create("frame_powers:1")  # the argument reaches the factory
    torch.testing.assert_close(seeded.module.projection.weight, FramePowers(1).projection.weight, rtol=0, atol=0)
    assert seeded.fingerprint() != encoder.fingerprint()


def test_a_plugin_cannot_replace_a_built_in_encoder(installed_plugin):
    assert type(create("mfcc")).__name__ == "MFCCEncoder"


def test_a_bad_entry_point_names_itself(installed_plugin):
    with pytest.raises(SpecError, match=r"not_an_encoder \(entry point trustser.encoders\): the factory returned dict"):
        create("not_an_encoder")
    with pytest.raises(SpecError, match="unknown encoder 'no_such_plugin'; known: .*frame_powers"):
        create("no_such_plugin")


def test_two_distributions_claiming_one_name_for_different_code_are_refused(installed_plugin, tmp_path, monkeypatch):
    other = {"trustser.encoders": {"frame_powers": "tests.encoders.plain_encoder:FramePowers"}}
    write_distribution(tmp_path / "other", "other_plugin", other)
    monkeypatch.syspath_prepend(str(tmp_path / "other"))
    with pytest.raises(SpecError, match="'frame_powers' of group 'trustser.encoders' is declared more than once"):
        create("frame_powers")


def test_the_same_declaration_seen_twice_is_one(installed_plugin, tmp_path, monkeypatch):
    same = {"trustser.encoders": {"frame_powers": "tests.encoders.plain_encoder:build"}}
    write_distribution(tmp_path / "again", "team_plugin_copy", same)
    monkeypatch.syspath_prepend(str(tmp_path / "again"))
    assert isinstance(create("frame_powers").module, FramePowers)
