"""Ray runtimes for the scale-out tests: one local runtime per test module, and a two-node cluster on
this machine. Every process they start is found by its own temporary directory and killed at the end,
never by name: `ray stop` would stop every Ray runtime of the machine, other test workers' too."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
OBJECT_STORE_BYTES = 200 * 2**20
RAY_ENV = {
    **os.environ,
    "RAY_AUTH_MODE": "disabled",  # a cluster on loopback, started and stopped by the test
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    "OMP_NUM_THREADS": "1",
    "RAY_USAGE_STATS_ENABLED": "0",
}


def short_temp_dir() -> Path:
    """Ray's sockets live under its temp dir, and a Unix socket path has at most 107 bytes."""
    return Path(tempfile.mkdtemp(prefix="tsr-", dir="/tmp"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def processes_under(temp_dir: Path) -> list[psutil.Process]:
    """The processes of a Ray node started with `temp_dir`, and their children (its workers)."""
    found, ours = {}, {os.getpid(), *(parent.pid for parent in psutil.Process().parents())}
    for process in psutil.process_iter(["cmdline"]):
        try:
            if process.pid not in ours and any(str(temp_dir) in part for part in process.info["cmdline"] or ()):
                found[process.pid] = process
                found.update({child.pid: child for child in process.children(recursive=True)})
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return [process for pid, process in found.items() if pid not in ours]


def kill_node(temp_dir: Path) -> int:
    """SIGKILL every process of the node; how many there were."""
    victims = processes_under(temp_dir)
    for process in victims:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    psutil.wait_procs(victims, timeout=10)
    return len(victims)


class TwoNodeCluster:
    """A head and a second node on this machine, one CPU each, on loopback, each with its own temp dir."""

    def __init__(self):
        self.port = free_port()
        self.head_dir, self.worker_dir = short_temp_dir(), short_temp_dir()
        self.address = f"127.0.0.1:{self.port}"

    def _start(self, temp_dir: Path, *role: str) -> None:
        command = [
            str(Path(os.sys.executable).parent / "ray"),
            "start",
            *role,
            "--node-ip-address=127.0.0.1",
            "--num-cpus=1",
            "--num-gpus=0",
            f"--object-store-memory={OBJECT_STORE_BYTES}",
            f"--temp-dir={temp_dir}",
            "--disable-usage-stats",
        ]
        done = subprocess.run(command, env=RAY_ENV, capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")

    def start(self) -> "TwoNodeCluster":
        try:
            self._start(self.head_dir, "--head", f"--port={self.port}", "--include-dashboard=false")
            self._start(self.worker_dir, f"--address={self.address}")
        except BaseException:
            self.stop()
            raise
        return self

    def kill_worker_node(self) -> int:
        return kill_node(self.worker_dir)

    def worker_node_pids(self) -> set[int]:
        return {process.pid for process in processes_under(self.worker_dir)}

    def stop(self) -> None:
        for temp_dir in (self.worker_dir, self.head_dir):
            kill_node(temp_dir)
            shutil.rmtree(temp_dir, ignore_errors=True)


def fails_on_odd(value: int) -> int:
    """A unit of work for Ray tasks (importable by the workers, unlike a test module)."""
    if value % 2:
        raise ValueError(f"odd value {value}")
    return value
