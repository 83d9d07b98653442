"""Release gates: `thresholds.toml` loaded, validated and applied. The only place verdicts are made.

Each gate is a TOML table `[pillar.metric]` with exactly one bound (`min` or `max`), an optional
`level` ("fail", the default, or "warn": reported but never failing the run), an optional `gate`
("point", the default: judge the point estimate; or "ci": judge the least favourable bound of its
95% confidence interval, the upper bound for `max` and the lower for `min`), an optional
`min_group_size` (below it the result is WARN, whatever the value: too few to judge), and the
settings that metric declares (e.g. `budget_db` for an attack). Unknown metrics, unknown keys and
wrong types are errors that name the key.
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


EXPOSABLE = ("layers", "layer_mix", "penultimate", "posteriors")
"""What a released model can expose: encoder layers, the head's learned layer mix, its penultimate
layer, its output posteriors. A gate's `exposed` setting names those the release actually exposes."""

ATTACKS = {"FGSM": "Linf", "PGD": "Linf", "PGDL2": "L2", "APGD": "Linf"}
"""The white-box attacks (torchattacks), each with the norm its SNR budget is turned into."""

_DP_SETTINGS = {"target_epsilon": float, "delta": float, "max_grad_norm": float, "epochs": int}
_DP_DEFAULTS = {"target_epsilon": 8.0, "delta": 0.0, "max_grad_norm": 1.0, "epochs": 20}
_EXPOSED = {"exposed": list}
_EXPOSED_DEFAULT = {"exposed": list(EXPOSABLE)}

_ATTACK_SETTINGS = {"budget_db": float, "per_fold": int, "curve_db": list}

METRICS: dict[str, MetricSpec] = {
    "utility.uar": MetricSpec("UAR"),
    "utility.accuracy": MetricSpec("accuracy"),
    "privacy.gender_inference_uar": MetricSpec("gender inference UAR", _EXPOSED, _EXPOSED_DEFAULT),
    "privacy.age_inference_uar": MetricSpec(
        "age group inference UAR", {**_EXPOSED, "age_bands": list}, {**_EXPOSED_DEFAULT, "age_bands": [40.0]}
    ),
    "privacy.demographic_inference_uar": MetricSpec("demographic inference UAR (most inferable)", _EXPOSED, _EXPOSED_DEFAULT),
    "privacy.speaker_id_accuracy": MetricSpec("speaker identification accuracy", _EXPOSED, _EXPOSED_DEFAULT),
    "privacy.speaker_verification_eer": MetricSpec("speaker verification EER", _EXPOSED, _EXPOSED_DEFAULT),
    "privacy.membership_advantage": MetricSpec("membership inference advantage"),
    "privacy.dp_epsilon": MetricSpec("DP-SGD epsilon", _DP_SETTINGS, _DP_DEFAULTS),
    "privacy.dp_uar_cost": MetricSpec("DP-SGD UAR cost", _DP_SETTINGS, _DP_DEFAULTS),
    "fairness.statistical_parity_gender": MetricSpec("statistical parity difference (gender)"),
    "fairness.equality_of_opportunity_gender": MetricSpec("equality of opportunity difference (gender)"),
    "fairness.uar_difference_gender": MetricSpec("UAR difference between genders"),
    "fairness.statistical_parity_speaker": MetricSpec("statistical parity difference (speakers)"),
    "fairness.equality_of_opportunity_speaker": MetricSpec("equality of opportunity difference (speakers)"),
    "fairness.worst_speaker_uar": MetricSpec("worst-speaker UAR"),
    "safety.fgsm_success_rate": MetricSpec(
        "FGSM success rate", _ATTACK_SETTINGS, {"budget_db": 45.0, "per_fold": 64, "curve_db": [20.0, 30.0, 40.0, 60.0]}
    ),
    "safety.pgd_success_rate": MetricSpec(
        "PGD success rate", _ATTACK_SETTINGS, {"budget_db": 45.0, "per_fold": 16, "curve_db": []}
    ),
    "safety.pgd_l2_success_rate": MetricSpec(
        "PGD-L2 success rate", _ATTACK_SETTINGS, {"budget_db": 45.0, "per_fold": 16, "curve_db": []}
    ),
    "safety.apgd_success_rate": MetricSpec(
        "APGD success rate", _ATTACK_SETTINGS, {"budget_db": 45.0, "per_fold": 16, "curve_db": []}
    ),
    "safety.targeted_pgd_success_rate": MetricSpec(
        "targeted PGD success rate", _ATTACK_SETTINGS, {"budget_db": 45.0, "per_fold": 16, "curve_db": []}
    ),
    "safety.transfer_success_rate": MetricSpec(
        "transfer attack success rate", {"attack": str, "budget_db": float, "per_fold": int, "surrogate": str},
        {"attack": "PGD", "budget_db": 45.0, "per_fold": 32, "surrogate": "mfcc"},
    ),
    "safety.blackbox_success_rate": MetricSpec(
        "score-based black-box attack success rate", {"budget_db": float, "per_fold": int, "max_queries": int},
        {"budget_db": 45.0, "per_fold": 6, "max_queries": 60},
    ),
    "safety.invariance_flip_rate": MetricSpec(
        "flip rate under benign transformations",
        {"gain_db": float, "shift_ms": float, "noise_snr_db": float, "per_fold": int, "max_examples": int},
        {"gain_db": 3.0, "shift_ms": 10.0, "noise_snr_db": 40.0, "per_fold": 4, "max_examples": 15},
    ),
    "safety.noise_uar_drop": MetricSpec(
        "relative UAR drop under noise", {"snr_db": float, "curve_db": list, "per_fold": int},
        {"snr_db": 20.0, "curve_db": [0.0, 10.0], "per_fold": 16},
    ),
    "sustainability.parameters": MetricSpec("parameters"),
    "sustainability.gflops_per_audio_second": MetricSpec("GFLOPs per second of audio"),
    "sustainability.energy_kwh_per_audio_hour": MetricSpec(
        "energy (kWh per hour of audio)", {"country_iso_code": str, "window_seconds": float, "windows": int},
        {"country_iso_code": "USA", "window_seconds": 4.0, "windows": 3},
    ),
    "sustainability.extraction_energy_kwh_per_audio_hour": MetricSpec("extraction energy (kWh per hour of audio)"),
    "sustainability.training_energy_kwh_per_audio_hour": MetricSpec("training energy (kWh per hour of training audio)"),
    "sustainability.real_time_factor": MetricSpec("real-time factor"),
    "sustainability.peak_memory_mb": MetricSpec("peak inference memory (MiB, whole process)"),
}
def _finite(value) -> str | None:
    return None if math.isfinite(value) else "a finite number"


