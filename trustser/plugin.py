"""The pytest plugin: audit options, backbone parametrisation, fixtures, JUnit properties, reports.

Heavy libraries are imported only when a trust test first needs them, so collecting the suite and
running the project's own unit tests stay fast.
"""

from __future__ import annotations

import dataclasses
import math
import os
import uuid
import warnings
from pathlib import Path

import pytest

from trustser.errors import NotApplicable
from trustser.report.baseline import BaselineError, load_baseline, normalised_corpus, unmatched
from trustser.report.collector import TrustReportCollector, parts_dir
from trustser.report.records import TrustRecord, plain_details
from trustser.thresholds import Gate, Gates, ThresholdError, load_gates, worst
from trustser.vocabulary import Verdict

DEFAULT_BACKBONES = "mfcc,egemaps,ge2e"
_GATES = pytest.StashKey[Gates]()
_TOKEN = pytest.StashKey[str]()
_BASELINE = pytest.StashKey[dict]()
_SESSION = pytest.StashKey[object]()  # this process's AuditSession, built when trust tests first need it
_GATES_CHECKED = pytest.StashKey[bool]()  # every collected trust test has its gate


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("trustser", "TrustSER trust audit")
    group.addoption("--backbone", default=None,
                    help=f"comma-separated encoders to audit, each with our trained head (default {DEFAULT_BACKBONES}, "
                         "or none when --model is given)")
    group.addoption("--model", default=None,
                    help="comma-separated finished models to audit as they are, e.g. hf:/path/to/checkpoint "
                         "(a Hugging Face audio-classification checkpoint)")
    group.addoption("--model-labels", default=None, metavar="LABEL=EMOTION,...",
                    help="how the model's labels (id2label names or ids) map to the audit's emotions; "
                         "default: read from the names (ang, Anger, hap, ...); LABEL=- leaves one out")
    group.addoption("--corpus", default="synthetic", help="corpus spec, e.g. synthetic or synthetic:speakers=8,sentences=20,seed=0")
    group.addoption("--thresholds", default=None, help="release gates (default: thresholds.toml in the rootdir)")
    group.addoption("--trust-report", default="trust-report", help="directory for the trust report (default trust-report/)")
    group.addoption("--seed", type=int, default=0, help="seed for folds, training and attacks (default 0)")
    group.addoption("--folds", type=int, default=4, help="speaker-independent folds (default 4); corpora with their own scheme "
                         "(IEMOCAP sessions, MSP-Podcast partitions) use theirs")
    group.addoption("--trust-cache", default=None, help="cache directory (default $TRUSTSER_CACHE or ~/.cache/trustser)")
    group.addoption("--on-bad-audio", default="skip", choices=("skip", "fail"),
                    help="a missing, undecodable, empty or NaN corpus file: skip it (counted, named) or fail (default skip)")
    group.addoption("--device", default="auto", metavar="auto|cpu|cuda|cuda:N",
                    help="where extraction, head training, attacks and noise run (default auto: a GPU when torch sees one)")
    group.addoption("--precision", default="fp32", choices=("fp32", "fp16", "bf16"),
                    help="extraction precision on a GPU (autocast); always fp32 on the CPU (default fp32)")
    group.addoption("--feature-dtype", default="float32", choices=("float32", "float16"),
                    help="how stored features are kept on disk; float16 halves disk and I/O (default float32)")
    group.addoption("--batch-seconds", type=float, default=60.0,
                    help="padded audio per extraction batch, seconds (default 60); halved automatically on CUDA OOM")
    group.addoption("--head-max-epochs", type=int, default=None,
                    help="most epochs an emotion head trains; early stopping on dev UAR may end it sooner (default: the recipe's 40)")
    group.addoption("--trust-deep", action="store_true",
                    help="also run the extended battery (PGD-L2, APGD, targeted PGD, invariance search): slower")
    group.addoption("--trust-baseline", default=None, metavar="JSON",
                    help="a previous trust_report.json: every metric also fails when it regressed beyond its tolerance")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "trust(metric): a trust test gated by the named thresholds.toml metric")
    config.addinivalue_line("markers", "deep: part of the extended battery, run only with --trust-deep")
    if getattr(config.option, "numprocesses", None) and _is_controller(config):
        _gates(config)  # under pytest-xdist the workers collect: a bad file is reported once, here
    baseline = config.getoption("trust_baseline")
    if baseline:
        try:
            config.stash[_BASELINE] = load_baseline(baseline)
        except BaselineError as error:
            raise pytest.UsageError(str(error)) from None
        missing = unmatched(config.stash[_BASELINE], audited_backbones(config), config.getoption("corpus"))
        if missing:
            held = sorted({f"{b} on {c}" for _, b, c in config.stash[_BASELINE]})
            warnings.warn(f"baseline {baseline} has no records for {', '.join(missing)} on {config.getoption('corpus')}; "
                          f"those are not checked for regressions (it holds: {'; '.join(held) or 'nothing'})")
    _check_compute_options(config)
    _group_backbones_on_workers(config)
    workerinput = getattr(config, "workerinput", None)
    # the controller's pid leads the token, so a later run can tell the pieces of a killed run (trustser.report.collector)
    config.stash[_TOKEN] = workerinput["trustser_token"] if workerinput else f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    if workerinput is None:  # under pytest-xdist only the controller writes the report
        collector = TrustReportCollector(config, token=config.stash[_TOKEN], backbones=audited_backbones(config),
                                         cache_root=cache_root(config))
        config.pluginmanager.register(collector, "trustser-report")


