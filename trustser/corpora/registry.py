"""Name -> corpus factory. Every module in `trustser.corpora` registers itself on import; installed
distributions add theirs as entry points of the group `trustser.corpora` (`mycorpus = team_pkg.data:build`),
called as `build()`, or `build(argument)` when the spec has one. Built-in names come first.

A spec is `name` or `name:argument`, e.g. `synthetic`, `synthetic:speakers=8,sentences=20,seed=0`,
`cremad:/data/CREMA-D`. The factory receives the argument string (or None) and the cache root; a
corpus read from audio files (`register(name, reads_files=True)`) also receives the bad-data policy.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Callable

from trustser.corpora.audio import BadAudio
from trustser.corpora.base import BadData, Corpus
from trustser.errors import SpecError, spec_errors
from trustser.specs.team_code import build, entry_point_factory, entry_point_names

ENTRY_POINTS = "trustser.corpora"

Factory = Callable[[str | None, Path], Corpus]
_FACTORIES: dict[str, Factory] = {}
_READS_FILES: set[str] = set()
_NOT_CORPUS_MODULES = {"base", "registry", "folds", "espeak", "audio", "emotions", "files", "summary"}


def register(name: str, reads_files: bool = False) -> Callable[[Factory], Factory]:
    def decorator(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        if reads_files:
            _READS_FILES.add(name)
        return factory

    return decorator


def _discover() -> None:
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):  # this package's modules, not importing it
        if module.name not in _NOT_CORPUS_MODULES and not module.name.startswith("_"):
            importlib.import_module(f"trustser.corpora.{module.name}")


def available() -> list[str]:
    """Built-in names and the names of installed plugins (whose code is not imported here)."""
    _discover()
    return sorted({*_FACTORIES, *entry_point_names(ENTRY_POINTS)})


def create(spec: str, cache_root: Path, on_bad_audio: str = "skip") -> Corpus:
    """The corpus a spec names; `on_bad_audio` (skip | fail) applies to corpora read from files.

    A spec that cannot be built (unknown, a bad option, a missing directory or manifest, a team's failing
    code) raises `SpecError`; bad audio under `fail` raises `BadAudio` or `BadData`, as the files are read.
    """
    name, _, argument = spec.partition(":")
    with spec_errors(BadAudio, BadData):
        _discover()
        if name not in _FACTORIES:
            return _plugin_corpus(spec)
        if name in _READS_FILES:
            return _FACTORIES[name](argument or None, Path(cache_root), on_bad_audio=on_bad_audio)
        return _FACTORIES[name](argument or None, Path(cache_root))


def _plugin_corpus(spec: str) -> Corpus:
    name, _, argument = spec.partition(":")
    factory = entry_point_factory(ENTRY_POINTS, name)
    if factory is None:
        raise SpecError(f"unknown corpus {spec!r}; known: {', '.join(available())}")
    corpus = build(factory, *([argument] if argument else []), spec=spec)
    if not isinstance(corpus, Corpus):
        returned = type(corpus).__name__
        raise SpecError(f"{spec} (entry point {ENTRY_POINTS}): the factory returned {returned}, not a Corpus")
    return corpus


def parse_options(argument: str | None, defaults: dict[str, int]) -> dict[str, int]:
    """Parse `key=value,key=value` against integer defaults, naming any unknown key."""
    options = dict(defaults)
    if not argument:
        return options
    for item in argument.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in defaults:
            raise ValueError(f"unknown corpus option {item!r}; known: {', '.join(defaults)}")
        try:
            options[key] = int(value)
        except ValueError:
            raise ValueError(f"corpus option {key} must be an integer, got {value!r}") from None
    return options
