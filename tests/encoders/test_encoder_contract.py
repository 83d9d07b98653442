"""Every registered encoder meets the `Encoder` contract of `trustser.testing`, one test per rule.

The encoders are those the registry discovers, each checked as the examples its registration declares
(`register(name, checked_as=[...])`): plain specs, or examples that first save a tiny random checkpoint
(trustser.encoders.tiny_checkpoints) into a scratch directory and load it through the registry, as users
load real ones. s3prl's need the optional package and a local checkpoint, and skip saying which is
missing. A registration without examples fails: a new encoder cannot escape the contract.
"""

import pytest

from trustser.encoders import create, registry
from trustser.specs.registrations import Unavailable, unbuildable
from trustser.testing import ENCODER_RULES, encoder_checks

pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")

EXAMPLES = {example.label: example for entry in registry.registered().values() for example in entry.checked_as}


def test_every_registered_encoder_can_be_built_in_tests():
    problem = unbuildable(registry.registered(), "encoder", "e.g. @register('name', checked_as=['name'])")
    assert not problem, problem


def test_a_registration_without_examples_fails_that_test(monkeypatch):
    monkeypatch.setattr(registry.REGISTRY, "registrations", registry.registered())
    registry.register("unlisted")(lambda argument: None)
    with pytest.raises(AssertionError, match=r"\['unlisted'\] have no way to be built in tests"):
        test_every_registered_encoder_can_be_built_in_tests()


def built_spec(label: str, scratch) -> str:
    """The example's spec, its files written into `scratch`; skipped, saying why, where it cannot be built here."""
    try:
        return EXAMPLES[label].build(scratch)
    except Unavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """`build(label)` -> the spec of that example and its encoder, each built once per module."""
    built = {}

    def encoder(label: str):
        if label not in built:
            spec = built_spec(label, tmp_path_factory.mktemp("example"))
            built[label] = spec, create(spec)
        return built[label]

    return encoder


@pytest.mark.parametrize("rule", ENCODER_RULES)
@pytest.mark.parametrize("label", EXAMPLES)
def test_encoder_meets_the_contract(label, rule, build):
    dict(encoder_checks(build(label)[1]))[rule]()


@pytest.mark.parametrize("label", EXAMPLES)
def test_fingerprint_is_the_same_for_a_fresh_build(label, build):
    # cached features are found again in the next run only if a fresh instance fingerprints the same
    spec, encoder = build(label)
    assert encoder.fingerprint() == create(spec).fingerprint()
