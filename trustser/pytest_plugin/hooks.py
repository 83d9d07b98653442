"""The pytest plugin: audit options, backbone parametrisation, fixtures, JUnit properties, reports.

Installed, it is loaded into every pytest run of the environment (entry point `pytest11`), so it
stays inert unless the run collects a trust test (`@pytest.mark.trust`) or is given a trust option:
every hook below acts on trust tests only, and importing it loads no heavy library (numpy, torch and
the report writers are imported when a trust test first needs them). `-p no:trustser` turns it off.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import uuid
import warnings
from collections.abc import Iterable
from pathlib import Path

import pytest

from trustser.errors import NotApplicable
from trustser.gates.thresholds import Gates, ThresholdError, load_gates
from trustser.pillars import declared_metrics
from trustser.pytest_plugin import options, packaged
from trustser.pytest_plugin.check import TrustCheck, error_record, metric_of, skip_not_applicable

_GATES = pytest.StashKey[Gates]()
_TOKEN = pytest.StashKey[str]()
_BASELINE = pytest.StashKey[dict]()
_SESSION = pytest.StashKey[object]()  # this process's AuditSession, built when trust tests first need it
_GATES_CHECKED = pytest.StashKey[bool]()  # every collected trust test has its gate
_SHORT_NAMES_TAKEN = pytest.StashKey[list]()  # short option names a conftest had already claimed


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]):
    """The short option names, once the rootdir's conftests have declared theirs (see pytest_plugin.options)."""
    result = yield
    early_config.stash[_SHORT_NAMES_TAKEN] = options.add_short_names(parser)
    return result


def _warn_about_taken_short_names(config: pytest.Config) -> None:
    taken = config.stash.get(_SHORT_NAMES_TAKEN, [])
    if taken and _asks_for_the_audit(config):
        long_names = ", ".join(name.replace("--", "--" + options.PREFIX, 1) for name in taken)
        config.issue_config_time_warning(
            pytest.PytestConfigWarning(
                f"trustser: {', '.join(taken)} belong to this repository's conftest here; use {long_names}"
            ),
            stacklevel=2,
        )


def pytest_configure(config: pytest.Config) -> None:
    _warn_about_taken_short_names(config)
    config.addinivalue_line("markers", "trust(metric): a trust test gated by the named thresholds.toml metric")
    config.addinivalue_line("markers", "deep: part of the extended battery, run only with --trust-deep")
    if getattr(config.option, "numprocesses", None) and _is_controller(config) and _asks_for_the_audit(config):
        _gates(config)  # under pytest-xdist the workers collect: a bad file is reported once, here
    baseline = config.getoption("trust_baseline")
    if baseline:
        from trustser.report.baseline import BaselineError, load_baseline, unmatched

        try:
            config.stash[_BASELINE] = load_baseline(baseline)
        except BaselineError as error:
            raise pytest.UsageError(str(error)) from None
        missing = unmatched(config.stash[_BASELINE], audited_backbones(config), config.getoption("trust_corpus"))
        if missing:
            held = sorted({f"{b} on {c}" for _, b, c in config.stash[_BASELINE]})
            warnings.warn(
                f"baseline {baseline} has no records for {', '.join(missing)} on {config.getoption('trust_corpus')}; "
                f"those are not checked for regressions (it holds: {'; '.join(held) or 'nothing'})",
                stacklevel=2,
            )
    _check_compute_options(config)
    _group_backbones_on_workers(config)
    workerinput = getattr(config, "workerinput", None)
    # the controller's pid leads the token, so a later run can tell the pieces of a killed run
    # (trustser.report.collector)
    config.stash[_TOKEN] = workerinput["trustser_token"] if workerinput else f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    if workerinput is None:  # under pytest-xdist only the controller writes the report
        from trustser.report.collector import TrustReportCollector

        collector = TrustReportCollector(
            config,
            token=config.stash[_TOKEN],
            backbones=audited_backbones(config),
            cache_root=functools.partial(cache_root, config),
        )
        config.pluginmanager.register(collector, "trustser-report")


def thresholds_file(config: pytest.Config, trust_modules: Iterable[Path] = ()) -> Path | None:
    """Where the gates come from: `--thresholds`; else `thresholds.toml` in the rootdir; else, when every
    trust test collected is one of the packaged suite's (`pytest --pyargs trustser.trust_tests`), the
    packaged defaults. None when none applies.

    A team's own suite never falls back to the packaged defaults: gates it did not choose would be
    judged silently, so it gets the usage error that names the rootdir instead.
    """
    explicit = config.getoption("trust_thresholds")
    if explicit:
        return Path(explicit)
    in_rootdir = config.rootpath / packaged.THRESHOLDS_NAME
    if in_rootdir.exists():
        return in_rootdir
    modules = set(trust_modules)
    if modules and all(map(packaged.in_packaged_suite, modules)):
        return packaged.default_thresholds()
    return None


