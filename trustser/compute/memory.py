"""Handing freed memory back to the operating system during the audit's big steps.

glibc keeps freed heap memory for reuse; after thousands of batch-sized tensors (a head's epochs
over a large corpus) the free but still resident memory grows with the work done, and with it the
process's peak RSS. `malloc_trim(0)` returns it: the audit calls `release_free_memory()` before every
forward pass over stored features and after every epoch, shard, evaluation and test, and
`release_free_memory(above=...)` after every batch, which trims only once the heap holds that much
free memory (trimming every batch would hand back pages the next batch faults in again: ~20% slower
head training, measured). Elsewhere than glibc these do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

BATCH_SLACK = 64 << 20
"""Free heap memory tolerated between batches before it is handed back."""


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


@cache
def _libc():
    name = ctypes.util.find_library("c")
    library = ctypes.CDLL(name) if name else None
    if library is not None and hasattr(library, "mallinfo2"):  # glibc >= 2.33
        library.mallinfo2.restype = _MallInfo2
    return library


def free_heap_bytes() -> int | None:
    """Free memory glibc's heaps hold (None where that cannot be read)."""
    library = _libc()
    if library is None or not hasattr(library, "mallinfo2"):
        return None
    return int(library.mallinfo2().fordblks)


def release_free_memory(*, above: int = 0) -> None:
    """`malloc_trim(0)`; with `above`, only when the heaps hold more than that much free memory."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is None:
        return
    if above:
        free = free_heap_bytes()
        if free is not None and free <= above:
            return
    trim(0)
