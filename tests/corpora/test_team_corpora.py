"""A team's corpus through an entry point of the group `trustser.corpora`: the docs' `ToneCorpus`, declared
by a distribution as `team_tones = my_plugin:ToneCorpus`, is built by its name like a built-in corpus."""

from __future__ import annotations

import sys

import pytest

from tests.doc_examples import write_python_file
from tests.plugin_distribution import write_distribution
from trustser.corpora import available, create
from trustser.errors import SpecError
from trustser.testing import check_corpus


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    write_python_file(tmp_path, "my_plugin.py")
    write_distribution(
        tmp_path,
        "team_plugin",
        {"trustser.corpora": {"team_tones": "my_plugin:ToneCorpus", "not_a_corpus": "builtins:dict"}},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("my_plugin", None)


def test_an_entry_point_builds_the_corpus_it_names(installed_plugin):
    assert {"team_tones", "synthetic"} <= set(available())
    corpus = create("team_tones", installed_plugin / "cache")
    assert type(corpus).__name__ == "ToneCorpus" and len(corpus) == 32
    check_corpus(corpus)


def test_an_argument_reaches_the_factory_and_its_failure_names_the_spec(installed_plugin):
    with pytest.raises(SpecError, match=r"^team_tones:x: ToneCorpus\(\) raised TypeError"):
        create("team_tones:x", installed_plugin / "cache")


def test_a_bad_entry_point_names_itself(installed_plugin):
    with pytest.raises(SpecError, match=r"not_a_corpus \(entry point trustser.corpora\): the factory returned dict"):
        create("not_a_corpus", installed_plugin / "cache")
    with pytest.raises(SpecError, match="unknown corpus 'no_such_corpus'; known: .*team_tones"):
        create("no_such_corpus", installed_plugin / "cache")
