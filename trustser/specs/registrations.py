"""What the three extension points (encoders, corpora, finished-model formats) share: registrations that say
how the contract tests build them, and the discovery of the modules that register.

Discovery: a registry imports every module of its package (except those starting with `_`) before it
answers. A module that calls `register...` at import defines what it registers; a helper module simply
registers nothing, so no list of modules is kept anywhere. Modules therefore import heavy or optional
extras (transformers, openSMILE, s3prl) inside the functions that need them, never at module level.

Each registration carries `checked_as`, the examples the contract tests build it as
(tests/encoders/test_encoder_contract.py, tests/corpora/test_corpus_contract.py,
tests/models/test_model_format_contract.py iterate the registrations). An example is a spec (`"mfcc"`,
`"synthetic:speakers=4,sentences=2"`), or an `Example` whose `build(scratch)` first writes what its spec
needs, a tiny checkpoint or a sample of a corpus's layout, into `scratch` (a fresh directory of its own)
and returns the spec. A registration without examples fails those tests.
"""

from __future__ import annotations

import importlib
import pkgutil
import unittest
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Example:
    """A spec the contract tests build a registration as: `build(scratch)` writes what the spec needs under
    `scratch`, a fresh directory, and returns the spec; `label` names the example in test ids."""

    label: str
    build: Callable[[Path], str]


class Unavailable(unittest.SkipTest):
    """An example that cannot be built on this machine (an optional extra, or a real checkpoint named by an
    environment variable, is missing); the contract test is skipped with this message, saying which."""


def as_examples(checked_as: Iterable[str | Example] | None) -> tuple[Example, ...]:
    """`checked_as` as Examples; a plain spec is its own label and needs no files."""
    return tuple(
        item if isinstance(item, Example) else Example(item, lambda scratch, spec=item: spec)
        for item in (checked_as or ())
    )


class Registry:
    """One extension point's registrations by name: every module of `package` is imported before the
    registry answers (a module registers what it defines), and installed distributions add names through
    the entry-point group `entry_points` (their code is not imported to list them)."""

    def __init__(self, package: str, directory: str | Path, *, entry_points: str):
        self.package, self.directory, self.entry_points = package, Path(directory), entry_points
        self.registrations: dict[str, object] = {}

    def add(self, name: str, registration: object) -> None:
        self.registrations[name] = registration

    def registered(self) -> dict:
        """The registrations made in this process (the package's modules, and any code that registered), by name."""
        discover(self.package, self.directory)
        return dict(self.registrations)

    def available(self) -> list[str]:
        """Registered names and the names of installed plugins."""
        from trustser.specs.team_code import entry_point_names

        return sorted({*self.registered(), *entry_point_names(self.entry_points)})


def discover(package: str, directory: str | Path) -> None:
    """Import every module of `package` (found in `directory`) whose name does not start with `_`."""
    for module in pkgutil.iter_modules([str(directory)]):  # lists the package's modules without importing them
        if not module.name.startswith("_"):
            importlib.import_module(f"{package}.{module.name}")


def unbuildable(registrations: dict, kind: str, where: str) -> str:
    """'' when every registration has examples, else the message naming those without."""
    missing = sorted(name for name, registration in registrations.items() if not registration.checked_as)
    if not missing:
        return ""
    return (
        f"registered {kind}(s) {missing} have no way to be built in tests: register them with "
        f"checked_as=[...] (specs, or Examples that write what they need), {where}"
    )
