"""Independent units of per-utterance work (a fold's attack, say) run by the executor: in order in this
process, or as Ray tasks, one per unit, results returned in the units' order.

A unit must compute the same thing wherever it runs: it carries its models, waveforms and seeds, so
how units are spread over workers cannot change a result. A task whose worker dies is retried by Ray
(`max_retries`); an error inside a unit is not, and is raised naming the node and the unit.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence, TypeVar

from trustser.compute.executor import Executor, connect, node_name, worker_resources
from trustser.errors import NotApplicable

Result = TypeVar("Result")
TASK_RETRIES = 3  # a task whose worker or node dies runs again elsewhere, up to this many times


class UnitFailure(RuntimeError):
    """An error inside a unit run on the cluster; the message names the node, the worker and the unit."""


def map_units(
    executor: Executor,
    function: Callable[..., Result],
    units: Sequence[tuple],
    *,
    names: Sequence[str],
    progress: Callable[[str], None] = lambda line: None,
) -> list[Result]:
    """`[function(*unit) for unit in units]`, on the executor; `names[i]` says what unit i is, in errors
    and progress (e.g. `FGSM@45dB fold 2 (16 utterances)`). A unit's NotApplicable reaches the caller as
    it is (the audit reports it as a SKIP)."""
    if not executor.distributed:
        return [function(*unit) for unit in units]
    ray = connect(executor)
    _, resources = worker_resources(ray, executor, tasks=len(units))
    task = ray.remote(max_retries=TASK_RETRIES, **resources)(_run_unit)
    pending = {task.remote(function, unit, name): index for index, (unit, name) in enumerate(zip(units, names))}
    results: list = [None] * len(units)
    while pending:
        [done], _ = ray.wait(list(pending), num_returns=1)
        index = pending.pop(done)
        try:
            results[index], where = ray.get(done)
        except ray.exceptions.RayTaskError as error:
            if isinstance(error.cause, NotApplicable):
                raise error.cause from None
            raise UnitFailure(str(error.cause) if error.cause is not None else str(error)) from None
        progress(f"  {names[index]} done by {where} ({len(units) - len(pending)}/{len(units)})")
    return results


def _run_unit(function: Callable, unit: tuple, name: str) -> tuple[object, str]:
    import ray

    where = f"pid {os.getpid()} on node {node_name(ray)}"
    try:
        return function(*unit), where
    except NotApplicable:
        raise
    except Exception as error:
        raise UnitFailure(f"{name} failed in worker {where}: {type(error).__name__}: {error}") from error
