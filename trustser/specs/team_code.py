"""Code a team brings: factories named by `package.module:factory` (the `torch:` specs) or by entry point.

The audit runs from the team's repository, so its modules are imported from sys.path and, after it,
the current working directory (the repository root, which `pytest` alone does not put on sys.path).
Appended rather than prepended, so that a file of the repository never shadows an installed package.
Every failure is a `SpecError` (a ValueError) naming the spec and what is missing: the plugin turns
those into usage errors before any test runs.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from importlib.metadata import entry_points
from typing import Callable

from trustser.errors import SpecError


def import_factory(target: str, *, spec: str) -> tuple[Callable, list[str]]:
    """The callable `target` (`package.module:factory[:argument]`) names, and the arguments to call it with
    (the argument, when given, as a string); `spec` is the option text, for messages."""
    module_name, sep, rest = target.partition(":")
    attribute, _, argument = rest.partition(":")
    if not sep or not module_name or not attribute:
        raise SpecError(f"{spec}: expected torch:<package.module>:<factory>, e.g. torch:team_model:build")
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        where = f"sys.path or {os.getcwd()}"
        raise SpecError(f"{spec}: cannot import module {module_name!r} from {where}: {error}") from None
    except Exception as error:  # a broken module (syntax error, failing import-time code) is a bad spec too
        raise SpecError(f"{spec}: importing {module_name!r} raised {type(error).__name__}: {error}") from error
    factory = getattr(module, attribute, None)
    if not callable(factory):
        found = "has no attribute" if factory is None else "has a non-callable"
        raise SpecError(f"{spec}: module {module_name!r} ({module.__file__}) {found} {attribute!r}")
    return factory, [argument] if argument else []


def entry_point_factory(group: str, name: str) -> Callable | None:
    """The factory a distribution declares as `name` in entry-point group `group`; None when none does."""
    matches = entry_points(group=group, name=name)
    if not matches:
        return None
    values = sorted({point.value for point in matches})
    if len(values) > 1:  # two distributions claim the name for different code: neither may win silently
        raise SpecError(f"entry point {name!r} of group {group!r} is declared more than once: {', '.join(values)}")
    point = next(iter(matches))
    try:
        return point.load()
    except (ImportError, AttributeError) as error:
        raise SpecError(f"entry point {name} = {point.value} ({group}) cannot be loaded: {error}") from None


def entry_point_names(group: str) -> list[str]:
    return sorted({point.name for point in entry_points(group=group)})


def build(factory: Callable, *arguments, spec: str):
    """`factory(*arguments)`; whatever the team's code raises becomes a SpecError naming the spec."""
    try:
        return factory(*arguments)
    except Exception as error:  # the team's code may raise anything; the audit reports it as a bad spec
        name = getattr(factory, "__qualname__", repr(factory))
        raise SpecError(f"{spec}: {name}() raised {type(error).__name__}: {error}") from error


def source_digest(obj: object) -> str:
    """Hash of the source file defining `obj`'s class, so that changed code is not served stale cache."""
    path = getattr(sys.modules.get(type(obj).__module__), "__file__", None)
    if not path or not os.path.isfile(path):
        return "no-source"  # a class defined without a file (interactively): its weights alone key the cache
    with open(path, "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()[:16]


def child_environment() -> dict[str, str]:
    """The environment for a child interpreter (`python -m trustser...`) that must see what this one sees.

    This process's sys.path goes first: trustser itself, a team's modules and plugins' entry points may
    be importable only through it (pytest's rootdir or `pythonpath`), and the child must run the same
    code, not another trustser that `python -m` would find first.
    """
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
