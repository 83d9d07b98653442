"""Where the audit's per-utterance work runs (`--executor`): extraction's shards (trustser.features.ray_workers)
and the attacks' and noise robustness's folds (trustser.compute.units_of_work), in this process or on a Ray cluster.

`local` (the default) is the in-process path. `ray` starts a Ray runtime on this machine; `ray:ADDRESS`
attaches to a running cluster (`ray:auto`, `ray:ray://head:10001`, `ray:10.0.0.5:6379`). Ray is an
optional extra (`pip install 'trustser[ray]'`): the spec is checked, and Ray looked for, when the
option is parsed, so a run that cannot use its executor stops before any work (docs/scale.md).
Only `ray` specs import Ray; `local` imports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

INSTALL_RAY = "pip install 'trustser[ray]'"
EXECUTOR_CHOICES = "local|ray|ray:ADDRESS"
# Bounds what a runtime started for the audit takes from a small machine's memory; a cluster sizes its own.
LOCAL_OBJECT_STORE_BYTES = 300 * 2**20


class ExecutorError(ValueError):
    """An --executor that cannot be used here; the message says why and what to do."""


@dataclass(frozen=True)
class Executor:
    """A parsed --executor: `kind` is `local` or `ray`; `address` is None for a runtime started here.

    `workers` caps the Ray actors (None: one per GPU of the cluster, else one per CPU).
    """

    kind: str = "local"
    address: str | None = None
    workers: int | None = None

    @classmethod
    def parse(cls, spec: str) -> "Executor":
        kind, colon, address = spec.strip().partition(":")
        if kind == "local" and not colon:
            return cls()
        if kind != "ray" or (colon and not address):
            raise ExecutorError(
                f"--executor {spec!r}: expected {EXECUTOR_CHOICES} (e.g. ray:auto, ray:ray://head:10001)"
            )
        try:
            import ray  # noqa: F401  (imported, not just found: a broken install fails here, not mid-audit)
        except ImportError as error:
            raise ExecutorError(
                f"--executor {spec}: Ray is not installed ({error}); install it with: {INSTALL_RAY}"
            ) from None
        return cls("ray", address or None)

    @property
    def distributed(self) -> bool:
        return self.kind == "ray"

    def __str__(self) -> str:
        return self.kind if self.address is None else f"{self.kind}:{self.address}"


LOCAL = Executor()


def connect(executor: Executor):
    """The `ray` module with a runtime connected: the one already running in this process, else a new
    local one (loopback only, no dashboard, a bounded object store) or the cluster at the address."""
    import ray

    if not ray.is_initialized():
        if executor.address is None:
            ray.init(
                address="local",  # a new runtime, even where `ray start` left a cluster running
                include_dashboard=False,
                object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                _node_ip_address="127.0.0.1",
                log_to_driver=False,
                configure_logging=False,
            )
        else:
            ray.init(address=executor.address, log_to_driver=False, configure_logging=False)
    return ray


def worker_resources(ray, executor: Executor, *, tasks: int) -> tuple[int, dict]:
    """How many actors to start for `tasks` units of work, and what each asks for: a GPU each when the
    cluster has GPUs, else a CPU each."""
    resources = ray.cluster_resources()
    gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 1))
    per_actor = {"num_gpus": 1, "num_cpus": 1} if gpus else {"num_cpus": 1}
    available = gpus or max(cpus, 1)
    wanted = executor.workers if executor.workers is not None else available
    return max(1, min(wanted, tasks)), per_actor


def node_name(ray) -> str:
    """The calling worker's host and the start of its Ray node id: which machine's logs to read."""
    import socket

    return f"{socket.gethostname()}/{ray.get_runtime_context().get_node_id()[:8]}"