def _non_negative(value) -> str | None:
    return None if math.isfinite(value) and value >= 0 else "a finite number >= 0"


def _positive(value) -> str | None:
    return None if math.isfinite(value) and value > 0 else "a finite number > 0"


def _probability(value) -> str | None:
    return None if 0 <= value < 1 else "a number in [0, 1)"


def _finite_numbers(value) -> str | None:
    ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    return None if ok else "a list of finite numbers"


def _increasing_ages(value) -> str | None:
    ok = value and _finite_numbers(value) is None and all(a < b for a, b in zip([0, *value], value))
    return None if ok else "a non-empty list of increasing ages > 0"


def _exposed(value) -> str | None:
    ok = value and all(v in EXPOSABLE for v in value) and len(set(value)) == len(value)
    return None if ok else f"a non-empty list of distinct names from {list(EXPOSABLE)}"


def _attack(value) -> str | None:
    return None if value in ATTACKS else f"one of {list(ATTACKS)}"


def _country(value) -> str | None:
    return None if len(value) == 3 and value.isascii() and value.isalpha() and value.isupper() else "an ISO 3166-1 alpha-3 code such as 'USA'"


def _non_empty(value) -> str | None:
    return None if value.strip() else "a non-empty string"


SETTING_RULES = {
    "budget_db": _finite, "snr_db": _finite, "noise_snr_db": _finite, "gain_db": _finite, "shift_ms": _non_negative,
    "per_fold": _positive, "epochs": _positive, "max_queries": _positive, "max_examples": _positive,
    "target_epsilon": _positive, "delta": _probability, "max_grad_norm": _positive,
    "curve_db": _finite_numbers, "age_bands": _increasing_ages, "exposed": _exposed,
    "attack": _attack, "country_iso_code": _country, "surrogate": _non_empty,
    "window_seconds": _positive, "windows": _positive,
}
"""What each setting's value must be beyond its type; every setting a metric declares has a rule."""

LEVELS = ("fail", "warn")
GATE_MODES = ("point", "ci")
_COMMON_KEYS = ("min", "max", "level", "gate", "min_group_size")
# Optional per gate: how much worse than the --trust-baseline report a value may get (absolute, or
# relative to the baseline value); the larger allowance applies. Without either, any worsening fails.
REGRESSION_KEYS = ("regression_abs", "regression_rel")


@dataclass(frozen=True)
class Verdict:
    status: str  # "PASS" | "WARN" | "FAIL"
    message: str

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


_SEVERITY = {"PASS": 0, "WARN": 1, "FAIL": 2}


def worst(*verdicts: Verdict) -> Verdict:
    """The most severe verdict; when several fail, one message names every failure."""
    status = max((v.status for v in verdicts), key=_SEVERITY.__getitem__)
    failing = [v.message for v in verdicts if v.status == status]
    return Verdict(status, "; ".join(failing))


