"""pytest plugin (`-p benchmarks.rss_per_test`): after every test, its wall time and the process's resident
memory now and at its peak so far, one line each appended to the file named by $RSS_PER_TEST_LOG (pytest
captures stderr); shows which test leaves memory behind."""

from __future__ import annotations

import os
import time

import pytest


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.perf_counter()
    yield
    with open(os.environ.get("RSS_PER_TEST_LOG", "rss-per-test.log"), "a") as log:
        print(
            f"{time.perf_counter() - start:8.1f} s  rss {_status_mib('VmRSS'):7.0f} MiB  "
            f"peak {_status_mib('VmHWM'):7.0f} MiB  "
            f"{item.nodeid}",
            file=log,
        )
