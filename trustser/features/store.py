"""The on-disk feature store: one directory per (encoder, corpus, settings), written shard by shard.

Layout of `<cache>/features/<key>/`:

- `plan.json`: the utterances of every shard, batch by batch, fixed when extraction first starts, so
  a resumed run encodes exactly the batches an uninterrupted run would have (bit-identical result).
- `shard-NNNNN.bin`: the frames of the shard's utterances, one after another, each utterance
  `[frames, num_layers, hidden_size]` in the storage dtype, C order, no header.
- `shard-NNNNN.pooled.bin`: each utterance's mean frame `[num_layers, hidden_size]`, float32.
- `shard-NNNNN.json`: the commit record, written last and atomically: utterances, frame counts,
  sample counts, and a sha256 of both binary files. A shard without it does not exist.
- `index.json`: written when every shard is committed; it marks the store complete.

Readers never map or load a whole store: `StoredFeatures.batch` reads each utterance's frames with one
`pread`, so resident memory is one batch whatever the corpus size (a memory map would do the same I/O,
but its touched pages count as the process's resident memory until the kernel reclaims them).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from trustser.cache.store import atomic_path, file_sha256, private_open, staging_prefix, writes_to
from trustser.features.frames import pooled_layer_of

STORE_FORMAT = 1
STORAGE_DTYPES = {"float16": np.float16, "float32": np.float32}


class StoreError(RuntimeError):
    """A damaged or inconsistent store; the message names the file."""


def shard_name(index: int) -> str:
    return f"shard-{index:05d}"


@dataclass(frozen=True)
class ShardRecord:
    """What a committed shard holds, in the order its frames are stored."""

    index: int
    utterances: tuple[int, ...]  # corpus indices
    frames: tuple[int, ...]  # frame count per utterance
    samples: tuple[int, ...]  # audio length per utterance, samples at the encoder's rate
    frames_sha256: str
    pooled_sha256: str

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "utterances": list(self.utterances),
            "frames": list(self.frames),
            "samples": list(self.samples),
            "frames_sha256": self.frames_sha256,
            "pooled_sha256": self.pooled_sha256,
        }

    @classmethod
    def from_json(cls, data: dict) -> "ShardRecord":
        return cls(
            int(data["index"]),
            tuple(data["utterances"]),
            tuple(data["frames"]),
            tuple(data["samples"]),
            str(data["frames_sha256"]),
            str(data["pooled_sha256"]),
        )


class ShardWriter:
    """Streams one shard to temporary files (0600: they hold voice embeddings); `commit` renames them
    into place and writes the record last. A failed write (a full disk) raises `CacheWriteError`."""

    def __init__(self, directory: Path, index: int, dtype: str):
        self.directory, self.index, self.dtype = directory, index, np.dtype(STORAGE_DTYPES[dtype])
        name = shard_name(index)
        self._frames_target = directory / f"{name}.bin"
        self._pooled_target = directory / f"{name}.pooled.bin"
        self._frames_tmp = directory / f"{staging_prefix(name + '.bin')}partial"
        self._pooled_tmp = directory / f"{staging_prefix(name + '.pooled.bin')}partial"
        with writes_to(self._frames_target):
            self._frames_file = private_open(self._frames_tmp)
        try:
            with writes_to(self._pooled_target):
                self._pooled_file = private_open(self._pooled_tmp)
        except OSError:
            self._frames_file.close()
            self._frames_tmp.unlink(missing_ok=True)
            raise
        self._frames_hash, self._pooled_hash = hashlib.sha256(), hashlib.sha256()
        self.utterances: list[int] = []
        self.frames: list[int] = []
        self.samples: list[int] = []

    def add(self, utterance: int, frames: torch.Tensor, samples: int) -> None:
        """Append one utterance's frames [frames, num_layers, hidden_size] (float32, on the CPU)."""
        stored = np.ascontiguousarray(frames.numpy().astype(self.dtype, copy=False))
        if not np.isfinite(stored).all():
            raise StoreError(
                f"utterance {utterance}: non-finite features after conversion to {self.dtype} "
                "(over float16's range? use --feature-dtype float32)"
            )
        pooled = (
            stored.astype(np.float64).mean(0).astype(np.float32)
            if len(stored)
            else np.zeros(stored.shape[1:], np.float32)
        )
        for handle, digest, data, target in (
            (self._frames_file, self._frames_hash, stored, self._frames_target),
            (self._pooled_file, self._pooled_hash, pooled, self._pooled_target),
        ):
            buffer = data.tobytes()
            with writes_to(target):
                handle.write(buffer)
            digest.update(buffer)
        self.utterances.append(utterance)
        self.frames.append(int(stored.shape[0]))
        self.samples.append(int(samples))

    def commit(self) -> ShardRecord:
        for handle, tmp, target in (
            (self._frames_file, self._frames_tmp, self._frames_target),
            (self._pooled_file, self._pooled_tmp, self._pooled_target),
        ):
            with writes_to(target):
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
                os.replace(tmp, target)
        record = ShardRecord(
            self.index,
            tuple(self.utterances),
            tuple(self.frames),
            tuple(self.samples),
            self._frames_hash.hexdigest(),
            self._pooled_hash.hexdigest(),
        )
        write_json(self.directory / f"{shard_name(self.index)}.json", record.to_json())
        return record

    def abandon(self) -> None:
        for handle, path in ((self._frames_file, self._frames_tmp), (self._pooled_file, self._pooled_tmp)):
            try:
                handle.close()
            except OSError:  # its buffer could not be flushed (the disk is full): the file is discarded anyway
                pass
            path.unlink(missing_ok=True)


