"""The pytest plugin's hooks: what pytest must find on the registered plugin module (entry point
`pytest11`), each handing its job to the module that does it: options and settings (`options`,
`settings`), gates and collection (`gating`), pytest-xdist (`xdist`), the baseline (`baseline`), the
report (`reporting`), the audit session and its fixtures (`session`, `fixtures`), terminal output
(`terminal`); and the trust check (`TrustCheck`, the `trust` fixture) with the records of failed tests.

Installed, it is loaded into every pytest run of the environment, so it stays inert unless the run
collects a trust test (`@pytest.mark.trust`) or is given a trust option: every hook below acts on trust
tests only, and importing it loads no heavy library (numpy, torch and the report writers are imported
when a trust test first needs them). `-p no:trustser` turns it off.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import pytest

from trustser.errors import NotApplicable
from trustser.gates.thresholds import Gate, worst
from trustser.pytest_plugin import baseline, gating, options, reporting, settings, xdist
from trustser.pytest_plugin.fixtures import backbone_run, trust_session
from trustser.pytest_plugin.session import check_before_any_test
from trustser.vocabulary import Verdict

if TYPE_CHECKING:
    from trustser.report.records import TrustRecord

__all__ = ["TrustCheck", "backbone_run", "trust", "trust_session"]  # the fixtures pytest registers from here

# the names TrustCheck, the trust fixture and the records of failed tests use
_GATES = gating.GATES
_BASELINE = baseline.BASELINE
_gates = gating.gates
_no_thresholds_file = gating.no_thresholds_file
_is_trust_test = gating.is_trust_test


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]):
    """The short option names, once the rootdir's conftests have declared theirs (see pytest_plugin.options)."""
    result = yield
    options.add_short_names_where_free(early_config, parser)
    return result


def pytest_configure(config: pytest.Config) -> None:
    audit = settings.audit_options(config)
    options.warn_about_taken_short_names(config, audit.asks_for_the_audit)
    config.addinivalue_line("markers", "trust(metric): a trust test gated by the named thresholds.toml metric")
    config.addinivalue_line("markers", "deep: part of the extended battery, run only with --trust-deep")
    if xdist.runs_workers(config) and audit.asks_for_the_audit:
        gating.gates(config)  # under pytest-xdist the workers collect: a bad file is reported once, here
    baseline.load(config)
    settings.check_compute_options(audit)
    xdist.group_backbones_on_workers(config, audit.asks_for_the_audit)
    reporting.start(config)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's worker reads the xdist_group marks added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reporting.start_report_if_auditing(config, items)
    gating.check_every_trust_test_has_a_gate(config, items)
    xdist.mark_backbone_groups(items)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """A bad corpus, backbone or model stops the run here, once, with a usage error: before any test."""
    check_before_any_test(session)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # pytest-xdist hook: share the session token and the scheduling with workers
    xdist.configure_node(node, reporting.token(node.config))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if gating.audits_a_backbone(metafunc):
        backbones = settings.audit_options(metafunc.config).backbones
        metafunc.parametrize("backbone", backbones, ids=backbones, scope="session")


class TrustCheck:
    """Judges one measured value against the test's gate and records it (JUnit property, report)."""

    def __init__(self, item: pytest.Item, gate: Gate, backbone: str, corpus: str, baseline: float | None = None):
        self.item, self.gate, self.backbone, self.corpus = item, gate, backbone, corpus
        self.baseline = baseline  # this metric's value in the --trust-baseline report, if any

    @property
    def settings(self):
        """The metric's settings (its declared dataclass, with the thresholds file's values)."""
        return self.gate.settings

    def record(
        self,
        value: float | None,
        verdict: str,
        message: str,
        *,
        n: int | None = None,
        result: object = None,
        ci: tuple[float, float] | None = None,
    ) -> TrustRecord:
        from trustser.formatting import plain_details
        from trustser.report.records import TrustRecord

        record = TrustRecord(
            pillar=self.gate.pillar,
            metric=self.gate.metric,
            label=self.gate.label,
            backbone=self.backbone,
            corpus=self.corpus,
            value=value,
            threshold=self.gate.threshold,
            bound=self.gate.bound,
            verdict=verdict,
            n=n,
            message=message,
            details=plain_details(result),
            ci_low=None if ci is None else float(ci[0]),
            ci_high=None if ci is None else float(ci[1]),
            baseline=self.baseline,
        )
        self.item.user_properties.extend(record.junit_properties())
        return record

    def check(
        self,
        value: float,
        *,
        n: int | None = None,
        result: object = None,
        ci: tuple[float, float] | None = None,
        group_size: int | None = None,
    ) -> None:
        """Judge `value` (its 95% `ci` for a ci gate; WARN when `group_size` is below the gate's minimum).

        A value that is not a finite number was not measured: an ERROR, never judged against the gate.
        """
        context = f"{self.backbone} on {self.corpus}"
        if not math.isfinite(float(value)):
            message = f"{self.gate.label} not measured ({context}): the evaluator returned {float(value)}"
            self.record(None, Verdict.ERROR, message, n=n, result=result)
            pytest.fail(message, pytrace=False)
        ci = None if ci is None else (float(ci[0]), float(ci[1]))
        judgement = self.gate.judge(float(value), context, ci=ci, group_size=group_size)
        if self.baseline is not None:
            judgement = worst(judgement, self.gate.judge_regression(float(value), self.baseline, context))
        self.record(float(value), judgement.verdict, judgement.message, n=n, result=result, ci=ci)
        if judgement.verdict is Verdict.WARN:
            warnings.warn(judgement.message, stacklevel=2)
        if judgement.failed:
            pytest.fail(judgement.message, pytrace=False)


