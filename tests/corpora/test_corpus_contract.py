"""Every registered corpus meets the `Corpus` contract of `trustser.testing`, one test per rule.

The corpora are those the registry discovers, each checked as the examples its registration declares:
a dataset read as it ships on the tiny sample of its layout its module writes (`register_dataset(...,
sample=write_sample)`, into a scratch directory: no fixture files needed), the synthetic one on a small
spec. A registration without examples fails: a new corpus cannot escape the contract.
"""

import pytest

from trustser.corpora import create, registry
from trustser.specs.registrations import Unavailable, unbuildable
from trustser.testing import CORPUS_RULES, corpus_checks

EXAMPLES = {example.label: example for entry in registry.registered().values() for example in entry.checked_as}


def test_every_registered_corpus_can_be_built_in_tests():
    problem = unbuildable(registry.registered(), "corpus", "or register_dataset(..., sample=write_sample)")
    assert not problem, problem


def test_a_registration_without_examples_fails_that_test(monkeypatch):
    monkeypatch.setattr(registry.REGISTRY, "registrations", registry.registered())
    registry.register("unlisted")(lambda argument, cache_root: None)
    with pytest.raises(AssertionError, match=r"\['unlisted'\] have no way to be built in tests"):
        test_every_registered_corpus_can_be_built_in_tests()


def test_a_dataset_registered_without_a_sample_fails_that_test(monkeypatch):
    from trustser.corpora.files import register_dataset

    monkeypatch.setattr(registry.REGISTRY, "registrations", registry.registered())
    register_dataset("unsampled", codes={"N": "neutral"}, candidates=lambda root: ([], []), folding="speaker")
    with pytest.raises(AssertionError, match=r"\['unsampled'\] have no way to be built in tests"):
        test_every_registered_corpus_can_be_built_in_tests()


def built_spec(label: str, scratch) -> str:
    """The example's spec, its files written into `scratch`; skipped, saying why, where it cannot be built here."""
    try:
        return EXAMPLES[label].build(scratch)
    except Unavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """`build(label)` -> the corpus of that example, created once per module in a module-wide cache."""
    cache, built = tmp_path_factory.mktemp("cache"), {}

    def corpus(label: str):
        if label not in built:
            built[label] = create(built_spec(label, tmp_path_factory.mktemp("example")), cache)
        return built[label]

    return corpus


@pytest.mark.parametrize("rule", CORPUS_RULES)
@pytest.mark.parametrize("label", EXAMPLES)
def test_corpus_meets_the_contract(label, rule, build):
    dict(corpus_checks(build(label)))[rule]()