@dataclass(frozen=True)
class Gate:
    metric: str  # "pillar.name"
    bound: str  # "min" | "max"
    threshold: float
    level: str = "fail"
    settings: dict[str, object] = field(default_factory=dict)
    mode: str = "point"  # "point" | "ci": what `judge` compares with the threshold
    min_group_size: int = 0  # smallest group (in the unit the test reports) worth a verdict
    regression_abs: float = 0.0
    regression_rel: float = 0.0

    @property
    def pillar(self) -> str:
        return self.metric.split(".", 1)[0]

    @property
    def label(self) -> str:
        return METRICS[self.metric].label

    def judge(
        self, value: float, context: str, ci: tuple[float, float] | None = None, group_size: int | None = None
    ) -> Verdict:
        """PASS when the judged number is within the bound; otherwise FAIL (or WARN for a warn-level gate).

        The judged number is `value` for a point gate and the least favourable bound of `ci` for a
        ci gate. A `group_size` below the gate's `min_group_size` gives WARN whatever the value:
        too few to call it either way.
        """
        symbol_ok, symbol_bad = (">=", "<") if self.bound == "min" else ("<=", ">")
        interval = "" if ci is None else f" [95% CI {_fmt(ci[0])}, {_fmt(ci[1])}]"
        if group_size is not None and group_size < self.min_group_size:
            detail = (f"{self.label} {_fmt(value)}{interval} not judged: smallest group {group_size} "
                      f"< min_group_size {self.min_group_size} ({context})")
            return Verdict("WARN", detail)
        judged, what = value, ""
        if self.mode == "ci":
            if ci is None:
                return Verdict("FAIL", f"{self.label}: gate = 'ci' but no confidence interval was measured ({context})")
            judged, what = (ci[1], "upper") if self.bound == "max" else (ci[0], "lower")
            what = f"95% CI {what} bound "
        if math.isnan(value) or math.isnan(judged):
            ok, detail = False, f"{self.label} could not be measured ({context})"
        else:
            ok = judged >= self.threshold if self.bound == "min" else judged <= self.threshold
            symbol = symbol_ok if ok else symbol_bad
            shown = f"{_fmt(value)}{interval}" if not what else f"{what}{_fmt(judged)} (point {_fmt(value)}{interval})"
            detail = f"{self.label} {shown} {symbol} {self.bound} {_fmt(self.threshold)} ({context})"
        if ok:
            return Verdict("PASS", detail)
        return Verdict("WARN" if self.level == "warn" else "FAIL", detail)

    def judge_regression(self, value: float, baseline: float, context: str) -> Verdict:
        """PASS unless `value` is worse than the baseline's by more than the gate's tolerance."""
        worse_by = value - baseline if self.bound == "max" else baseline - value
        allowed = max(self.regression_abs, self.regression_rel * abs(baseline))
        if math.isnan(value) or worse_by > allowed:
            detail = (f"{self.label} {_fmt(value)} regressed from baseline {_fmt(baseline)} "
                      f"(tolerance {_fmt(allowed)}) ({context})")
            return Verdict("WARN" if self.level == "warn" else "FAIL", detail)
        return Verdict("PASS", f"{self.label} {_fmt(value)} within {_fmt(allowed)} of baseline {_fmt(baseline)} ({context})")


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
    except RecursionError:
        raise ThresholdError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
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
    unknown = [key for key in entry if key not in (*_COMMON_KEYS, *REGRESSION_KEYS, *spec.settings)]
    if unknown:
        known = ", ".join([*_COMMON_KEYS, *REGRESSION_KEYS, *spec.settings])
        raise ThresholdError(f"{path}: unknown key '{metric}.{unknown[0]}'; known: {known}")
    bounds = [b for b in ("min", "max") if b in entry]
    if len(bounds) != 1:
        raise ThresholdError(f"{path}: '{metric}' needs exactly one of 'min' or 'max'")
    bound = bounds[0]
    threshold = entry[bound]
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise ThresholdError(f"{path}: '{metric}.{bound}' must be a finite number, got {threshold!r}")
    level = entry.get("level", "fail")
    if level not in LEVELS:
        raise ThresholdError(f"{path}: '{metric}.level' must be one of {LEVELS}, got {level!r}")
    mode = entry.get("gate", "point")
    if mode not in GATE_MODES:
        raise ThresholdError(f"{path}: '{metric}.gate' must be one of {GATE_MODES}, got {mode!r}")
    min_group_size = entry.get("min_group_size", 0)
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int) or min_group_size < 0:
        raise ThresholdError(f"{path}: '{metric}.min_group_size' must be a non-negative integer, got {min_group_size!r}")
    tolerances = {key: _tolerance(path, metric, key, entry[key]) for key in REGRESSION_KEYS if key in entry}
    settings = dict(spec.defaults)
    for key, value in entry.items():
        if key in (*_COMMON_KEYS, *REGRESSION_KEYS):
            continue
        expected = spec.settings[key]
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ThresholdError(f"{path}: '{metric}.{key}' must be {expected.__name__}, got {value!r}")
        wanted = SETTING_RULES[key](value)
        if wanted is not None:
            raise ThresholdError(f"{path}: '{metric}.{key}' must be {wanted}, got {value!r}")
        settings[key] = value
    return Gate(metric, bound, float(threshold), level, settings, mode=mode, min_group_size=min_group_size, **tolerances)


def _tolerance(path: Path, metric: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ThresholdError(f"{path}: '{metric}.{key}' must be a non-negative number, got {value!r}")
    return float(value)
