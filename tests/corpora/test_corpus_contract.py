"""Every registered corpus meets the `Corpus` contract of `trustser.testing`, one test per rule.

Corpora read from a dataset directory run on the fixture corpora (fixtures/corpora, as the adapter
tests use them), the synthetic one on a small spec. A registered name without an entry in SPECS
fails: a new corpus cannot escape the contract by being left out of this table.
"""

import pytest

from tests.corpora.conftest import FIXTURES
from trustser.corpora import available, create
from trustser.testing import CORPUS_RULES, corpus_checks

# registered name -> the specs it is checked as; {fixtures} is fixtures/corpora
SPECS = {
    "cremad": ["cremad:{fixtures}/cremad"],
    "emodb": ["emodb:{fixtures}/emodb"],
    "iemocap": ["iemocap:{fixtures}/iemocap"],
    "msp_improv": ["msp_improv:{fixtures}/msp_improv"],
    "msp_podcast": ["msp_podcast:{fixtures}/msp_podcast"],
    "ravdess": ["ravdess:{fixtures}/ravdess"],
    "manifest": ["manifest:{fixtures}/manifest/manifest.csv", "manifest:{fixtures}/manifest/manifest_split.tsv"],
    "synthetic": ["synthetic:speakers=4,sentences=2"],
}
CHECKED = [spec for name in available() for spec in SPECS.get(name, [])]


def test_every_registered_corpus_is_checked_here():
    unbuildable = sorted(set(available()) - set(SPECS))
    assert not unbuildable, (
        f"registered corpus(es) {unbuildable} have no way to be built in tests: add them to "
        "SPECS in tests/corpora/test_corpus_contract.py so the contract test covers them"
    )
    assert set(SPECS) <= set(available()), f"SPECS names unregistered corpora {sorted(set(SPECS) - set(available()))}"


def test_a_registration_left_out_of_specs_fails_that_test(monkeypatch):
    from trustser.corpora import registry

    monkeypatch.setitem(registry._FACTORIES, "unlisted", lambda argument, cache_root: None)
    with pytest.raises(AssertionError, match=r"\['unlisted'\] have no way to be built in tests"):
        test_every_registered_corpus_is_checked_here()


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """`build(template)` -> its corpus, created once per module in a module-wide cache."""
    cache, built = tmp_path_factory.mktemp("cache"), {}

    def corpus(template: str):
        if template not in built:
            built[template] = create(template.format(fixtures=FIXTURES), cache)
        return built[template]

    return corpus


@pytest.mark.parametrize("rule", CORPUS_RULES)
@pytest.mark.parametrize("template", CHECKED)
def test_corpus_meets_the_contract(template, rule, build):
    dict(corpus_checks(build(template)))[rule]()
