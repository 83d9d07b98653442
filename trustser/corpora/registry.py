"""Name -> corpus factory. Every module in `trustser.corpora` is imported before the registry answers, and
registers what it defines (`register(name, checked_as=[...])`, or `files.register_dataset(name, ...,
sample=write_sample)` for a dataset read as it ships); a helper module registers nothing. Installed
distributions add theirs as entry points of the group `trustser.corpora` (`mycorpus = team_pkg.data:build`),
called as `build()`, or `build(argument)` when the spec has one. Built-in names come first.

A spec is `name` or `name:argument`, e.g. `synthetic`, `synthetic:speakers=8,sentences=20,seed=0`,
`cremad:/data/CREMA-D`. The factory receives the argument string (or None) and the cache root; a
corpus read from audio files (`register(name, reads_files=True)`) also receives the bad-data policy.

`checked_as` lists the specs the contract test (tests/corpora/test_corpus_contract.py) checks the corpus
as, or `Example`s that first write a tiny sample of the corpus's layout into a scratch directory
(trustser.specs.registrations); a corpus registered without them fails that test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from trustser.corpora.audio import BadAudio
from trustser.corpora.base import BadData, Corpus
from trustser.errors import CacheWriteError, SpecError, spec_errors
from trustser.specs.registrations import Example, Registry, as_examples
from trustser.specs.team_code import build, entry_point_factory

ENTRY_POINTS = "trustser.corpora"

Factory = Callable[[str | None, Path], Corpus]


@dataclass(frozen=True)
class Registration:
    name: str
    factory: Factory
    reads_files: bool  # the factory takes on_bad_audio
    checked_as: tuple[Example, ...]  # how the contract test builds it


REGISTRY = Registry(__package__, Path(__file__).parent, entry_points=ENTRY_POINTS)


def register(
    name: str, reads_files: bool = False, *, checked_as: Iterable[str | Example] | None = None
) -> Callable[[Factory], Factory]:
    """Register `factory(argument, cache_root[, on_bad_audio])` as the corpus `name`, checked as `checked_as`."""

    def decorator(factory: Factory) -> Factory:
        REGISTRY.add(name, Registration(name, factory, reads_files, as_examples(checked_as)))
        return factory

    return decorator


# the corpora registered in this process by name (entry-point plugins are not among them), and every
# name a spec may use (plugins' too, their code not imported)
registered = REGISTRY.registered
available = REGISTRY.available


def create(spec: str, cache_root: Path, on_bad_audio: str = "skip") -> Corpus:
    """The corpus a spec names; `on_bad_audio` (skip | fail) applies to corpora read from files.

    A spec that cannot be built (unknown, a bad option, a missing directory or manifest, a team's failing
    code) raises `SpecError`; bad audio under `fail` raises `BadAudio` or `BadData`, as the files are read.
    """
    name, _, argument = spec.partition(":")
    with spec_errors(BadAudio, BadData, CacheWriteError):  # a full or unwritable cache is not the spec's fault
        registrations = REGISTRY.registered()
        if name not in registrations:
            return _plugin_corpus(spec)
        registration = registrations[name]
        if registration.reads_files:
            return registration.factory(argument or None, Path(cache_root), on_bad_audio=on_bad_audio)
        return registration.factory(argument or None, Path(cache_root))


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
