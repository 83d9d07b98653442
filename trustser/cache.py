"""Content-addressed on-disk storage for expensive results (corpora, embeddings, trained heads).

Keys are hashes of everything that produced a result; files are written to a temporary name and
renamed, so an interrupted run never leaves a half-written file; a file lock per key makes
concurrent pytest-xdist workers compute each result once. Formats: safetensors, numpy, JSON, WAV;
never pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch
from filelock import FileLock
from safetensors import safe_open
from safetensors.torch import load_file, save_file

DEFAULT_ROOT = Path(os.environ.get("TRUSTSER_CACHE", Path.home() / ".cache" / "trustser"))


def content_key(**parts: object) -> str:
    """A short stable hash of JSON-serialisable parts (names, fingerprints, settings, versions)."""
    payload = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary sibling of `target`; rename it into place only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix)
    os.close(handle)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


class Cache:
    def __init__(self, root: Path | str = DEFAULT_ROOT):
        self.root = Path(root)

    def path(self, kind: str, key: str, suffix: str = ".safetensors") -> Path:
        return self.root / kind / f"{key}{suffix}"

    @contextmanager
    def lock(self, kind: str, key: str) -> Iterator[None]:
        lock_path = self.root / kind / f"{key}.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock_path)):
            yield

    def save_tensors(self, path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
        with atomic_path(path) as tmp:
            save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp), metadata=metadata)

    def load_tensors(self, path: Path) -> dict[str, torch.Tensor]:
        return load_file(str(path))

    def load_metadata(self, path: Path) -> dict[str, str]:
        """The string metadata stored with a safetensors file (empty if none)."""
        with safe_open(str(path), framework="pt") as handle:
            return handle.metadata() or {}

    def save_json(self, path: Path, data: object) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))

    def load_json(self, path: Path) -> object:
        return json.loads(path.read_text())
