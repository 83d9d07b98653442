"""The audit under pytest-xdist: which process is the controller, each backbone's tests kept on one
worker, the scheduling, and what the controller hands its workers (the session token)."""

from __future__ import annotations

import os

import pytest

_TOKEN_KEY = "trustser_token"


def is_controller(config: pytest.Config) -> bool:
    """This process is not a pytest-xdist worker (it is the controller, or the run is not parallel)."""
    return getattr(config, "workerinput", None) is None


def runs_workers(config: pytest.Config) -> bool:
    """This process is the controller of a `pytest -n N` run: its workers collect, it collects nothing."""
    return bool(getattr(config.option, "numprocesses", None)) and is_controller(config)


def controller_token(config: pytest.Config) -> str | None:
    """The session token the controller gave this worker; None in the controller."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput[_TOKEN_KEY] if workerinput else None


def worker_id(config: pytest.Config) -> str | None:
    """This pytest-xdist worker's name (`gw0`, ...); None in the controller or a serial run."""
    return (getattr(config, "workerinput", None) or {}).get("workerid")


def group_backbones_on_workers(config: pytest.Config, asks_for_the_audit: bool) -> None:
    """Under `pytest -n N`, keep each backbone's tests on one worker (`backbone_scheduler`).

    A backbone's features, heads and results are built once per process; spreading its tests over
    workers would only make several processes wait on the same cache lock. An explicit `--dist` is kept.
    """
    if getattr(config.option, "dist", "no") == "load" and runs_workers(config) and asks_for_the_audit:
        config.option.dist = "loadgroup"


def configure_node(node, token: str) -> None:
    """What a worker needs of the controller: the session token."""
    node.workerinput[_TOKEN_KEY] = token


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def auto_workers(backbones: list[str], *, executor: str = "local") -> int:
    """`-n auto` for the audit: a worker per backbone, at most one per core. A backbone's tests stay on one
    worker (`group_backbones_on_workers`), so more workers than backbones would only wait; more than the
    cores time-share them and slow every worker (the default audit with three one-thread workers on two
    cores: 295 s, against 287 s with two). With a Ray executor the cluster runs the parallel work, and one
    worker drives it (each would start a runtime)."""
    if executor != "local":
        return 1
    return max(1, min(available_cores(), len(backbones)))


def share_the_cores(config: pytest.Config) -> None:
    """In an audit's worker, torch's threads are the worker's share of the cores (at least one).

    torch starts one thread per core in every process: with two workers on two cores each would run two,
    and OpenMP threads waiting on each other at every operation cost several times their gain. An
    OMP_NUM_THREADS the user set is left as it is.
    """
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if getattr(config, "workerinput", None) is None or not workers or "OMP_NUM_THREADS" in os.environ:
        return
    import torch

    torch.set_num_threads(max(1, available_cores() // int(workers)))


def backbone_of(nodeid: str, backbones: list[str]) -> str | None:
    """The backbone a trust test's node id names among its parameter ids (`test_x[ge2e-fgsm]`: ge2e)."""
    ids = nodeid.rpartition("[")[2].removesuffix("]") if nodeid.endswith("]") else ""
    for backbone in sorted(backbones, key=len, reverse=True):  # `hf:/m` before a backbone it contains
        if ids == backbone or ids.startswith(f"{backbone}-") or ids.endswith(f"-{backbone}") or f"-{backbone}-" in ids:
            return backbone
    return None


def backbone_scheduler(config: pytest.Config, log, backbones: list[str]):
    """xdist's scope scheduling with a backbone's tests as one scope: they go to one worker, in order.

    pytest-xdist's own `loadgroup` renames each test's node id after its `xdist_group` mark, which pytest 9
    ignores (the id stays as it was and every test is its own group: pytest-dev/pytest-xdist#1386), so the
    scope is read from the id's parameters instead.
    """
    from xdist.scheduler import LoadScopeScheduling

    class BackboneScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return backbone_of(nodeid, backbones) or nodeid

    return BackboneScheduling(config, log)