def _metric_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("trust")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{item.nodeid}: a trust test needs @pytest.mark.trust('<pillar.metric>')")
    return marker.args[0]


@pytest.fixture
def trust(request: pytest.FixtureRequest, backbone: str) -> TrustCheck:
    """The gate of this test's `@pytest.mark.trust` metric, bound to backbone and corpus."""
    from trustser.report.baseline import normalised_corpus

    gates = _gates(request.config)
    if gates is None:
        raise _no_thresholds_file(request.config)
    gate = gates.gate(_metric_of(request.node))
    corpus = request.config.getoption("trust_corpus")
    baseline = request.config.stash.get(_BASELINE, {}).get((gate.metric, backbone, normalised_corpus(corpus)))
    check = TrustCheck(request.node, gate, backbone, corpus, baseline)
    if request.node.get_closest_marker("deep") and not request.config.getoption("trust_deep"):
        reason = "extended battery: run with --trust-deep"
        check.record(None, Verdict.SKIP, f"{gate.label} not measured ({backbone} on {corpus}): {reason}")
        pytest.skip(reason)
    return check


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A trust test that crashed before recording a verdict still gets a record: ERROR and the reason,
    so every collected trust test is a row of every report."""
    report = yield
    if (
        report.failed
        and item.get_closest_marker("trust")
        and not any(name == "verdict" for name, _ in item.user_properties)
    ):
        record = _error_record(item, report)
        if record is not None:
            item.user_properties.extend(record.junit_properties())
            report.user_properties = list(item.user_properties)
    return report


def _one_line_reason(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)  # absent when the failure was a plain message
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line for line in text.splitlines() if line.strip()]
    return " ".join(lines[0].split()) if lines else "crashed"


def _error_record(item: pytest.Item, report: pytest.TestReport) -> TrustRecord | None:
    from trustser.report.records import TrustRecord

    gates = item.config.stash.get(_GATES, None)
    callspec = getattr(item, "callspec", None)
    metric = _metric_of(item)
    if gates is None or metric not in gates or callspec is None or "backbone" not in callspec.params:
        return None  # no gate or backbone to name: pytest's own report of the failure is all there is
    gate, backbone, corpus = gates[metric], str(callspec.params["backbone"]), item.config.getoption("trust_corpus")
    message = f"{gate.label} not measured ({backbone} on {corpus}): {_one_line_reason(report)}"
    return TrustRecord(
        pillar=gate.pillar,
        metric=gate.metric,
        label=gate.label,
        backbone=backbone,
        corpus=corpus,
        value=None,
        threshold=gate.threshold,
        bound=gate.bound,
        verdict=Verdict.ERROR,
        n=None,
        message=message,
    )


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    if not _is_trust_test(item):
        return
    from trustser.compute.memory import release_free_memory

    release_free_memory()  # what a test freed is handed back, so the next test's peak does not stack on it


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    try:
        return (yield)
    except NotApplicable as reason:
        if not _is_trust_test(pyfuncitem):
            raise  # only a trust test's evaluator speaks for its gate; anywhere else it is a plain error
        check = pyfuncitem.funcargs.get("trust")
        if isinstance(check, TrustCheck):
            check.record(None, Verdict.SKIP, f"{check.gate.label} not applicable to {check.backbone}: {reason}")
        pytest.skip(str(reason))
