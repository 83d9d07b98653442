"""Release gates: `thresholds.toml` loaded, validated and applied. The only place verdicts are made.

Each gate is a TOML table `[pillar.metric]` with exactly one bound (`min` or `max`), an optional
`level` ("fail", the default, or "warn": reported but never failing the run), an optional `gate`
("point", the default: judge the point estimate; or "ci": judge the least favourable bound of its
95% confidence interval, the upper bound for `max` and the lower for `min`), an optional
`min_group_size` (below it the result is WARN, whatever the value: too few to judge), an optional
`min_speakers` (default 3: a metric measured over speakers, as the privacy attacks and the fairness
gaps are, is WARN when it was measured on fewer), and the settings that metric declares (e.g.
`budget_db` for an attack). Which metrics exist, their direction and their settings come from their
declarations (trustser.gates.declaration). Unknown metrics, unknown keys, a bound against the
metric's direction, wrong types and out-of-range values are errors that name the key.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path

from trustser.formatting import format_number
from trustser.gates.declaration import Metric, registered_metrics
from trustser.vocabulary import Bound, Level, Verdict, most_severe


class ThresholdError(ValueError):
    """thresholds.toml is malformed; the message names the file and the key."""


LEVELS = tuple(Level)
GATE_MODES = ("point", "ci")
_COMMON_KEYS = ("min", "max", "level", "gate", "min_group_size", "min_speakers")
MIN_SPEAKERS = 3
"""Below 3 speakers a measurement over speakers says more about those voices than about the model:
two speakers are told apart by any feature that differs between them (speaker identification 1.0,
interval [1, 1]), and a gap between two people is no gap between groups. Each gate's default
`min_speakers`; the same 3 as the thresholds file's `min_group_size` in speakers per gender."""
# Optional per gate: how much worse than the --trust-baseline report a value may get (absolute, or
# relative to the baseline value); the larger allowance applies. Without either, any worsening fails.
REGRESSION_KEYS = ("regression_abs", "regression_rel")


@dataclass(frozen=True)
class Judgement:
    """A gate's verdict on one value, and the message that says why."""

    verdict: Verdict  # PASS, WARN or FAIL
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", Verdict(self.verdict))

    @property
    def failed(self) -> bool:
        return self.verdict is Verdict.FAIL


def worst(*judgements: Judgement) -> Judgement:
    """The most severe judgement; when several share that verdict, one message names each of them."""
    verdict = most_severe(j.verdict for j in judgements)
    return Judgement(verdict, "; ".join(j.message for j in judgements if j.verdict == verdict))