def write_json(path: Path, data: object) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise StoreError(f"{path}: unreadable ({error})") from None


def committed_shard(directory: Path, index: int, *, verify: bool) -> ShardRecord | None:
    """The shard's record if it is committed and (with `verify`) its files match their checksums."""
    record_path = directory / f"{shard_name(index)}.json"
    if not record_path.exists():
        return None
    try:
        record = ShardRecord.from_json(read_json(record_path))
    except (StoreError, KeyError, TypeError, ValueError):
        return None
    if verify:
        name = shard_name(index)
        for suffix, expected in ((".bin", record.frames_sha256), (".pooled.bin", record.pooled_sha256)):
            path = directory / f"{name}{suffix}"
            if not path.exists() or file_sha256(path) != expected:
                return None
    return record


@dataclass
class StoredFeatures:
    """Per-layer features of a corpus, read from a complete store one utterance at a time.

    Offers what `LayerFeatures` offers (batch, pooled, frame counts, audio seconds) without ever
    holding the corpus's frames in memory.
    """

    directory: Path
    utterance_ids: list[str]
    num_layers: int
    hidden_size: int
    dtype: np.dtype
    shard_of: np.ndarray  # [utterances] shard index
    byte_offset: np.ndarray  # [utterances] where the utterance's frames start in its shard
    frame_counts: np.ndarray  # [utterances]
    samples: np.ndarray  # [utterances] audio length in samples at `sample_rate`
    sample_rate: int
    extraction_energy: dict | None
    shards: list[ShardRecord]

    def __post_init__(self) -> None:
        self._handles: dict[int, int] = {}
        self._verified: set[int] = set()
        self._pooled_verified: set[int] = set()

    @classmethod
    def open(cls, directory: Path) -> "StoredFeatures":
        index = read_json(directory / "index.json")
        if index.get("format") != STORE_FORMAT:
            raise StoreError(
                f"{directory / 'index.json'}: store format {index.get('format')!r}, expected {STORE_FORMAT}"
            )
        layers, hidden = int(index["num_layers"]), int(index["hidden_size"])
        dtype = np.dtype(STORAGE_DTYPES[index["dtype"]])
        n = len(index["utterance_ids"])
        shard_of, byte_offset = np.zeros(n, np.int64), np.zeros(n, np.int64)
        frame_counts, samples = np.zeros(n, np.int64), np.zeros(n, np.int64)
        shards = []
        frame_bytes = layers * hidden * dtype.itemsize
        for shard in range(int(index["shards"])):
            record = committed_shard(directory, shard, verify=False)
            if record is None:
                raise StoreError(f"{directory / (shard_name(shard) + '.json')}: missing or unreadable shard record")
            expected_size = sum(record.frames) * frame_bytes
            actual = (directory / f"{shard_name(shard)}.bin").stat().st_size
            if actual != expected_size:
                raise StoreError(
                    f"{directory / (shard_name(shard) + '.bin')}: {actual} bytes, expected {expected_size}"
                )
            offset = 0
            for utterance, count, length in zip(record.utterances, record.frames, record.samples):
                shard_of[utterance], byte_offset[utterance] = shard, offset
                frame_counts[utterance], samples[utterance] = count, length
                offset += count * frame_bytes
            shards.append(record)
        return cls(
            directory,
            list(index["utterance_ids"]),
            layers,
            hidden,
            dtype,
            shard_of,
            byte_offset,
            frame_counts,
            samples,
            int(index["sample_rate"]),
            index.get("energy"),
            shards,
        )

    def __del__(self) -> None:
        for handle in getattr(self, "_handles", {}).values():
            os.close(handle)

    @property
    def offsets(self) -> torch.Tensor:
        """Cumulative frame counts [utterances + 1], as `LayerFeatures.offsets`."""
        return torch.from_numpy(np.concatenate([[0], np.cumsum(self.frame_counts)]))

    def frame_count(self, index: int) -> int:
        return int(self.frame_counts[index])

    def audio_seconds(self, indices) -> float:
        return float(self.samples[np.asarray(indices, dtype=np.int64)].sum()) / self.sample_rate

    def _handle(self, shard: int) -> int:
        if shard not in self._handles:
            path = self.directory / f"{shard_name(shard)}.bin"
            if shard not in self._verified:
                if file_sha256(path) != self.shards[shard].frames_sha256:
                    raise StoreError(
                        f"{path}: checksum mismatch (damaged feature shard); delete {self.directory} to extract again"
                    )
                self._verified.add(shard)
            self._handles[shard] = os.open(path, os.O_RDONLY)
        return self._handles[shard]

    def utterance_frames(self, index: int) -> np.ndarray:
        """One utterance's frames [frames, num_layers, hidden_size] in the storage dtype."""
        frames = np.empty((int(self.frame_counts[index]), self.num_layers, self.hidden_size), dtype=self.dtype)
        self._read_into(index, frames)
        return frames

    def _read_into(self, index: int, out: np.ndarray) -> None:
        if os.preadv(self._handle(int(self.shard_of[index])), [out], int(self.byte_offset[index])) != out.nbytes:
            raise StoreError(f"{self.directory}: short read for utterance {self.utterance_ids[index]}")

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero-padded layers [batch, num_layers, frames, hidden] (float32) and frame lengths.

        Frames are read straight into one padded buffer in their stored order and transposed once:
        per-utterance arrays, freed right after padding, would leave the heap fragmented (trustser.compute.memory).
        """
        rows = [int(i) for i in indices]
        counts = self.frame_counts[rows] if rows else np.zeros(0, np.int64)
        stored = np.zeros((len(rows), int(counts.max(initial=0)), self.num_layers, self.hidden_size), self.dtype)
        for row, (index, count) in enumerate(zip(rows, counts)):
            self._read_into(index, stored[row, :count])
        layers = torch.from_numpy(stored).permute(0, 2, 1, 3).to(torch.float32).contiguous()
        return layers, torch.as_tensor(counts, dtype=torch.long)

    def pooled_blocks(self) -> Iterator[tuple[list[int], np.ndarray]]:
        """Each shard's utterance rows and their mean frames [rows, num_layers, hidden_size] (float32),
        as pooled at extraction; one shard in memory at a time."""
        for record in self.shards:
            path = self.directory / f"{shard_name(record.index)}.pooled.bin"
            data = bytearray(path.stat().st_size)  # writable, so torch can wrap the block without a copy
            with open(path, "rb") as file:
                file.readinto(data)
            if record.index not in self._pooled_verified:
                if hashlib.sha256(data).hexdigest() != record.pooled_sha256:
                    raise StoreError(f"{path}: checksum mismatch (damaged pooled features); delete {self.directory}")
                self._pooled_verified.add(record.index)
            rows = list(record.utterances)
            yield rows, np.frombuffer(data, np.float32).reshape(len(rows), self.num_layers, self.hidden_size)

    def pooled_layer(self, layer: int) -> np.ndarray:
        """One layer of `pooled()` [utterances, hidden_size], read without the other layers."""
        return pooled_layer_of(self, layer)

    def pooled(self) -> torch.Tensor:
        """Each utterance's mean frame [utterances, num_layers, hidden_size] (float32). For large corpora
        prefer `pooled_blocks` or `pooled_layer`: this holds every layer of every utterance."""
        pooled = np.empty((len(self.utterance_ids), self.num_layers, self.hidden_size), np.float32)
        for rows, block in self.pooled_blocks():
            pooled[rows] = block
        return torch.from_numpy(pooled)
