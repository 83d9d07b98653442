"""What the `trust` fixture does with a trust test's result: judge it against the test's gate, record it.

A trust test is one line of wiring, `trust.check(audit.uar(backbone_run))`: the check function returns
the metric's whole `Measurement` (trustser.gates.measurement), and `TrustCheck.check` judges it and
records it (JUnit properties, from which every report is rebuilt: trustser.report.records). The
records of tests that measured nothing (skipped, not applicable, crashed) are built here too.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import TYPE_CHECKING, NoReturn

import pytest

from trustser.gates.measurement import Measurement
from trustser.gates.thresholds import Gate, Gates, worst
from trustser.vocabulary import Verdict

if TYPE_CHECKING:
    from trustser.errors import NotApplicable
    from trustser.report.records import TrustRecord


class TrustCheck:
    """Judges one test's measurement against its gate and records it (JUnit property, report)."""

    def __init__(self, item: pytest.Item, gate: Gate, backbone: str, corpus: str, baseline: float | None = None):
        self.item, self.gate, self.backbone, self.corpus = item, gate, backbone, corpus
        self.baseline = baseline  # this metric's value in the --trust-baseline report, if any

    @property
    def settings(self):
        """The metric's settings (its declared dataclass, with the thresholds file's values)."""
        return self.gate.settings

    @property
    def context(self) -> str:
        return f"{self.backbone} on {self.corpus}"

    def check(self, result: Measurement | float) -> None:
        """Judge `result`, what the test's check function returned: its value against the bound (its
        95% interval for a ci gate; WARN when its smallest group or its speakers are below the gate's
        minimum). A bare number counts as a Measurement of nothing but its value.

        A value that is not a finite number was not measured: an ERROR, never judged against the gate.
        """
        from trustser.report.records import TrustRecord

        measurement = _measurement(result)
        value = float(measurement.value)
        if not math.isfinite(value):
            message = f"{self.gate.label} not measured ({self.context}): the evaluator returned {value}"
            self._record(
                TrustRecord.error(
                    self.gate, self.backbone, self.corpus, message, measurement=measurement, baseline=self.baseline
                )
            )
            pytest.fail(message, pytrace=False)
        judgement = self.gate.judge(
            value,
            self.context,
            ci=measurement.interval,
            group_size=measurement.group_size,
            speakers=measurement.speakers,
            note=measurement.note,
        )
        if self.baseline is not None:
            judgement = worst(judgement, self.gate.judge_regression(value, self.baseline, self.context))
        self._record(
            TrustRecord.measured(self.gate, self.backbone, self.corpus, measurement, judgement, baseline=self.baseline)
        )
        if judgement.verdict is Verdict.WARN:
            warnings.warn(judgement.message, stacklevel=2)
        if judgement.failed:
            pytest.fail(judgement.message, pytrace=False)

    def skip_unmeasured(self, reason: str) -> NoReturn:
        """SKIP without measuring (e.g. the extended battery, without --trust-deep), recorded with `reason`."""
        self._skipped(f"{self.gate.label} not measured ({self.context}): {reason}")
        pytest.skip(reason)

    def skip_not_applicable(self, reason: NotApplicable | str) -> NoReturn:
        """SKIP: the evaluator does not apply to this backbone (it raised NotApplicable), recorded with why."""
        self._skipped(f"{self.gate.label} not applicable to {self.backbone}: {reason}")
        pytest.skip(str(reason))

    def _skipped(self, message: str) -> None:
        from trustser.report.records import TrustRecord

        self._record(TrustRecord.skipped(self.gate, self.backbone, self.corpus, message, baseline=self.baseline))

    def _record(self, record: TrustRecord) -> None:
        self.item.user_properties.extend(record.junit_properties())


def _measurement(result: object) -> Measurement:
    if isinstance(result, Measurement):
        return result
    if isinstance(result, numbers.Real):
        return Measurement(float(result))
    raise TypeError(
        f"trust.check takes a Measurement (what the audit's check functions return) or a number, "
        f"got {type(result).__name__}"
    )


def skip_not_applicable(item: pytest.Function, reason: NotApplicable) -> NoReturn:
    """A trust test whose evaluator does not apply to the backbone: SKIP, recorded with the reason."""
    check = item.funcargs.get("trust")
    if isinstance(check, TrustCheck):
        check.skip_not_applicable(reason)
    pytest.skip(str(reason))


def needs_a_test_corpus(item: pytest.Item) -> bool:
    """A cross-corpus test (UAR, fairness, the transfer drop on a --test-corpus) in a run without
    --test-corpus: deselected, not a SKIP row, since such a row would sit beside the in-corpus row of the
    same gate and every run without a second corpus would carry it."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return "test_corpus" in params and params["test_corpus"] is None


def needs_an_export(item: pytest.Item, exports: dict[str, str]) -> bool:
    """An export-parity test (fixture `parity_run`) of a backbone that --export-parity gave no export: deselected,
    as a cross-corpus test without --test-corpus is."""
    fixtures = getattr(item, "fixturenames", ())
    params = getattr(getattr(item, "callspec", None), "params", {})
    return "parity_run" in fixtures and params.get("backbone") not in exports


def corpus_of(item: pytest.Item, corpus: str) -> str:
    """The corpus a trust test's records name: a cross-corpus test's test corpus (parameter `test_corpus`),
    else `corpus` (--corpus). So a cross-corpus row is told from the in-corpus row of the same gate."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "test_corpus" not in params:
        return corpus
    return params["test_corpus"] or corpus


def metric_of(item: pytest.Item) -> str:
    """The metric a trust test's `@pytest.mark.trust` names."""
    marker = item.get_closest_marker("trust")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{item.nodeid}: a trust test needs @pytest.mark.trust('<pillar.metric>')")
    return marker.args[0]


def unrecorded_record(item: pytest.Item, report: pytest.TestReport, gates: Gates | None) -> TrustRecord | None:
    """The record of a trust test that ended without recording a verdict: ERROR when it crashed, SKIP when
    a skip mark or `pytest.skip` outside the trust check stopped it, each with pytest's one-line reason.
    None when there is no gate or backbone to name (pytest's own report is all there is)."""
    from trustser.report.records import TrustRecord

    callspec = getattr(item, "callspec", None)
    metric = metric_of(item)
    if gates is None or metric not in gates or callspec is None or "backbone" not in callspec.params:
        return None
    gate, backbone = gates[metric], str(callspec.params["backbone"])
    corpus = corpus_of(item, item.config.getoption("trust_corpus"))
    if report.skipped:
        reason = _skip_reason(report)
        return TrustRecord.skipped(
            gate, backbone, corpus, f"{gate.label} not measured ({backbone} on {corpus}): {reason}"
        )
    message = f"{gate.label} not measured ({backbone} on {corpus}): {_one_line_reason(report)}"
    return TrustRecord.error(gate, backbone, corpus, message)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr  # (path, line, "Skipped: reason") for a skip
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return " ".join(str(text).removeprefix("Skipped: ").split()) or "skipped"


def _one_line_reason(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)  # absent when the failure was a plain message
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line for line in text.splitlines() if line.strip()]
    return " ".join(lines[0].split()) if lines else "crashed"