@dataclass(frozen=True)
class Gate:
    metric: str  # "pillar.name"
    bound: Bound
    threshold: float
    level: Level = Level.FAIL
    settings: object = None  # the metric's settings dataclass, its defaults updated from the file; None if it has none
    mode: str = "point"  # "point" | "ci": what `judge` compares with the threshold
    min_group_size: int = 0  # smallest group (in the unit the test reports) worth a verdict
    min_speakers: int = MIN_SPEAKERS  # fewest speakers a measurement over speakers needs for a verdict
    regression_abs: float = 0.0
    regression_rel: float = 0.0
    label: str = ""  # how messages name the metric (its declaration's label); the metric id when empty

    def __post_init__(self) -> None:
        object.__setattr__(self, "bound", Bound(self.bound))
        object.__setattr__(self, "level", Level(self.level))
        if not self.label:
            object.__setattr__(self, "label", self.metric)

    @property
    def outside(self) -> Verdict:
        """The verdict on a value outside the gate: FAIL, or WARN for a warn-level gate."""
        return Verdict.WARN if self.level is Level.WARN else Verdict.FAIL

    @property
    def pillar(self) -> str:
        return self.metric.split(".", 1)[0]

    def judge(
        self,
        value: float,
        context: str,
        ci: tuple[float, float] | None = None,
        group_size: int | None = None,
        speakers: int | None = None,
        *,
        note: str = "",
    ) -> Judgement:
        """PASS when the judged number is within the bound; otherwise FAIL (or WARN for a warn-level gate).

        The judged number is `value` for a point gate and the least favourable bound of `ci` for a
        ci gate. A `group_size` below the gate's `min_group_size`, or a measurement over fewer
        `speakers` than its `min_speakers`, gives WARN whatever the value: too few to call it either way.
        `note` (what the value counts, by name) ends the message.
        """
        judgement = self._judge(value, context, ci, group_size, speakers)
        return Judgement(judgement.verdict, f"{judgement.message}: {note}") if note else judgement

    def _judge(
        self, value: float, context: str, ci: tuple[float, float] | None, group_size: int | None, speakers: int | None
    ) -> Judgement:
        symbol_ok, symbol_bad = self.bound.symbols
        interval = "" if ci is None else f" [95% CI {format_number(ci[0])}, {format_number(ci[1])}]"
        too_few = self._too_few(group_size, speakers)
        if too_few:
            detail = f"{self.label} {format_number(value)}{interval} not judged: {too_few} ({context})"
            return Judgement(Verdict.WARN, detail)
        judged, what = value, ""
        if self.mode == "ci":
            if ci is None:
                return Judgement(
                    Verdict.FAIL, f"{self.label}: gate = 'ci' but no confidence interval was measured ({context})"
                )
            judged, what = (ci[1], "upper") if self.bound is Bound.MAX else (ci[0], "lower")
            what = f"95% CI {what} bound "
        if math.isnan(value) or math.isnan(judged):
            ok, detail = False, f"{self.label} could not be measured ({context})"
        else:
            ok = self.bound.within(judged, self.threshold)
            symbol = symbol_ok if ok else symbol_bad
            shown = (
                f"{format_number(value)}{interval}"
                if not what
                else f"{what}{format_number(judged)} (point {format_number(value)}{interval})"
            )
            detail = f"{self.label} {shown} {symbol} {self.bound} {format_number(self.threshold)} ({context})"
        return Judgement(Verdict.PASS if ok else self.outside, detail)

    def _too_few(self, group_size: int | None, speakers: int | None) -> str:
        """Why the measurement is too small for a verdict; empty when it is not."""
        reasons = []
        if group_size is not None and group_size < self.min_group_size:
            reasons.append(f"smallest group {group_size} < min_group_size {self.min_group_size}")
        if speakers is not None and speakers < self.min_speakers:
            reasons.append(f"measured on {speakers} speaker{'s' * (speakers != 1)} < min_speakers {self.min_speakers}")
        return ", ".join(reasons)

    def judge_regression(self, value: float, baseline: float, context: str) -> Judgement:
        """PASS unless `value` is worse than the baseline's by more than the gate's tolerance."""
        worse_by = value - baseline if self.bound is Bound.MAX else baseline - value
        allowed = max(self.regression_abs, self.regression_rel * abs(baseline))
        if math.isnan(value) or worse_by > allowed:
            detail = (
                f"{self.label} {format_number(value)} regressed from baseline {format_number(baseline)} "
                f"(tolerance {format_number(allowed)}) ({context})"
            )
            return Judgement(self.outside, detail)
        return Judgement(
            Verdict.PASS,
            f"{self.label} {format_number(value)} within {format_number(allowed)} of baseline "
            f"{format_number(baseline)} ({context})",
        )


class Gates(dict):
    """Metric name -> Gate, as loaded from one thresholds file."""

    source: Path

    def gate(self, metric: str) -> Gate:
        if metric not in self:
            raise ThresholdError(f"{self.source}: no gate [{metric}]; add it to the thresholds file")
        return self[metric]


