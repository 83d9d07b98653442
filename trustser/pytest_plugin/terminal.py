"""What the audit writes into pytest's terminal output, despite output capture: progress lines of long
work (extraction, training) and the corpus summary as the audit starts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from trustser.pytest_plugin.xdist import worker_id

if TYPE_CHECKING:
    from trustser.corpora.summary import CorpusSummary


def progress_writer(config: pytest.Config) -> Callable[[str], None]:
    """Progress lines for long work (extraction), shown in the pytest output despite output capture."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    worker = worker_id(config)

    def write(line: str) -> None:
        if worker is not None and capture is not None:  # an xdist worker's terminal output never reaches the
            with capture.global_and_fixture_disabled():  # user; its own stderr, uncaptured, does
                print(f"[{worker}] {line}", file=sys.__stderr__, flush=True)
            return
        if reporter is None or capture is None:
            print(line, file=sys.stderr, flush=True)
            return
        with capture.global_and_fixture_disabled():
            if reporter._tw.width_of_current_line:  # mid-way through a line of test progress dots
                reporter.write("\n")
            reporter.write_line(line)

    return write


def announce_corpus(config: pytest.Config, summary: CorpusSummary) -> None:
    """The corpus summary, under a `corpus` rule, as the audit starts."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    worker = worker_id(config)
    if worker is not None:  # under pytest-xdist every worker builds the corpus; the first one tells
        if worker == "gw0" and capture is not None:
            with capture.global_and_fixture_disabled():
                print(f"\n{summary.render()}", file=sys.__stderr__, flush=True)
        return
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.ensure_newline()
        reporter.write_sep("-", "corpus")
        for line in summary.render().splitlines():
            reporter.write_line(line)
