"""The trust report of a run: the session token that names this run's pieces, where the pieces go, the
collector that writes the report (trustser.report.collector), registered in the controller only, and
what it must know to tell a run cut short: the trust tests collected, and SIGTERM as an interrupt
(trustser.pytest_plugin.interrupts)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from trustser.pytest_plugin import interrupts, xdist
from trustser.pytest_plugin.gating import is_trust_test
from trustser.pytest_plugin.settings import audit_options
from trustser.report.collector import TrustReportCollector, parts_dir, save_collected

_TOKEN = pytest.StashKey[str]()
_COLLECTOR = "trustser-report"


def start(config: pytest.Config) -> None:
    """The session's token, and in the controller the report collector (under pytest-xdist only the
    controller writes the report)."""
    # the controller's pid leads the token, so a later run can tell the pieces of a killed run
    # (trustser.report.collector)
    config.stash[_TOKEN] = xdist.controller_token(config) or f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    if xdist.is_controller(config):
        audit = audit_options(config)
        collector = TrustReportCollector(
            config, token=config.stash[_TOKEN], backbones=audit.backbones, cache_root=audit.cache_root
        )
        config.pluginmanager.register(collector, _COLLECTOR)
        if xdist.runs_workers(config) and audit.asks_for_the_audit:
            interrupts.interrupt_on_sigterm(config)  # the controller collects nothing: this is when it knows


def token(config: pytest.Config) -> str:
    return config.stash[_TOKEN]


def parts(config: pytest.Config) -> Path:
    """Where this session's processes leave pieces of the report (corpus summary, predictions)."""
    return parts_dir(audit_options(config).report_dir, config.stash[_TOKEN])


def start_report_if_auditing(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The previous run's report goes as soon as trust tests are collected: what is on disk belongs to this run."""
    collector = config.pluginmanager.get_plugin(_COLLECTOR)
    if collector is not None and not config.option.collectonly and any(map(is_trust_test, items)):
        collector.start_report()
        interrupts.interrupt_on_sigterm(config)


def note_collected(session: pytest.Session) -> None:
    """The trust tests this run will run (after deselection), so that the report can say which have no
    result: the collector's own list, or under pytest-xdist each worker's, left among the run's pieces."""
    if session.config.option.collectonly:
        return
    nodeids = [item.nodeid for item in session.items if is_trust_test(item)]
    collector = session.config.pluginmanager.get_plugin(_COLLECTOR)
    if collector is not None:
        collector.collected = set(nodeids)
    elif nodeids:
        save_collected(parts(session.config), session.config.workerinput["workerid"], nodeids)


def stop(config: pytest.Config) -> None:
    """From the end of the session on, SIGTERM is what it was: the report is being written."""
    interrupts.restore(config)