def _gates(config: pytest.Config, trust_modules: Iterable[Path] = ()) -> Gates | None:
    """The release gates, loaded and validated when first needed (a run without trust tests never
    reads them); None without a thresholds file (`thresholds_file`)."""
    if _GATES not in config.stash:
        path = thresholds_file(config, trust_modules)
        if path is None:
            return None
        try:
            config.stash[_GATES] = load_gates(path, declared_metrics())
        except ThresholdError as error:
            raise pytest.UsageError(str(error)) from None
    return config.stash[_GATES]


def _no_thresholds_file(config: pytest.Config) -> pytest.UsageError:
    return pytest.UsageError(
        f"no thresholds file: pass --thresholds, or add thresholds.toml to the rootdir {config.rootpath} "
        "(`trustser init` writes one)"
    )


def _check_compute_options(config: pytest.Config) -> None:
    """A --device the machine lacks, a bad --batch-seconds, --head-max-epochs or --executor (or Ray not
    installed for it) stops the run before any test."""
    batch_seconds, epochs = config.getoption("trust_batch_seconds"), config.getoption("trust_head_max_epochs")
    if not batch_seconds > 0:
        raise pytest.UsageError(f"--batch-seconds must be positive, got {batch_seconds}")
    if epochs is not None and not epochs >= 1:
        raise pytest.UsageError(f"--head-max-epochs must be at least 1, got {epochs}")
    from trustser.compute.executor import Executor, ExecutorError

    try:
        Executor.parse(config.getoption("trust_executor"))
    except ExecutorError as error:
        raise pytest.UsageError(str(error)) from None
    device = config.getoption("trust_device")
    if device not in ("auto", "cpu"):  # only then is torch worth importing here
        from trustser.compute.devices import DeviceError, resolve_device

        try:
            resolve_device(device)
        except DeviceError as error:
            raise pytest.UsageError(str(error)) from None


def _group_backbones_on_workers(config: pytest.Config) -> None:
    """Under `pytest -n N`, keep each backbone's tests on one worker (xdist's loadgroup scheduling).

    A backbone's features, heads and results are built once per process; spreading its tests over
    workers would only make several processes wait on the same cache lock.
    """
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        # a worker parses the command line anew and never sees the controller's switch, yet only with
        # `loadgroup` set does it add each test's xdist_group to the node id the controller schedules by
        if workerinput.get("trustser_loadgroup"):
            config.option.loadgroup = True
        return
    if (
        getattr(config.option, "dist", "no") == "load"
        and getattr(config.option, "numprocesses", None)
        and _asks_for_the_audit(config)
    ):
        config.option.dist = "loadgroup"


def _asks_for_the_audit(config: pytest.Config) -> bool:
    """Whether the command line asks for the audit before anything is collected: a trust option, or an
    argument inside a trust suite (a `trust_tests` directory, as here and as `trustser init` names it,
    or `trustser.trust_tests`). Only the pytest-xdist controller has to tell this in advance: it collects
    nothing, yet chooses the scheduling and is the one place a bad thresholds file is reported once.
    """
    if any(config.getoption(dest) != default for dest, default in options.DEFAULTS.items()):
        return True
    return any(packaged.SUITE_DIR_NAME in re.split(r"[/\\.:]", arg) for arg in config.args)


