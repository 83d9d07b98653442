"""Every registered encoder meets the `Encoder` contract of `trustser.testing`, one test per rule.

Encoders that load a checkpoint run on tiny random ones (tiny_checkpoints.py), through the registry
as users load real ones; s3prl's need the optional package and a local checkpoint, and skip saying
which is missing. A registered name without an entry in SPECS fails: a new encoder cannot escape
the contract by being left out of this table.
"""

import os
import re

import pytest

from tests.encoders.tiny_checkpoints import tiny_checkpoints  # noqa: F401 (fixture)
from trustser.encoders import available, create
from trustser.testing import ENCODER_RULES, encoder_checks

pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")

HF_FAMILIES = ("wav2vec2_group", "wav2vec2_layer", "hubert", "wavlm", "data2vec_audio", "whisper")
# registered name -> the specs it is checked as: {family} is that tiny checkpoint's directory,
# {s3prl:upstream} a real checkpoint named by TRUSTSER_S3PRL_<UPSTREAM>_CKPT
SPECS = {
    "mfcc": ["mfcc"],
    "egemaps": ["egemaps"],
    "ge2e": ["ge2e"],
    "ssl_shaped": ["ssl_shaped"],
    "hf": [f"hf:{{{family}}}" for family in HF_FAMILIES],
    "wav2vec2_0": ["wav2vec2_0:{wav2vec2_group}"],
    "wavlm": ["wavlm:{wavlm}"],
    "hubert": ["hubert:{hubert}"],
    "whisper_tiny": ["whisper_tiny:{whisper}"],
    "whisper_base": ["whisper_base:{whisper},window=trimmed"],  # the study's trimmed windows
    "whisper_small": ["whisper_small:{whisper}"],
    "s3prl": ["s3prl:apc={s3prl:apc}"],
    "apc": ["apc:{s3prl:apc}"],
    "tera": ["tera:{s3prl:tera}"],
    "torch": ["torch:tests.encoders.plain_encoder:build"],  # a team's plain nn.Module (--backbone torch:...)
}
CHECKED = [spec for name in available() for spec in SPECS.get(name, [])]


def test_every_registered_encoder_is_checked_here():
    unbuildable = sorted(set(available()) - set(SPECS))
    assert not unbuildable, (
        f"registered encoder(s) {unbuildable} have no way to be built in tests: add them to "
        "SPECS in tests/encoders/test_encoder_contract.py so the contract test covers them"
    )
    assert set(SPECS) <= set(available()), f"SPECS names unregistered encoders {sorted(set(SPECS) - set(available()))}"


def test_a_registration_left_out_of_specs_fails_that_test(monkeypatch):
    from trustser.encoders import registry

    monkeypatch.setitem(registry._FACTORIES, "unlisted", lambda argument: None)
    with pytest.raises(AssertionError, match=r"\['unlisted'\] have no way to be built in tests"):
        test_every_registered_encoder_is_checked_here()


def resolve(template: str, checkpoints: dict) -> str:
    def directory(match: re.Match) -> str:
        key = match.group(1)
        if not key.startswith("s3prl:"):
            return str(checkpoints[key])
        pytest.importorskip("s3prl", reason="s3prl is an optional extra: pip install trustser[s3prl]")
        variable = f"TRUSTSER_S3PRL_{key.removeprefix('s3prl:').upper()}_CKPT"
        if not os.environ.get(variable):
            pytest.skip(f"set {variable} to a local checkpoint to check {template}")
        return os.environ[variable]

    return re.sub(r"\{([^}]+)\}", directory, template)


@pytest.fixture(scope="module")
def build(tiny_checkpoints):
    """`build(template)` -> its encoder, created once per module."""
    built = {}

    def encoder(template: str):
        if template not in built:
            built[template] = create(resolve(template, tiny_checkpoints))
        return built[template]

    return encoder


@pytest.mark.parametrize("rule", ENCODER_RULES)
@pytest.mark.parametrize("template", CHECKED)
def test_encoder_meets_the_contract(template, rule, build):
    dict(encoder_checks(build(template)))[rule]()


@pytest.mark.parametrize("template", CHECKED)
def test_fingerprint_is_the_same_for_a_fresh_build(template, build, tiny_checkpoints):
    # cached features are found again in the next run only if a fresh instance fingerprints the same
    assert build(template).fingerprint() == create(resolve(template, tiny_checkpoints)).fingerprint()
