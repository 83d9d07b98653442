"""Shared by the corpus adapter tests: where the fixture corpora live and a loader with its own cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from trustser.corpora import create

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "corpora"


@pytest.fixture(scope="module")
def load(tmp_path_factory):
    """`load("cremad")` -> the fixture corpus of that name, decoded into a module-wide tmp cache."""
    cache = tmp_path_factory.mktemp("cache")

    def loader(name: str, path: str | None = None, options: str = "", on_bad_audio: str = "skip"):
        spec = f"{name}:{FIXTURES / (path or name)}{options}"
        return create(spec, cache, on_bad_audio)

    return loader


def by_id(corpus) -> dict:
    return {u.id: u for u in corpus.utterances}


def test_fold(folds, speaker: str) -> int:
    """Index of the fold whose test set holds `speaker` (exactly one does)."""
    owners = [f.index for f in folds if speaker in f.test_speakers]
    assert len(owners) == 1, (speaker, owners)
    return owners[0]


test_fold.__test__ = False  # a helper, not a test