def _is_trust_test(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return item.get_closest_marker("trust") is not None and callspec is not None and "backbone" in callspec.params


_AUDIT_FIXTURES = ("trust", "backbone_run", "trust_session")


def _audits_a_backbone(metafunc: pytest.Metafunc) -> bool:
    """A test that takes `backbone` and is part of the audit: it is marked `trust` or asks for one of the
    audit's fixtures. A team's own test with a fixture of its own called `backbone` is left alone.
    (A `trust` mark given through `pytest.param` is not visible here, hence the fixtures.)"""
    if "backbone" not in metafunc.fixturenames:
        return False
    return metafunc.definition.get_closest_marker("trust") is not None or any(
        name in metafunc.fixturenames for name in _AUDIT_FIXTURES
    )


def _is_controller(config: pytest.Config) -> bool:
    return getattr(config, "workerinput", None) is None


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's worker reads the xdist_group marks added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    collector = config.pluginmanager.get_plugin("trustser-report")
    if collector is not None and not config.option.collectonly and any(map(_is_trust_test, items)):
        collector.start_report()  # the previous run's report goes now: what is on disk belongs to this run
    _check_every_trust_test_has_a_gate(config, items)
    config.stash[_GATES_CHECKED] = True
    for item in filter(_is_trust_test, items):
        item.add_marker(pytest.mark.xdist_group(f"backbone-{item.callspec.params['backbone']}"))


def _check_every_trust_test_has_a_gate(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A trust test whose metric the thresholds file lacks stops the run at collection, naming both."""
    trust_modules = {item.path for item in items if item.get_closest_marker("trust")}
    if not trust_modules:
        return
    gates = _gates(config, trust_modules)
    if gates is None:
        raise _no_thresholds_file(config)
    for item in items:
        marker = item.get_closest_marker("trust")
        if marker is None:
            continue
        if not marker.args:
            raise pytest.UsageError(f"{item.nodeid}: a trust test needs @pytest.mark.trust('<pillar.metric>')")
        if marker.args[0] not in gates:
            raise pytest.UsageError(
                f"{item.nodeid}: no gate [{marker.args[0]}] in {gates.source}; add it to the thresholds file"
            )


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
    from trustser.run.session import ConfigurationError

    try:
        audit_session(config).check()
    except ConfigurationError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # pytest-xdist hook: share the session token and the scheduling with workers
    node.workerinput["trustser_token"] = node.config.stash[_TOKEN]
    node.workerinput["trustser_loadgroup"] = node.config.option.dist == "loadgroup"


def _split(option: str | None) -> list[str]:
    return [part.strip() for part in (option or "").split(",") if part.strip()]


def audited_backbones(config: pytest.Config) -> list[str]:
    """What the trust tests are parametrised over: backbones, then finished models as `model:<spec>`."""
    from trustser.models import MODEL_PREFIX

    models = [MODEL_PREFIX + spec for spec in _split(config.getoption("trust_model"))]
    backbone = config.getoption("trust_backbone")
    return _split(options.DEFAULT_BACKBONES if backbone is None and not models else backbone) + models


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if _audits_a_backbone(metafunc):
        backbones = audited_backbones(metafunc.config)
        metafunc.parametrize("backbone", backbones, ids=backbones, scope="session")


def _report_dir(config: pytest.Config) -> Path:
    return Path(config.getoption("trust_report"))


def _parts_dir(config: pytest.Config) -> Path:
    from trustser.report.collector import parts_dir

    return parts_dir(_report_dir(config), config.stash[_TOKEN])


def cache_root(config: pytest.Config) -> Path:
    from trustser.cache.store import default_root

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
    from trustser.run.session import AuditSession, AuditSettings

    settings = AuditSettings(
        backbones=tuple(audited_backbones(pytestconfig)),
        corpus=pytestconfig.getoption("trust_corpus"),
        report_dir=_report_dir(pytestconfig),
        cache_root=cache_root(pytestconfig),
        seed=pytestconfig.getoption("trust_seed"),
        folds=pytestconfig.getoption("trust_folds"),
        on_bad_audio=pytestconfig.getoption("trust_on_bad_audio"),
        model_labels=pytestconfig.getoption("trust_model_labels"),
        device=pytestconfig.getoption("trust_device"),
        precision=pytestconfig.getoption("trust_precision"),
        feature_dtype=pytestconfig.getoption("trust_feature_dtype"),
        batch_seconds=pytestconfig.getoption("trust_batch_seconds"),
        executor=pytestconfig.getoption("trust_executor"),
    )
    if pytestconfig.getoption("trust_head_max_epochs") is not None:
        settings = dataclasses.replace(settings, head_max_epochs=pytestconfig.getoption("trust_head_max_epochs"))
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
        _ = (
            run.encoder
        )  # built now, so a missing checkpoint or extra, or unmappable labels, is one line, not a traceback
    except (FileNotFoundError, ImportError, ValueError) as error:
        problem = f"{backbone}: {error}"
    else:
        return run
    pytest.fail(problem, pytrace=False)  # outside `except`, so no chained traceback is printed


@pytest.fixture
def trust(request: pytest.FixtureRequest, backbone: str) -> TrustCheck:
    """The gate of this test's `@pytest.mark.trust` metric, bound to backbone and corpus."""
    from trustser.report.baseline import normalised_corpus

    gates = _gates(request.config)
    if gates is None:
        raise _no_thresholds_file(request.config)
    gate = gates.gate(metric_of(request.node))
    corpus = request.config.getoption("trust_corpus")
    baseline = request.config.stash.get(_BASELINE, {}).get((gate.metric, backbone, normalised_corpus(corpus)))
    check = TrustCheck(request.node, gate, backbone, corpus, baseline)
    if request.node.get_closest_marker("deep") and not request.config.getoption("trust_deep"):
        check.skip_unmeasured("extended battery: run with --trust-deep")
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
        record = error_record(item, report, item.config.stash.get(_GATES, None))
        if record is not None:
            item.user_properties.extend(record.junit_properties())
            report.user_properties = list(item.user_properties)
    return report


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
        skip_not_applicable(pyfuncitem, reason)
