"""Shared by the protocol pillar's tests: one small synthetic corpus (4 speakers x 4 sentences x 4
emotions, espeak-ng), synthesised once per session into a cache of its own."""

from __future__ import annotations

import pytest

from trustser.corpora import create

SMALL = "synthetic:speakers=4,sentences=4"


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory):
    return tmp_path_factory.mktemp("protocol-cache")


@pytest.fixture(scope="session")
def small_corpus(cache_root):
    return create(SMALL, cache_root)
