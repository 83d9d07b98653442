"""The trust report of a run: the session token that names this run's pieces, where the pieces go, and
the collector that writes the report (trustser.report.collector), registered in the controller only."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from trustser.pytest_plugin import xdist
from trustser.pytest_plugin.gating import is_trust_test
from trustser.pytest_plugin.settings import audit_options
from trustser.report.collector import TrustReportCollector, parts_dir

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