def _gates(config: pytest.Config) -> Gates | None:
    """The release gates, loaded and validated when first needed (a run without trust tests never
    reads them); None without a thresholds file."""
    if _GATES not in config.stash:
        explicit = config.getoption("thresholds")
        path = Path(explicit) if explicit else config.rootpath / "thresholds.toml"
        if not explicit and not path.exists():
            return None
        try:
            config.stash[_GATES] = load_gates(path)
        except ThresholdError as error:
            raise pytest.UsageError(str(error)) from None
    return config.stash[_GATES]


def _check_compute_options(config: pytest.Config) -> None:
    """A --device the machine lacks, a bad --batch-seconds or --head-max-epochs stops the run before any test."""
    if not config.getoption("batch_seconds") > 0:
        raise pytest.UsageError(f"--batch-seconds must be positive, got {config.getoption('batch_seconds')}")
    if config.getoption("head_max_epochs") is not None and not config.getoption("head_max_epochs") >= 1:
        raise pytest.UsageError(f"--head-max-epochs must be at least 1, got {config.getoption('head_max_epochs')}")
    device = config.getoption("device")
    if device not in ("auto", "cpu"):  # only then is torch worth importing here
        from trustser.devices import DeviceError, resolve_device

        try:
            resolve_device(device)
        except DeviceError as error:
            raise pytest.UsageError(str(error)) from None


def _group_backbones_on_workers(config: pytest.Config) -> None:
    """Under `pytest -n N`, keep each backbone's tests on one worker (xdist's loadgroup scheduling).

    A backbone's features, heads and results are built once per process; spreading its tests over
    workers would only make several processes wait on the same cache lock.
    """
    if getattr(config.option, "dist", "no") == "load" and getattr(config.option, "numprocesses", None):
        config.option.dist = "loadgroup"


