"""Name -> encoder factory. Every module in `trustser.encoders` is imported before the registry answers, and
registers what it defines (`@register("name", checked_as=[...])`); a helper module registers nothing.
Installed distributions add theirs as entry points of the group `trustser.encoders`
(`myenc = team_pkg.enc:build`).

A spec is `name` or `name:argument` (e.g. `mfcc`, `hf:/models/my-wavlm`); the argument, if any, is
passed to the factory as a string. An entry point's factory is called as `build()`, or `build(argument)`
when the spec has one. Built-in names come first: a plugin cannot replace one.

`trained_on` names the datasets the registered encoder's weights were trained on (e.g. `("librispeech",)`);
`create` adds them to the encoder's own `Encoder.trained_on` (a checkpoint's model card may name more).

`checked_as` lists the specs the contract test (tests/encoders/test_encoder_contract.py) checks the
encoder as, or `Example`s that first write a tiny checkpoint into a scratch directory
(trustser.specs.registrations); an encoder registered without them fails that test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from trustser.encoders.base import Encoder, dataset_names
from trustser.encoders.module_encoder import as_encoder
from trustser.errors import SpecError, spec_errors
from trustser.specs.registrations import Example, Registry, as_examples
from trustser.specs.team_code import build, entry_point_factory

ENTRY_POINTS = "trustser.encoders"

Factory = Callable[[str | None], Encoder]


@dataclass(frozen=True)
class Registration:
    name: str
    factory: Factory
    checked_as: tuple[Example, ...]  # how the contract test builds it
    trained_on: tuple[str, ...] = ()  # the datasets its weights were trained on


REGISTRY = Registry(__package__, Path(__file__).parent, entry_points=ENTRY_POINTS)


def register(
    name: str, *, checked_as: Iterable[str | Example] | None = None, trained_on: Iterable[str] = ()
) -> Callable[[Factory], Factory]:
    """Register `factory(argument)` as the encoder `name`, checked by the contract test as `checked_as`,
    its weights trained on the datasets `trained_on`."""

    def decorator(factory: Factory) -> Factory:
        REGISTRY.add(name, Registration(name, factory, as_examples(checked_as), dataset_names(tuple(trained_on), name)))
        return factory

    return decorator


# the encoders registered in this process by name (entry-point plugins are not among them), and every
# name a spec may use (plugins' too, their code not imported)
registered = REGISTRY.registered
available = REGISTRY.available


def create(spec: str) -> Encoder:
    """Build the encoder named by `spec`; unknown names list the known ones.

    A spec that cannot be built (unknown, a bad argument, a missing checkpoint or optional package, a
    team's failing code) raises `SpecError`, naming what is wrong.
    """
    name, _, argument = spec.partition(":")
    with spec_errors():
        registrations = REGISTRY.registered()
        if name in registrations:
            registration = registrations[name]
            encoder = registration.factory(argument or None)
            encoder.trained_on = tuple(dict.fromkeys((*registration.trained_on, *encoder.trained_on)))
            return encoder
        factory = entry_point_factory(ENTRY_POINTS, name)
        if factory is None:
            raise SpecError(f"unknown encoder {spec!r}; known: {', '.join(available())}")
        built = build(factory, *([argument] if argument else []), spec=spec)
        return as_encoder(built, spec=spec, origin=f" (entry point {ENTRY_POINTS})")
