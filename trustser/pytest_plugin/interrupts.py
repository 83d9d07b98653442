"""SIGTERM ends an audit as Ctrl-C does: pytest's interrupt path runs (fixture teardown, the report
with its `interrupted` status, exit code 2) instead of the process dying with no report.

CI runners, `timeout` and container stops send SIGTERM, and Python's default is to die at once. The
handler is installed only in the process that writes the report (the pytest-xdist controller, or the
one process of a serial run), only once the run is known to audit, and only for the first SIGTERM: it
puts the previous handler back as it raises, so a second SIGTERM ends the process as it always did.
"""

from __future__ import annotations

import signal
import threading

import pytest

from trustser.pytest_plugin import xdist

_PREVIOUS = pytest.StashKey[object]()  # the SIGTERM handler before ours: a callable, SIG_DFL or None
_OURS = pytest.StashKey[object]()


def interrupt_on_sigterm(config: pytest.Config) -> None:
    """From now until `restore`, SIGTERM raises KeyboardInterrupt in the main thread (once)."""
    if _PREVIOUS in config.stash or not xdist.is_controller(config):
        return
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread (pytest run inside a thread)
    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_IGN:
        return  # whoever started this run chose to ignore SIGTERM; that choice stands

    def interrupt(signum: int, frame: object) -> None:
        _put_back(previous)
        raise KeyboardInterrupt("stopped by SIGTERM")

    signal.signal(signal.SIGTERM, interrupt)
    config.stash[_PREVIOUS] = previous
    config.stash[_OURS] = interrupt


def restore(config: pytest.Config) -> None:
    """The previous SIGTERM handler again, unless someone has replaced ours since (theirs stays)."""
    if _OURS not in config.stash:
        return
    previous, ours = config.stash[_PREVIOUS], config.stash[_OURS]
    del config.stash[_PREVIOUS], config.stash[_OURS]
    if signal.getsignal(signal.SIGTERM) is ours and threading.current_thread() is threading.main_thread():
        _put_back(previous)


def _put_back(previous: object) -> None:
    # None: the previous handler was not set from Python, i.e. the default
    signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
