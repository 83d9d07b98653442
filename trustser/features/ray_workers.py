"""Extraction on a Ray cluster: the plan's shards shared by a pool of actors that each load the encoder once.

Each actor encodes whole shards (the plan's very batches, so the features equal a local run's) and
commits them into the same store as a local run, which must therefore sit on a filesystem every node
sees (docs/scale.md). A shard is the unit of work and of loss: an actor checks for a commit record
before encoding, so a retried or resumed shard that was committed is never redone.

A worker that dies (its process, or its node) loses only its shard in progress, which goes back to the
queue for the surviving workers; when none survives, new ones are started wherever the cluster has
room. An error inside a worker (an undecodable file, non-finite features) is not retried: it stops the
extraction with a message naming the node, the worker and the utterance.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import time
from pathlib import Path

import numpy as np

from trustser.compute.energy import combined_energy, measure_energy
from trustser.compute.executor import Executor, connect, node_name, worker_resources
from trustser.corpora.audio import load_waveform
from trustser.corpora.base import Corpus
from trustser.encoders.base import Encoder
from trustser.errors import CacheWriteError
from trustser.features.shards import ExtractionError, ExtractionSettings, Meter, Progress, store_batch
from trustser.features.store import ShardWriter, committed_shard, shard_name

MAX_ATTEMPTS_PER_SHARD = 3  # a shard whose workers keep dying points at the shard, not at bad luck


class WorkerFailure(RuntimeError):
    """An error inside a worker; the message names the node, the worker and the utterance."""


def planned_workers(executor: Executor) -> int:
    """How many workers the cluster will run (the plan gives each several shards)."""
    return worker_resources(connect(executor), executor, tasks=1 << 30)[0]


class ShardEncoder:
    """A Ray actor: the encoder and the corpus, loaded once, encoding one shard per call."""

    def __init__(self, encoder: Encoder, corpus: Corpus, directory: str, settings: ExtractionSettings):
        import ray

        self.encoder, self.corpus, self.settings = encoder, corpus, settings
        self.directory = Path(directory)
        self.encoder.eval().to(settings.compute.device)
        self.name = f"pid {os.getpid()} on node {node_name(ray)}"
        import codecarbon  # noqa: F401  (its first import takes seconds: paid here, not by the first shard's clock)

    def identity(self) -> str:
        return self.name

    def encode(self, shard: int, batches: list[list[int]], planned_seconds: float) -> dict:
        """Encode and commit `shard` (unless it is committed already); what was done, where and how fast.

        Its energy is measured here, in the worker: codecarbon's process mode sees only this process.
        """
        report = {"shard": shard, "worker": self.name, "utterances": sum(map(len, batches)), "energy": None}
        if committed_shard(self.directory, shard, verify=True) is not None:
            return {**report, "seconds": 0.0, "elapsed": 0.0, "skipped": True}
        start, samples = time.perf_counter(), []
        energy = measure_energy(
            lambda: samples.extend(self._encode(shard, batches)),
            max(planned_seconds, 1e-3),
            label=f"extract {self.encoder.name}",
        )
        seconds, elapsed = sum(samples) / self.encoder.sample_rate, time.perf_counter() - start
        return {**report, "seconds": seconds, "elapsed": elapsed, "skipped": False, "energy": energy}

    def _encode(self, shard: int, batches: list[list[int]]) -> list[int]:
        """Each utterance's sample count, once the shard is committed."""
        writer, samples, where = ShardWriter(self.directory, shard, self.settings.feature_dtype), [], ""
        try:
            for batch in batches:
                items = []
                for index in batch:
                    where = f"utterance {self.corpus.utterances[index].id!r}"
                    items.append((index, self._waveform(index)))
                where = "the batch of utterances " + ", ".join(repr(self.corpus.utterances[i].id) for i in batch)
                store_batch(writer, self.encoder, self.corpus, items, self.settings.compute, progress=lambda _: None)
                samples.extend(len(wave) for _, wave in items)
            where = "the commit"
            writer.commit()
            return samples
        except CacheWriteError:  # a full or unwritable shared cache: its own line (path, free space) says it
            writer.abandon()
            raise
        except Exception as error:
            writer.abandon()
            raise WorkerFailure(
                f"extraction worker {self.name} failed on {where} of {shard_name(shard)} "
                f"({self.encoder.name} on {self.corpus.name}): {type(error).__name__}: {error}"
            ) from error

    def _waveform(self, index: int) -> np.ndarray:
        return load_waveform(self.corpus, self.corpus.utterances[index].id, self.encoder.sample_rate)