def _is_trust_test(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return item.get_closest_marker("trust") is not None and callspec is not None and "backbone" in callspec.params


def _is_controller(config: pytest.Config) -> bool:
    return getattr(config, "workerinput", None) is None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    collector = config.pluginmanager.get_plugin("trustser-report")
    if collector is not None and not config.option.collectonly and any(map(_is_trust_test, items)):
        collector.start_report()  # the previous run's report goes now: what is on disk belongs to this run
    _check_every_trust_test_has_a_gate(config, items)
    config.stash[_GATES_CHECKED] = True
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "backbone" in callspec.params:
            item.add_marker(pytest.mark.xdist_group(f"backbone-{callspec.params['backbone']}"))


def _check_every_trust_test_has_a_gate(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A trust test whose metric the thresholds file lacks stops the run at collection, naming both."""
    if not any(item.get_closest_marker("trust") for item in items):
        return
    gates = _gates(config)
    if gates is None:
        raise pytest.UsageError(f"no thresholds file: pass --thresholds or add thresholds.toml to {config.rootpath}")
    for item in items:
        marker = item.get_closest_marker("trust")
        if marker is None:
            continue
        if not marker.args:
            raise pytest.UsageError(f"{item.nodeid}: a trust test needs @pytest.mark.trust('<pillar.metric>')")
        if marker.args[0] not in gates:
            raise pytest.UsageError(f"{item.nodeid}: no gate [{marker.args[0]}] in {gates.source}; add it to the thresholds file")


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """A bad corpus, backbone or model stops the run here, once, with a usage error: before any test.

    Under pytest-xdist the workers collect, not the controller, and each worker reports such a
    problem as its trust tests' ERROR rows instead.
    """
    config = session.config
    uses_the_audit = any("trust_session" in getattr(item, "fixturenames", ()) for item in session.items)
    if not config.stash.get(_GATES_CHECKED, False):
        return  # collection already stopped (pytest calls this hook even then): that error is the one to show
    if config.option.collectonly or not _is_controller(config) or not uses_the_audit:
        return
    from trustser.session import ConfigurationError

    try:
        audit_session(config).check()
    except ConfigurationError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # pytest-xdist hook: share the session token with workers
    node.workerinput["trustser_token"] = node.config.stash[_TOKEN]


def _split(option: str | None) -> list[str]:
    return [part.strip() for part in (option or "").split(",") if part.strip()]


def audited_backbones(config: pytest.Config) -> list[str]:
    """What the trust tests are parametrised over: backbones, then finished models as `model:<spec>`."""
    from trustser.models import MODEL_PREFIX

    models = [MODEL_PREFIX + spec for spec in _split(config.getoption("model"))]
    backbone = config.getoption("backbone")
    return _split(DEFAULT_BACKBONES if backbone is None and not models else backbone) + models


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backbone" in metafunc.fixturenames:
        backbones = audited_backbones(metafunc.config)
        metafunc.parametrize("backbone", backbones, ids=backbones, scope="session")


def _report_dir(config: pytest.Config) -> Path:
    return Path(config.getoption("trust_report"))


def _parts_dir(config: pytest.Config) -> Path:
    return parts_dir(_report_dir(config), config.stash[_TOKEN])


def cache_root(config: pytest.Config) -> Path:
    from trustser.cache import default_root

    return Path(config.getoption("trust_cache") or default_root())


def audit_session(config: pytest.Config):
    """This process's audit session, built on first use (by the collection check or the first trust test)."""
    if _SESSION not in config.stash:
        config.stash[_SESSION] = _new_session(config)
    return config.stash[_SESSION]


@pytest.fixture(scope="session")
def trust_session(pytestconfig: pytest.Config):
    session = audit_session(pytestconfig)
    _announce_corpus(pytestconfig, session)
    yield session
    session.save_predictions()  # for the report (predictions.csv), once every test has run


def _new_session(pytestconfig: pytest.Config):
    from trustser.session import AuditSession, AuditSettings

    settings = AuditSettings(
        backbones=tuple(audited_backbones(pytestconfig)),
        corpus=pytestconfig.getoption("corpus"),
        report_dir=_report_dir(pytestconfig),
        cache_root=cache_root(pytestconfig),
        seed=pytestconfig.getoption("seed"),
        folds=pytestconfig.getoption("folds"),
        on_bad_audio=pytestconfig.getoption("on_bad_audio"),
        model_labels=pytestconfig.getoption("model_labels"),
        device=pytestconfig.getoption("device"),
        precision=pytestconfig.getoption("precision"),
        feature_dtype=pytestconfig.getoption("feature_dtype"),
        batch_seconds=pytestconfig.getoption("batch_seconds"),
    )
    if pytestconfig.getoption("head_max_epochs") is not None:
        settings = dataclasses.replace(settings, head_max_epochs=pytestconfig.getoption("head_max_epochs"))
    return AuditSession(settings, _parts_dir(pytestconfig), progress=_terminal_writer(pytestconfig))


def _terminal_writer(config: pytest.Config):
    """Progress lines for long work (extraction), shown in the pytest output despite output capture."""
    import sys

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def write(line: str) -> None:
        if reporter is None or capture is None:  # e.g. a pytest-xdist worker: its stderr is all there is
            print(line, file=sys.stderr, flush=True)
            return
        with capture.global_and_fixture_disabled():
            if reporter._tw.width_of_current_line:  # mid-way through a line of test progress dots
                reporter.write("\n")
            reporter.write_line(line)

    return write


def _announce_corpus(config: pytest.Config, session) -> None:
    """Print the corpus summary as the audit starts and keep it for the report (corpus_summary.json)."""
    summary = session.corpus_summary
    summary.save(_parts_dir(config) / "corpus_summary.json")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.ensure_newline()
        reporter.write_sep("-", "corpus")
        for line in summary.render().splitlines():
            reporter.write_line(line)


@pytest.fixture
def backbone_run(backbone: str, trust_session):
    """The current backbone's run (features, per-fold heads, predictions), computed once per session."""
    run = trust_session.run(backbone)
    try:
        run.encoder  # a missing checkpoint or extra, or unmappable labels: one line, not a traceback
    except (FileNotFoundError, ImportError, ValueError) as error:
        problem = f"{backbone}: {error}"
    else:
        return run
    pytest.fail(problem, pytrace=False)  # outside `except`, so no chained traceback is printed


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
        self, value: float | None, verdict: str, message: str, n: int | None, result: object = None,
        ci: tuple[float, float] | None = None,
    ) -> TrustRecord:
        record = TrustRecord(
            pillar=self.gate.pillar, metric=self.gate.metric, label=self.gate.label, backbone=self.backbone,
            corpus=self.corpus, value=value, threshold=self.gate.threshold, bound=self.gate.bound,
            verdict=verdict, n=n, message=message, details=plain_details(result),
            ci_low=None if ci is None else float(ci[0]), ci_high=None if ci is None else float(ci[1]),
            baseline=self.baseline,
        )
        self.item.user_properties.extend(record.junit_properties())
        return record

    def check(
        self, value: float, n: int | None = None, result: object = None,
        ci: tuple[float, float] | None = None, group_size: int | None = None,
    ) -> None:
        """Judge `value` (its 95% `ci` for a ci gate; WARN when `group_size` is below the gate's minimum).

        A value that is not a finite number was not measured: an ERROR, never judged against the gate.
        """
        context = f"{self.backbone} on {self.corpus}"
        if not math.isfinite(float(value)):
            message = f"{self.gate.label} not measured ({context}): the evaluator returned {float(value)}"
            self.record(None, Verdict.ERROR, message, n, result)
            pytest.fail(message, pytrace=False)
        ci = None if ci is None else (float(ci[0]), float(ci[1]))
        judgement = self.gate.judge(float(value), context, ci=ci, group_size=group_size)
        if self.baseline is not None:
            judgement = worst(judgement, self.gate.judge_regression(float(value), self.baseline, context))
        self.record(float(value), judgement.verdict, judgement.message, n, result, ci=ci)
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
    gates = _gates(request.config)
    if gates is None:
        raise pytest.UsageError(f"no thresholds file: pass --thresholds or add thresholds.toml to {request.config.rootpath}")
    gate = gates.gate(_metric_of(request.node))
    corpus = request.config.getoption("corpus")
    baseline = request.config.stash.get(_BASELINE, {}).get((gate.metric, backbone, normalised_corpus(corpus)))
    check = TrustCheck(request.node, gate, backbone, corpus, baseline)
    if request.node.get_closest_marker("deep") and not request.config.getoption("trust_deep"):
        reason = "extended battery: run with --trust-deep"
        check.record(None, Verdict.SKIP, f"{gate.label} not measured ({backbone} on {corpus}): {reason}", None)
        pytest.skip(reason)
    return check


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A trust test that crashed before recording a verdict still gets a record: ERROR and the reason,
    so every collected trust test is a row of every report."""
    report = yield
    if report.failed and item.get_closest_marker("trust") and not any(name == "verdict" for name, _ in item.user_properties):
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
    gates = item.config.stash.get(_GATES, None)
    callspec = getattr(item, "callspec", None)
    metric = _metric_of(item)
    if gates is None or metric not in gates or callspec is None or "backbone" not in callspec.params:
        return None  # no gate or backbone to name: pytest's own report of the failure is all there is
    gate, backbone, corpus = gates[metric], str(callspec.params["backbone"]), item.config.getoption("corpus")
    message = f"{gate.label} not measured ({backbone} on {corpus}): {_one_line_reason(report)}"
    return TrustRecord(pillar=gate.pillar, metric=gate.metric, label=gate.label, backbone=backbone, corpus=corpus,
                       value=None, threshold=gate.threshold, bound=gate.bound, verdict=Verdict.ERROR, n=None, message=message)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    from trustser.memory import release_free_memory

    release_free_memory()  # what a test freed is handed back, so the next test's peak does not stack on it


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    try:
        return (yield)
    except NotApplicable as reason:
        check = pyfuncitem.funcargs.get("trust")
        if isinstance(check, TrustCheck):
            check.record(None, Verdict.SKIP, f"{check.gate.label} not applicable to {check.backbone}: {reason}", None)
        pytest.skip(str(reason))

