"""Child processes that die with the audit: every process the audit starts ends when its parent does.

A parent that exits normally ends its children itself (the DataLoader shuts its workers down, a
`subprocess.run` waits for its child), but a parent killed by SIGKILL, a CI timeout or the kernel's
out-of-memory killer runs no code: left alone, a decoding worker blocked on its queue outlives it for
good, holding its memory. So every child asks the kernel, as its first act, to SIGKILL it when its
parent dies (Linux's `prctl(PR_SET_PDEATHSIG)`), whatever the way the parent dies.

Every spawner goes through here: DataLoader workers take `loader_worker_init(...)` as their
`worker_init_fn`; subprocesses take `dies_with_this_process()` as their `preexec_fn` (it runs in the
forked child before exec, and the setting survives the exec of a new interpreter).

The kernel sends the signal when the parent *thread* that started the child exits, not the whole
process. The audit starts its children from the thread that then waits for them (`subprocess.run`,
a DataLoader iterated to its end in the thread that made it), so that thread outlives the child
unless the process dies.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

# Loaded once, in the parent: a forked child then calls into it without loading anything (a child
# forked from a threaded process must not take locks that another thread may have held at the fork).
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent(parent: int) -> None:
    """In a child started by process `parent`: be SIGKILLed by the kernel when the parent dies.

    The parent may die between starting the child and this call, before the kernel watches it: then
    the child's parent is no longer `parent`, and the child ends itself at once.

    Linux only: elsewhere (macOS, Windows) there is no such kernel request, and this does nothing; a
    child there ends on its own when its work is done, or may outlive a parent killed by SIGKILL.
    """
    if _LIBC is None:
        return
    if _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(error)}")
    if os.getppid() != parent and not _alive(parent):
        os.kill(os.getpid(), signal.SIGKILL)  # the parent died before the kernel was asked to watch it


def _alive(pid: int) -> bool:
    """Whether process `pid` exists. A child started through an intermediary (multiprocessing's
    forkserver or spawn) has that intermediary as its parent; the audit's process is alive, and the
    intermediary, watched by the kernel in turn, ends when it ends."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process holds the number now: ours, which was this user's, is gone
    return True


def dies_with_this_process() -> Callable[[], None]:
    """A subprocess `preexec_fn`: the child is SIGKILLed when this process dies."""
    return functools.partial(die_with_parent, os.getpid())


def _worker_init(parent: int, then: Callable[[int], None] | None, worker_id: int) -> None:
    die_with_parent(parent)
    if then is not None:
        then(worker_id)


def loader_worker_init(then: Callable[[int], None] | None = None) -> Callable[[int], None]:
    """A DataLoader `worker_init_fn`: each worker is SIGKILLed when this process dies; `then(worker_id)`
    runs after, for a loader with an initialiser of its own."""
    return functools.partial(_worker_init, os.getpid(), then)
