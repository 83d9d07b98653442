"""The processes a process started, read from Linux's /proc: for the tests that kill an audit with
SIGKILL and check that none of its children outlives it (trustser.compute.children)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

Process = tuple[int, int]
"""(pid, start time in clock ticks since boot): a pid alone may be reused by a later process."""


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, ...), None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # the name, in parentheses, may hold spaces


def descendants(pid: int) -> list[Process]:
    """Every living process below `pid` (children, their children, ...)."""
    table = {int(entry.name): _stat(int(entry.name)) for entry in Path("/proc").iterdir() if entry.name.isdigit()}
    found, parents = [], {pid}
    while parents:
        children = [p for p, fields in table.items() if fields is not None and int(fields[1]) in parents]
        found += [(p, int(table[p][19])) for p in children]
        parents = set(children)
    return found


def alive(process: Process) -> bool:
    """Whether that process (not a later one with its pid) still runs; a zombie has ended."""
    fields = _stat(process[0])
    return fields is not None and int(fields[19]) == process[1] and fields[0] not in ("Z", "X")


def survivors(processes: list[Process], *, within: float) -> list[Process]:
    """Those of `processes` still alive after `within` seconds (returns as soon as none is)."""
    deadline = time.monotonic() + within
    while (left := [p for p in processes if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def kill_all(processes: list[Process]) -> None:
    """SIGKILL those still alive: a failing test leaves no orphan of its own behind."""
    for process in processes:
        if alive(process):
            os.kill(process[0], signal.SIGKILL)
