"""Name -> encoder factory. Every module in `trustser.encoders` registers itself on import.

A spec is `name` or `name:argument` (e.g. `mfcc`, `hf:/models/my-wavlm`); the argument, if any, is
passed to the factory as a string.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Callable

from trustser.encoders.base import Encoder

Factory = Callable[[str | None], Encoder]
_FACTORIES: dict[str, Factory] = {}
_NOT_ENCODER_MODULES = {"base", "registry", "frontends", "hf_loading", "whisper_frontend"}


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
    _discover()
    return sorted(_FACTORIES)


def create(spec: str) -> Encoder:
    """Build the encoder named by `spec`; unknown names list the known ones."""
    _discover()
    name, _, argument = spec.partition(":")
    if name not in _FACTORIES:
        raise KeyError(f"unknown encoder {spec!r}; known: {', '.join(sorted(_FACTORIES))}")
    return _FACTORIES[name](argument or None)
