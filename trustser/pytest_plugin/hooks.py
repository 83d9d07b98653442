"""The pytest plugin's hooks: what pytest must find on the registered plugin module (entry point
`pytest11`), each handing its job to the module that does it: options and settings (`options`,
`settings`), gates and collection (`gating`), pytest-xdist (`xdist`), the baseline (`baseline`), the
report (`reporting`), the audit session and the fixtures (`session`, `fixtures`), terminal output
(`terminal`), and the trust check with the records of failed tests (`check`).

Installed, it is loaded into every pytest run of the environment, so it stays inert unless the run
collects a trust test (`@pytest.mark.trust`) or is given a trust option: every hook below acts on trust
tests only, and importing it loads no heavy library (numpy, torch and the report writers are imported
when a trust test first needs them). `-p no:trustser` turns it off.
"""

from __future__ import annotations

import pytest

from trustser.errors import CacheWriteError, ModelOutputError, NotApplicable
from trustser.pytest_plugin import baseline, gating, options, reporting, settings, xdist
from trustser.pytest_plugin.check import (
    TrustCheck,
    needs_a_test_corpus,
    needs_an_export,
    skip_not_applicable,
    unrecorded_record,
)
from trustser.pytest_plugin.fixtures import backbone_run, parity_run, transfer_run, trust, trust_session
from trustser.pytest_plugin.session import check_before_any_test

# the fixtures pytest registers from here
__all__ = ["TrustCheck", "backbone_run", "parity_run", "transfer_run", "trust", "trust_session"]


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
    if audit.asks_for_the_audit:
        xdist.share_the_cores(config)
    reporting.start(config)


@pytest.hookimpl(tryfirst=True)  # deselection and the protocol's order before other plugins see the items
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    exports = settings.audit_options(config).export_pairs
    idle = [item for item in items if needs_a_test_corpus(item) or needs_an_export(item, exports)]
    if idle:
        config.hook.pytest_deselected(items=idle)
        items[:] = [item for item in items if not (needs_a_test_corpus(item) or needs_an_export(item, exports))]
    reporting.start_report_if_auditing(config, items)
    gating.check_every_trust_test_has_a_gate(config, items)
    gating.protocol_first(items)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """A bad corpus, backbone or model stops the run here, once, with a usage error: before any test."""
    reporting.note_collected(session)
    check_before_any_test(session)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    reporting.stop(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    reporting.stop(config)  # a session that never finished (pytest calls this whatever happened)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # pytest-xdist hook: share the session token with workers
    xdist.configure_node(node, reporting.token(node.config))


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # before xdist's own answer (a worker per core)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:  # pytest-xdist hook: what `-n auto` means
    audit = settings.audit_options(config)
    return xdist.auto_workers(audit.backbones, executor=audit.executor) if audit.asks_for_the_audit else None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # pytest-xdist hook: a backbone's tests on one worker
    if config.option.dist != "loadgroup" or not settings.audit_options(config).asks_for_the_audit:
        return None
    return xdist.backbone_scheduler(config, log, settings.audit_options(config).backbones)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if gating.audits_a_backbone(metafunc):
        backbones = settings.audit_options(metafunc.config).backbones
        metafunc.parametrize("backbone", backbones, ids=backbones, scope="session")
        if "test_corpus" in metafunc.fixturenames:  # a cross-corpus test: one per --test-corpus, or one without
            specs = settings.audit_options(metafunc.config).test_corpora
            ids = specs or ["no-test-corpus"]
            metafunc.parametrize("test_corpus", specs or [None], ids=ids, scope="session")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A trust test that crashed before recording a verdict still gets a record, ERROR and the reason, and
    one a skip mark stopped a SKIP: so every collected trust test is a row of every report."""
    report = yield
    if (
        (report.failed or (report.skipped and not hasattr(report, "wasxfail")))
        and item.get_closest_marker("trust")
        and not any(name == "verdict" for name, _ in item.user_properties)
    ):
        record = unrecorded_record(item, report, item.config.stash.get(gating.GATES, None))
        if record is not None:
            item.user_properties.extend(record.junit_properties())
            report.user_properties = list(item.user_properties)
    return report


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    if not gating.is_trust_test(item):
        return
    from trustser.compute.memory import release_free_memory

    release_free_memory()  # what a test freed is handed back, so the next test's peak does not stack on it


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    try:
        return (yield)
    except NotApplicable as reason:
        if not gating.is_trust_test(pyfuncitem):
            raise  # only a trust test's evaluator speaks for its gate; anywhere else it is a plain error
        skip_not_applicable(pyfuncitem, reason)
    except (ModelOutputError, CacheWriteError) as error:
        if not gating.is_trust_test(pyfuncitem):
            raise
        # the model's fault or the machine's (a full disk), not the audit's code: its one line, no traceback
        fault = str(error)
    pytest.fail(fault, pytrace=False)  # outside `except`, so no chained traceback is printed
