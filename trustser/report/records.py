"""The one record every reported number travels in: evaluator -> JUnit -> JSON/Markdown.

A record is written as JUnit properties (strings) by the test that measured it and rebuilt from
those properties by whoever renders reports, so it survives pytest-xdist, where results reach the
controller only through test reports.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trustser.vocabulary import Verdict

if TYPE_CHECKING:
    from trustser.gates.measurement import Measurement
    from trustser.gates.thresholds import Gate, Judgement

SCHEMA_VERSION = "1"
_JUNIT_FIELDS = (
    "pillar",
    "metric",
    "value",
    "threshold",
    "backbone",
    "corpus",
    "bound",
    "verdict",
    "n",
    "label",
    "ci_low",
    "ci_high",
    "baseline",
)


@dataclass(frozen=True)
class TrustRecord:
    pillar: str
    metric: str  # "pillar.name" as in thresholds.toml
    label: str
    backbone: str
    corpus: str
    value: float | None  # None when not measured (verdict SKIP or ERROR)
    threshold: float
    bound: str  # "min" | "max"
    verdict: str  # PASS | WARN | FAIL | SKIP
    n: int | None
    message: str
    details: dict = field(default_factory=dict)
    ci_low: float | None = None  # 95% confidence interval of `value`, where the evaluator gives one
    ci_high: float | None = None
    baseline: float | None = None  # the same metric in the --trust-baseline report, if one was given

    @classmethod
    def measured(
        cls,
        gate: Gate,
        backbone: str,
        corpus: str,
        measurement: Measurement,
        judgement: Judgement,
        *,
        baseline: float | None = None,
    ) -> "TrustRecord":
        """A value the gate judged: the measurement whole (value, n, interval, the evaluator's result as details)."""
        from trustser.formatting import plain_details

        interval = measurement.interval
        return cls._of_gate(
            gate,
            backbone,
            corpus,
            value=float(measurement.value),
            verdict=judgement.verdict,
            message=judgement.message,
            n=measurement.n,
            details=plain_details(measurement.details),
            ci_low=None if interval is None else interval[0],
            ci_high=None if interval is None else interval[1],
            baseline=baseline,
        )

    @classmethod
    def error(
        cls,
        gate: Gate,
        backbone: str,
        corpus: str,
        message: str,
        *,
        measurement: Measurement | None = None,
        baseline: float | None = None,
    ) -> "TrustRecord":
        """Not measured (ERROR): the test crashed, or its evaluator returned no finite value (`measurement`,
        whose count and details are kept)."""
        from trustser.formatting import plain_details

        return cls._of_gate(
            gate,
            backbone,
            corpus,
            value=None,
            verdict=Verdict.ERROR,
            message=message,
            n=None if measurement is None else measurement.n,
            details=plain_details(None if measurement is None else measurement.details),
            baseline=baseline,
        )

    @classmethod
    def skipped(
        cls, gate: Gate, backbone: str, corpus: str, message: str, *, baseline: float | None = None
    ) -> "TrustRecord":
        """Not measured (SKIP): outside this run's battery, or not applicable to the backbone."""
        return cls._of_gate(
            gate, backbone, corpus, value=None, verdict=Verdict.SKIP, message=message, n=None, baseline=baseline
        )

    @classmethod
    def _of_gate(cls, gate: Gate, backbone: str, corpus: str, **fields: object) -> "TrustRecord":
        return cls(
            pillar=gate.pillar,
            metric=gate.metric,
            label=gate.label,
            backbone=backbone,
            corpus=corpus,
            threshold=gate.threshold,
            bound=gate.bound,
            **fields,
        )

    def junit_properties(self) -> list[tuple[str, str]]:
        pairs = [(name, "" if getattr(self, name) is None else str(getattr(self, name))) for name in _JUNIT_FIELDS]
        return pairs + [("message", self.message), ("details", json.dumps(self.details, sort_keys=True))]

    @classmethod
    def from_properties(cls, properties: list[tuple[str, object]]) -> "TrustRecord | None":
        values = {name: str(value) for name, value in properties}
        if "metric" not in values or "verdict" not in values:
            return None
        return cls(
            pillar=values["pillar"],
            metric=values["metric"],
            label=values.get("label", values["metric"]),
            backbone=values["backbone"],
            corpus=values["corpus"],
            value=float(values["value"]) if values.get("value") else None,
            threshold=float(values["threshold"]),
            bound=values["bound"],
            verdict=values["verdict"],
            n=int(values["n"]) if values.get("n") else None,
            message=values.get("message", ""),
            details=json.loads(values.get("details") or "{}"),
            ci_low=float(values["ci_low"]) if values.get("ci_low") else None,
            ci_high=float(values["ci_high"]) if values.get("ci_high") else None,
            baseline=float(values["baseline"]) if values.get("baseline") else None,
        )

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
