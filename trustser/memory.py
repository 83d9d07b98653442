"""Handing freed memory back to the operating system between the audit's big steps.

glibc keeps freed heap memory for reuse; after thousands of batch-sized tensors (a head's epochs
over a large corpus) the free but still resident memory grows with the work done, and with it the
process's peak RSS. `malloc_trim(0)` returns it; the audit calls it after every epoch, shard,
evaluation and test. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    library = ctypes.CDLL(name) if name else None
    return getattr(library, "malloc_trim", None)


def release_free_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