def encode_shards_on_cluster(
    encoder: Encoder,
    corpus: Corpus,
    directory: Path,
    *,
    shards: list[list[list[int]]],
    pending: list[int],
    settings: ExtractionSettings,
    progress: Progress,
) -> dict | None:
    """Encode the `pending` shards of the plan on the cluster; the extraction's energy, as each worker
    measured its shards (None when every shard turned out committed already)."""
    ray = connect(settings.executor)
    count, resources = worker_resources(ray, settings.executor, tasks=len(pending))
    actor_class = ray.remote(max_restarts=0, max_task_retries=0, **resources)(ShardEncoder)
    shared = (ray.put(encoder), ray.put(corpus), str(directory), settings)

    def start_workers(n: int) -> list:
        actors = [actor_class.remote(*shared) for _ in range(n)]
        names = ray.get([actor.identity.remote() for actor in actors])
        return [(actor, name) for actor, name in zip(actors, names)]

    seconds = {s: sum(corpus.seconds(corpus.utterances[u].id) for b in shards[s] for u in b) for s in pending}
    meter = Meter(total_utterances=sum(len(b) for s in pending for b in shards[s]), total_seconds=sum(seconds.values()))
    idle = start_workers(count)
    progress(f"  {count} Ray workers ({', '.join(name for _, name in idle)}), {len(pending)} shards to encode")
    queue, running = collections.deque(pending), {}
    attempts, per_worker, energies = collections.Counter(), collections.defaultdict(lambda: [0.0, 0.0]), []
    while queue or running:
        while idle and queue:
            (actor, name), shard = idle.pop(), queue.popleft()
            attempts[shard] += 1
            running[actor.encode.remote(shard, shards[shard], seconds[shard])] = (actor, name, shard)
        if not running:  # every worker died: start new ones wherever the cluster has room
            idle = start_workers(min(count, len(queue)))
            continue
        [done], _ = ray.wait(list(running), num_returns=1)
        actor, name, shard = running.pop(done)
        try:
            report = ray.get(done)
        except ray.exceptions.RayTaskError as error:
            if isinstance(error.cause, CacheWriteError):
                raise error.cause from None  # as a local extraction's: the session remembers it (Cache.writing)
            raise ExtractionError(str(error.cause) if error.cause is not None else str(error)) from None
        except ray.exceptions.RayActorError as error:
            if attempts[shard] >= MAX_ATTEMPTS_PER_SHARD:
                raise ExtractionError(
                    f"{shard_name(shard)} of {encoder.name} on {corpus.name}: {attempts[shard]} workers died "
                    f"encoding it, the last {name} ({type(error).__name__}); see that node's Ray logs"
                ) from None
            queue.appendleft(shard)
            progress(f"  worker {name} died during {shard_name(shard)}; the shard goes back to the queue")
            continue
        idle.append((actor, name))
        if committed_shard(directory, shard, verify=False) is None:
            raise ExtractionError(
                f"{shard_name(shard)} was committed by worker {name}, but {directory} as seen here has no "
                "commit record for it: the cache must be on a filesystem every node shares (docs/scale.md)"
            )
        meter.advance(report["utterances"], report["seconds"])
        per_worker[name][0] += report["seconds"]
        per_worker[name][1] += report["elapsed"]
        if report["energy"] is not None:
            energies.append(report["energy"])
        rates = ", ".join(f"{w} {s / t:.1f}" for w, (s, t) in per_worker.items() if t > 0)
        state = "already committed" if report["skipped"] else f"committed by {name}"
        progress(f"  {shard_name(shard)} {state}: {meter.status()}; audio s/s per worker: {rates}")
    return dataclasses.asdict(combined_energy(energies, f"extract {encoder.name}")) if energies else None
