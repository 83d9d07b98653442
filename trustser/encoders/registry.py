"""Name -> encoder factory. Every module in `trustser.encoders` registers itself on import; installed
distributions add theirs as entry points of the group `trustser.encoders` (`myenc = team_pkg.enc:build`).

A spec is `name` or `name:argument` (e.g. `mfcc`, `hf:/models/my-wavlm`); the argument, if any, is
passed to the factory as a string. An entry point's factory is called as `build()`, or `build(argument)`
when the spec has one. Built-in names come first: a plugin cannot replace one.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Callable

from trustser.encoders.base import Encoder
from trustser.encoders.module_encoder import as_encoder
from trustser.errors import SpecError, spec_errors
from trustser.specs.team_code import build, entry_point_factory, entry_point_names

ENTRY_POINTS = "trustser.encoders"

Factory = Callable[[str | None], Encoder]
_FACTORIES: dict[str, Factory] = {}
_NOT_ENCODER_MODULES = {"base", "registry", "frontends", "hf_loading", "whisper_frontend", "module_encoder"}


def register(name: str) -> Callable[[Factory], Factory]:
    def decorator(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        return factory

    return decorator


def _discover() -> None:
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):  # this package's modules, not importing it
        if module.name not in _NOT_ENCODER_MODULES and not module.name.startswith("_"):
            importlib.import_module(f"trustser.encoders.{module.name}")


def available() -> list[str]:
    """Built-in names and the names of installed plugins (whose code is not imported here)."""
    _discover()
    return sorted({*_FACTORIES, *entry_point_names(ENTRY_POINTS)})


def create(spec: str) -> Encoder:
    """Build the encoder named by `spec`; unknown names list the known ones.

    A spec that cannot be built (unknown, a bad argument, a missing checkpoint or optional package, a
    team's failing code) raises `SpecError`, naming what is wrong.
    """
    name, _, argument = spec.partition(":")
    with spec_errors():
        _discover()
        if name in _FACTORIES:
            return _FACTORIES[name](argument or None)
        factory = entry_point_factory(ENTRY_POINTS, name)
        if factory is None:
            raise SpecError(f"unknown encoder {spec!r}; known: {', '.join(available())}")
        built = build(factory, *([argument] if argument else []), spec=spec)
        return as_encoder(built, spec=spec, origin=f" (entry point {ENTRY_POINTS})")