def load_gates(path: Path | str, metrics: dict[str, Metric] | None = None) -> Gates:
    """The gates of a thresholds file, validated against `metrics` (default: every metric declared so far;
    `trustser.pillars.declared_metrics()` declares the built-in ones)."""
    path = Path(path)
    metrics = registered_metrics() if metrics is None else metrics
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ThresholdError(f"{path}: thresholds file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ThresholdError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:
        raise ThresholdError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    gates = Gates()
    gates.source = path
    for pillar, table in data.items():
        if not isinstance(table, dict):
            raise ThresholdError(f"{path}: key '{pillar}' must be a table like [{pillar}.<metric>]")
        for name, entry in table.items():
            metric = f"{pillar}.{name}"
            gates[metric] = _parse_gate(path, metric, entry, metrics)
    return gates


def _parse_gate(path: Path, metric: str, entry: object, metrics: dict[str, Metric]) -> Gate:
    if metric not in metrics:
        raise ThresholdError(f"{path}: unknown metric '{metric}'; known: {', '.join(sorted(metrics))}")
    if not isinstance(entry, dict):
        raise ThresholdError(f"{path}: '{metric}' must be a table with 'min' or 'max'")
    declared = metrics[metric]
    fields = declared.setting_fields()
    unknown = [key for key in entry if key not in (*_COMMON_KEYS, *REGRESSION_KEYS, *fields)]
    if unknown:
        known = ", ".join([*_COMMON_KEYS, *REGRESSION_KEYS, *fields])
        raise ThresholdError(f"{path}: unknown key '{metric}.{unknown[0]}'; known: {known}")
    bounds = [b for b in ("min", "max") if b in entry]
    if len(bounds) != 1:
        raise ThresholdError(f"{path}: '{metric}' needs exactly one of 'min' or 'max'")
    bound = Bound(bounds[0])
    if bound is not declared.bound:
        raise ThresholdError(
            f"{path}: '{metric}' takes '{declared.bound}', not '{bound}' ({declared.bound.better} is better)"
        )
    threshold = entry[bound]
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise ThresholdError(f"{path}: '{metric}.{bound}' must be a finite number, got {threshold!r}")
    level = entry.get("level", "fail")
    if level not in LEVELS:
        raise ThresholdError(f"{path}: '{metric}.level' must be one of {[str(v) for v in LEVELS]}, got {level!r}")
    mode = entry.get("gate", "point")
    if mode not in GATE_MODES:
        raise ThresholdError(f"{path}: '{metric}.gate' must be one of {GATE_MODES}, got {mode!r}")
    min_group_size = entry.get("min_group_size", 0)
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int) or min_group_size < 0:
        raise ThresholdError(
            f"{path}: '{metric}.min_group_size' must be a non-negative integer, got {min_group_size!r}"
        )
    min_speakers = entry.get("min_speakers", MIN_SPEAKERS)
    if isinstance(min_speakers, bool) or not isinstance(min_speakers, int) or min_speakers < 0:
        raise ThresholdError(f"{path}: '{metric}.min_speakers' must be a non-negative integer, got {min_speakers!r}")
    tolerances = {key: _tolerance(path, metric, key, entry[key]) for key in REGRESSION_KEYS if key in entry}
    values = {}
    for key, (kind, rule) in fields.items():
        if key in entry:
            where = f"{path}: '{metric}.{key}'"
            values[key] = _setting_value(where, kind, entry[key])
            wanted = rule(values[key])
            if wanted is not None:
                raise ThresholdError(f"{where} must be {wanted}, got {entry[key]!r}")
    settings = None if declared.settings is None else dataclasses.replace(declared.settings, **values)
    return Gate(
        metric,
        bound,
        float(threshold),
        level,
        settings,
        mode=mode,
        min_group_size=min_group_size,
        min_speakers=min_speakers,
        label=declared.label,
        **tolerances,
    )


def _setting_value(where: str, kind: type, value: object) -> object:
    """A TOML value as the settings field's type: int -> float where a float is declared, a list -> a tuple."""
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        if not isinstance(value, list):
            raise ThresholdError(f"{where} must be a list of {item.__name__}, got {value!r}")
        return tuple(_scalar(f"{where} item", item, v) for v in value)
    return _scalar(where, kind, value)


def _scalar(where: str, kind: type, value: object) -> object:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ThresholdError(f"{where} must be {kind.__name__}, got {value!r}")
    return value


def _tolerance(path: Path, metric: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ThresholdError(f"{path}: '{metric}.{key}' must be a non-negative number, got {value!r}")
    return float(value)
