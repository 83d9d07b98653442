"""Release gates: `thresholds.toml` loaded, validated and applied. The only place verdicts are made.

Each gate is a TOML table `[pillar.metric]` with exactly one bound (`min` or `max`), an optional
`level` ("fail", the default, or "warn": reported but never failing the run), and the settings that
metric declares (e.g. `budget_db` for an attack). Unknown metrics, unknown keys and wrong types are
errors that name the key.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class ThresholdError(ValueError):
    """thresholds.toml is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class MetricSpec:
    label: str  # how a failure message names the metric
    settings: dict[str, type] = field(default_factory=dict)
    defaults: dict[str, object] = field(default_factory=dict)


METRICS: dict[str, MetricSpec] = {
    "utility.uar": MetricSpec("UAR"),
    "utility.accuracy": MetricSpec("accuracy"),
    "privacy.gender_inference_uar": MetricSpec("gender inference UAR"),
    "fairness.statistical_parity_gender": MetricSpec("statistical parity difference (gender)"),
    "fairness.equality_of_opportunity_gender": MetricSpec("equality of opportunity difference (gender)"),
    "safety.fgsm_success_rate": MetricSpec("FGSM success rate", {"budget_db": float}, {"budget_db": 45.0}),
    "sustainability.parameters": MetricSpec("parameters"),
    "sustainability.gflops_per_audio_second": MetricSpec("GFLOPs per second of audio"),
    "sustainability.energy_kwh_per_audio_hour": MetricSpec(
        "energy (kWh per hour of audio)", {"country_iso_code": str}, {"country_iso_code": "USA"}
    ),
}
LEVELS = ("fail", "warn")


@dataclass(frozen=True)
class Verdict:
    status: str  # "PASS" | "WARN" | "FAIL"
    message: str

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


@dataclass(frozen=True)
class Gate:
    metric: str  # "pillar.name"
    bound: str  # "min" | "max"
    threshold: float
    level: str = "fail"
    settings: dict[str, object] = field(default_factory=dict)

    @property
    def pillar(self) -> str:
        return self.metric.split(".", 1)[0]

    @property
    def label(self) -> str:
        return METRICS[self.metric].label

    def judge(self, value: float, context: str) -> Verdict:
        """PASS when `value` is within the bound; otherwise FAIL (or WARN for a warn-level gate)."""
        symbol_ok, symbol_bad = (">=", "<") if self.bound == "min" else ("<=", ">")
        if math.isnan(value):
            ok, detail = False, f"{self.label} could not be measured ({context})"
        else:
            ok = value >= self.threshold if self.bound == "min" else value <= self.threshold
            symbol = symbol_ok if ok else symbol_bad
            detail = f"{self.label} {_fmt(value)} {symbol} {self.bound} {_fmt(self.threshold)} ({context})"
        if ok:
            return Verdict("PASS", detail)
        return Verdict("WARN" if self.level == "warn" else "FAIL", detail)


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) >= 1000:
        return f"{int(value):,}".replace(",", "_")
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:.1f}"


class Gates(dict):
    """Metric name -> Gate, as loaded from one thresholds file."""

    source: Path

    def gate(self, metric: str) -> Gate:
        if metric not in self:
            raise ThresholdError(f"{self.source}: no gate [{metric}]; add it to the thresholds file")
        return self[metric]


def load_gates(path: Path | str) -> Gates:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ThresholdError(f"{path}: thresholds file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ThresholdError(f"{path}: not valid TOML: {error}") from None
    gates = Gates()
    gates.source = path
    for pillar, table in data.items():
        if not isinstance(table, dict):
            raise ThresholdError(f"{path}: key '{pillar}' must be a table like [{pillar}.<metric>]")
        for name, entry in table.items():
            metric = f"{pillar}.{name}"
            gates[metric] = _parse_gate(path, metric, entry)
    return gates


def _parse_gate(path: Path, metric: str, entry: object) -> Gate:
    if metric not in METRICS:
        raise ThresholdError(f"{path}: unknown metric '{metric}'; known: {', '.join(sorted(METRICS))}")
    if not isinstance(entry, dict):
        raise ThresholdError(f"{path}: '{metric}' must be a table with 'min' or 'max'")
    spec = METRICS[metric]
    unknown = [key for key in entry if key not in ("min", "max", "level", *spec.settings)]
    if unknown:
        known = ", ".join(["min", "max", "level", *spec.settings])
        raise ThresholdError(f"{path}: unknown key '{metric}.{unknown[0]}'; known: {known}")
    bounds = [b for b in ("min", "max") if b in entry]
    if len(bounds) != 1:
        raise ThresholdError(f"{path}: '{metric}' needs exactly one of 'min' or 'max'")
    bound = bounds[0]
    threshold = entry[bound]
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise ThresholdError(f"{path}: '{metric}.{bound}' must be a number, got {threshold!r}")
    level = entry.get("level", "fail")
    if level not in LEVELS:
        raise ThresholdError(f"{path}: '{metric}.level' must be one of {LEVELS}, got {level!r}")
    settings = dict(spec.defaults)
    for key, value in entry.items():
        if key in ("min", "max", "level"):
            continue
        expected = spec.settings[key]
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ThresholdError(f"{path}: '{metric}.{key}' must be {expected.__name__}, got {value!r}")
        settings[key] = value
    return Gate(metric, bound, float(threshold), level, settings)
