"""A metric declared once: name, pillar, label, direction, default bound, settings and documentation.

Each evaluator module declares its metrics with `declare_metric` (the built-in ones in
`trustser/pillars/<pillar>/checks.py`, beside the functions the trust tests call; a team's in its own plugin
module). Everything else derives from the declarations: which `[pillar.metric]` tables
thresholds.toml may hold and how their keys are validated (trustser.gates.thresholds), the gate's label in
messages, the report schema's metric list (trustser.report.schema) and docs/metrics.md
(trustser.report.metrics_doc).

Settings are a frozen dataclass per metric whose fields are the thresholds.toml keys: the field's
type and its `rule` (see `setting`) validate the TOML value, and its default is the one default of
that setting (the declaration takes the dataclass's defaults, the evaluator takes the settings
whole). The trust test passes `trust.settings` whole to its check function.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import typing
from dataclasses import dataclass
from typing import Any, Callable

from trustser.vocabulary import PILLARS, TASKS, Bound

Rule = Callable[[Any], "str | None"]
"""A setting's constraint beyond its type: None when the value is fine, else what it must be."""


def setting(default: object, *, rule: Rule) -> Any:
    """A settings dataclass field: its default and the rule its thresholds.toml value must meet."""
    return dataclasses.field(default=default, metadata={"rule": rule})


def finite(value: float) -> str | None:
    return None if math.isfinite(value) else "a finite number"


def non_negative(value: float) -> str | None:
    return None if math.isfinite(value) and value >= 0 else "a finite number >= 0"


def positive(value: float) -> str | None:
    return None if math.isfinite(value) and value > 0 else "a finite number > 0"


def probability(value: float) -> str | None:
    return None if 0 <= value < 1 else "a number in [0, 1)"


def finite_numbers(values: tuple[float, ...]) -> str | None:
    return None if all(math.isfinite(v) for v in values) else "a list of finite numbers"


def non_empty(value: str) -> str | None:
    return None if value.strip() else "a non-empty string"


@dataclass(frozen=True)
class Metric:
    name: str  # "pillar.metric": the thresholds.toml table and the report's metric id
    label: str  # how messages and reports name it
    bound: Bound  # min: higher is better; max: lower is better
    default: float  # the bound thresholds.toml ships with
    definition: str  # what exactly is measured (docs/metrics.md)
    chance: str = ""  # the value with no signal, where there is one (docs/metrics.md)
    reference: str = ""  # the library or convention it matches (docs/metrics.md)
    settings: object = None  # a frozen dataclass instance with the default settings, or None
    tasks: tuple[str, ...] = ("categorical",)  # the tasks (TASKS) whose models it judges; SKIP under others

    @property
    def pillar(self) -> str:
        return self.name.split(".", 1)[0]

    def setting_fields(self) -> dict[str, tuple[type, Rule]]:
        """thresholds.toml key -> (its type, its rule); empty for a metric without settings."""
        if self.settings is None:
            return {}
        hints = typing.get_type_hints(type(self.settings))
        return {f.name: (hints[f.name], f.metadata["rule"]) for f in dataclasses.fields(self.settings)}


_DECLARED: dict[str, Metric] = {}
_DECLARED_IN: dict[str, tuple[str, int]] = {}  # name -> (declaring module, position in it), for the order


def declare_metric(
    name: str,
    *,
    label: str,
    bound: Bound | str,
    default: float,
    definition: str,
    chance: str = "",
    reference: str = "",
    settings: object = None,
    tasks: tuple[str, ...] = ("categorical",),
) -> Metric:
    """Declare a metric (at import of its evaluator module); returns the declaration.

    `tasks` are what the models it judges predict (trustser.vocabulary.TASKS): emotion categories, as most
    metrics, attributes (the dimensional ones), or both (a protocol check, the representations' privacy,
    the cost of running it). Under a task it does not judge, its trust test is a SKIP saying so.

    Declaring the same name twice is allowed only with an identical declaration (a module imported
    twice), so two metrics can never share a name.
    """
    pillar, dot, short = name.partition(".")
    if pillar not in PILLARS or not dot or not short.isidentifier():
        raise ValueError(f"metric name {name!r} must be '<pillar>.<identifier>' with a pillar in {PILLARS}")
    if bound not in tuple(Bound) or not math.isfinite(default):
        raise ValueError(f"{name}: bound must be 'min' or 'max' and default finite, got {bound!r} and {default!r}")
    if settings is not None:
        _check_settings_class(name, settings)
    if not tasks or any(task not in TASKS for task in tasks):
        raise ValueError(f"{name}: tasks must be a non-empty tuple of {TASKS}, got {tasks!r}")
    metric = Metric(name, label, Bound(bound), float(default), definition, chance, reference, settings, tuple(tasks))
    if _DECLARED.get(name, metric) != metric:
        raise ValueError(f"metric {name!r} is declared twice, differently")
    if name not in _DECLARED_IN:
        module = sys._getframe(1).f_globals.get("__name__", "")
        _DECLARED_IN[name] = (module, sum(declared[0] == module for declared in _DECLARED_IN.values()))
    _DECLARED[name] = metric
    return metric


def _check_settings_class(name: str, settings: object) -> None:
    if (
        not dataclasses.is_dataclass(settings)
        or isinstance(settings, type)
        or not type(settings).__dataclass_params__.frozen
    ):
        raise ValueError(f"{name}: settings must be an instance of a frozen dataclass")
    for field in dataclasses.fields(settings):
        if "rule" not in field.metadata:
            raise ValueError(
                f"{name}: setting {field.name!r} has no rule; declare it with trustser.gates.declaration.setting"
            )
        wanted = field.metadata["rule"](getattr(settings, field.name))
        if wanted is not None:
            raise ValueError(f"{name}: default {field.name} = {getattr(settings, field.name)!r} is not {wanted}")
    kind = type(settings)
    if settings != kind():
        raise ValueError(
            f"{name}: settings must be {kind.__name__}() with its own defaults: a default is stated once, in "
            "the settings dataclass (another metric's defaults take a dataclass of their own)"
        )


def registered_metrics() -> dict[str, Metric]:
    """Every metric declared so far, in pillar order (within a pillar, in declaration order). The
    built-in ones are declared when their pillar's checks are imported: `trustser.pillars.declared_metrics`."""
    return dict(sorted(_DECLARED.items(), key=_declaration_order))


def _declaration_order(item: tuple[str, Metric]) -> tuple:
    """Pillar order; within a pillar its `checks` module first, then the others by name, each in the order it
    declares: the same whichever modules an earlier import happened to load first."""
    module, position = _DECLARED_IN[item[0]]
    return (PILLARS.index(item[1].pillar), not module.endswith(".checks"), module, position)
