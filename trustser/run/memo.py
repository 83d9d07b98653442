"""Memoising evaluations: per run in memory (`Memo`, owned by the run), and on disk for the slow or
unrepeatable ones."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Hashable
from functools import wraps
from typing import TYPE_CHECKING, TypeVar

from trustser.cache.store import content_key
from trustser.compute.memory import release_free_memory
from trustser.formatting import plain_details

if TYPE_CHECKING:
    from trustser.run.backbone_run import BackboneRun

T = TypeVar("T")


class Memo:
    """The evaluations one run has computed, by key: each computed once, on first request."""

    def __init__(self) -> None:
        self._values: dict[Hashable, object] = {}

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value kept under `key`, computed by `compute()` and kept on first request."""
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]  # type: ignore[return-value]

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)


def _arguments(function, run: BackboneRun, args: tuple, kwargs: dict) -> dict[str, object]:
    """Every argument after the run by name, defaults filled in: however a caller spells a call (by
    position or by keyword, a default given or left out), it has one key.

    A settings dataclass counts as its fields, each by name, as if they had been passed one by one: the
    key holds plain values (a stored result's key is their content, not a class's repr), and it does
    not change with how the arguments are grouped.
    """
    bound = inspect.signature(function).bind(run, *args, **kwargs)
    bound.apply_defaults()
    arguments: dict[str, object] = {}
    for name, value in list(bound.arguments.items())[1:]:
        fields = _fields(value) if dataclasses.is_dataclass(value) and not isinstance(value, type) else {name: value}
        for key, item in fields.items():
            if key in arguments:
                raise TypeError(f"{function.__name__}: argument {key!r} is given twice (a settings field and another)")
            arguments[key] = tuple(item) if isinstance(item, list) else item  # hashable
    return arguments


def _fields(settings: object) -> dict[str, object]:
    return {field.name: getattr(settings, field.name) for field in dataclasses.fields(settings)}


def memoised(function):
    @wraps(function)
    def wrapper(run: BackboneRun, *args, **kwargs):
        arguments = _arguments(function, run, args, kwargs)
        key = (function.__name__, *arguments.items())

        def compute():
            result = function(run, *args, **kwargs)
            release_free_memory()  # an evaluation's freed temporaries would otherwise add to the next one's peak
            return result

        return run.memo.get_or_compute(key, compute)

    return wrapper


def stored(result_type: type, version: str, **context: Callable[[], object]):
    """Memoise an expensive evaluation on disk, keyed by the run's content and the arguments.

    For results that take long (attacks) or cannot be repeated exactly (energy, a measurement), so a
    second audit of the same model reuses them and reports the same numbers. The result dataclass is
    stored as JSON; array fields (e.g. adversarial audio) are not kept. `context` adds what else the
    result depends on, as functions called when the result is looked up (e.g. the machine's
    signature, for a measurement), never at import.
    """

    def decorator(function):
        @memoised
        @wraps(function)
        def wrapper(run: BackboneRun, *args, **kwargs):
            depends_on = {name: describe() for name, describe in context.items()}
            arguments = _arguments(function, run, args, kwargs)
            key = content_key(
                step=function.__name__, version=version, run=run.fingerprint, arguments=arguments, context=depends_on
            )
            path = run.cache.path("results", key, ".json")
            with run.cache.lock("results", key):
                if run.cache.intact(path):
                    return _from_plain(result_type, run.cache.load_json(path))
                with run.cache.writing():  # after a failed write (a full disk), not computed again in vain
                    result = function(run, *args, **kwargs)
                    run.cache.save_json(path, plain_details(result))
            return result

        return wrapper

    return decorator


def _from_plain(result_type: type, stored: dict):
    """Rebuild a stored result: JSON keeps NaN as null and tuples as lists, nested results as dicts."""
    hints = typing.get_type_hints(result_type)
    values = {}
    for field in dataclasses.fields(result_type):
        if field.name in stored:
            values[field.name] = _from_json(hints[field.name], stored[field.name])
    return result_type(**values)


def _from_json(hint, value):
    if value is None:
        return float("nan") if hint is float else None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _from_plain(hint, value)
    if origin is tuple:
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        return tuple(_from_json(item, v) for item, v in zip(items, value))
    return value
