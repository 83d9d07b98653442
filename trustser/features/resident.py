"""Frames of many utterances in one contiguous buffer: read once for head training (trustser.models.heads).

`read_block` reads the given utterances into one float32 tensor [frames, num_layers, hidden_size] in
store order, merging utterances that lie next to each other in a shard into one `preadv`: large reads,
no per-utterance arrays, no padding. `prefetched_blocks` reads a list of such blocks on a background
thread, one block ahead of the consumer, so reading overlaps compute and two blocks (the one in use,
the one being read) are in memory whatever the corpus.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from trustser.features.frames import FrameSource
from trustser.features.store import StoredFeatures, StoreError

BLOCKS_IN_FLIGHT = 2  # the block in use and the one being read
MAX_READ_BYTES = 64 << 20  # one preadv call's most: bounds the float16 staging buffer of a conversion


@dataclass
class FrameBlock:
    """Utterances' frames back to back: `frames[starts[i]:starts[i + 1]]` are those of `rows[i]`."""

    rows: np.ndarray  # corpus indices, in the block's order
    frames: torch.Tensor  # [total frames, num_layers, hidden_size], float32
    starts: np.ndarray  # [len(rows) + 1]

    def __post_init__(self) -> None:
        self._position = {int(row): i for i, row in enumerate(self.rows)}

    def __contains__(self, row: int) -> bool:
        return int(row) in self._position

    def span(self, row: int) -> tuple[int, int]:
        """(first frame, frame count) of utterance `row`."""
        i = self._position[int(row)]
        return int(self.starts[i]), int(self.starts[i + 1] - self.starts[i])

    def to(self, device: torch.device | str) -> "FrameBlock":
        return FrameBlock(self.rows, self.frames.to(device), self.starts)


def frame_bytes(features: FrameSource) -> int:
    """Bytes of one float32 frame of every layer."""
    return features.num_layers * features.hidden_size * 4


def storage_order(features: FrameSource, rows: np.ndarray) -> np.ndarray:
    """`rows` sorted as their frames lie in the store (shard, then offset), so neighbours read as one."""
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    if isinstance(features, StoredFeatures):
        return rows[np.lexsort((features.byte_offset[rows], features.shard_of[rows]))]
    return rows


def cut_by_bytes(features: FrameSource, rows: np.ndarray, limit: int) -> list[np.ndarray]:
    """`rows` in consecutive runs of at most `limit` bytes of float32 frames (a larger utterance alone)."""
    sizes = np.asarray(features.frame_counts)[rows].astype(np.int64) * frame_bytes(features)
    runs, start, used = [], 0, 0
    for i, size in enumerate(sizes.tolist()):
        if i > start and used + size > limit:
            runs.append(rows[start:i])
            start, used = i, 0
        used += size
    runs.append(rows[start:])
    return [run for run in runs if len(run)]


def read_block(features: FrameSource, rows: np.ndarray) -> FrameBlock:
    """The frames of `rows` (any order; stored in store order) in one float32 buffer."""
    rows = storage_order(features, rows)
    counts = np.asarray(features.frame_counts)[rows].astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    frames = torch.empty(int(starts[-1]), features.num_layers, features.hidden_size, dtype=torch.float32)
    out = frames.numpy()
    if isinstance(features, StoredFeatures):
        _read_runs(features, rows, counts, starts, out)
    else:
        for i, row in enumerate(rows):
            out[starts[i] : starts[i + 1]] = features.utterance_frames(int(row))
    return FrameBlock(rows, frames, starts)


def _read_runs(features: StoredFeatures, rows: np.ndarray, counts: np.ndarray, starts: np.ndarray, out) -> None:
    """Each run of utterances stored back to back in one shard, read with as few `preadv`s as it takes."""
    stored_frame = features.num_layers * features.hidden_size * features.dtype.itemsize
    first = 0
    for i in range(1, len(rows) + 1):
        if i < len(rows):
            previous, row = rows[i - 1], rows[i]
            adjacent = features.shard_of[row] == features.shard_of[previous] and features.byte_offset[row] == (
                features.byte_offset[previous] + counts[i - 1] * stored_frame
            )
            if adjacent:
                continue
        _read_run(features, int(rows[first]), int(starts[first]), int(starts[i]), out)
        first = i


def _read_run(features: StoredFeatures, row: int, begin: int, end: int, out: np.ndarray) -> None:
    """Frames `begin:end` of `out`: those stored from utterance `row`'s start on, contiguously."""
    handle = features._handle(int(features.shard_of[row]))
    stored_frame = features.num_layers * features.hidden_size * features.dtype.itemsize
    step = max(1, MAX_READ_BYTES // stored_frame)
    offset = int(features.byte_offset[row])
    for at in range(begin, end, step):
        target = out[at : min(at + step, end)]
        staging = target if features.dtype == np.float32 else np.empty(target.shape, features.dtype)
        if os.preadv(handle, [staging], offset) != staging.nbytes:
            raise StoreError(f"{features.directory}: short read from utterance {features.utterance_ids[row]} on")
        if staging is not target:
            target[...] = staging
        offset += staging.nbytes


def prefetched_blocks(features: FrameSource, groups: list[np.ndarray]) -> Iterator[FrameBlock]:
    """`read_block` of each group in turn, the next one read on a background thread while this one is used.

    At most two blocks are alive: the one in use and the one being read (the reader waits for the consumer
    to ask for the next block before it starts the one after).
    """
    ready: queue.Queue = queue.Queue()
    permits = threading.Semaphore(BLOCKS_IN_FLIGHT)
    stop = threading.Event()

    def reader() -> None:
        try:
            for group in groups:
                while not permits.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                ready.put(read_block(features, group))
            ready.put(None)
        except BaseException as error:  # handed to the consumer, which raises it
            ready.put(error)

    thread = threading.Thread(target=reader, name="feature-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            del item
            permits.release()  # the consumer is done with it: the reader may start the block after next
    finally:
        stop.set()
        thread.join()
