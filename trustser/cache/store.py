"""Content-addressed on-disk storage for expensive results (corpora, embeddings, trained heads).

Keys are hashes of everything that produced a result; files are written to a temporary name and
renamed, so an interrupted run never leaves a half-written file; a file lock per key makes
concurrent pytest-xdist workers compute each result once. Formats: safetensors, numpy, JSON, WAV;
never pickle.

Nothing read back is trusted blindly: every entry is stored with a sha256 of its bytes beside it
(`<file>.sha256`) and `intact()` checks it before use. A missing, truncated or altered entry is named
in a warning, moved to `<cache>/damaged/` and recomputed by its caller. The cache holds speakers'
audio and voice embeddings, so its root is private (0700) and its files are created 0600.

Temporary files and directories carry the id of the process writing them (`staging_prefix`), so a
later run removes those a killed process left (`sweep_abandoned`) without touching the ones a live
audit sharing the cache is still writing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch
from filelock import FileLock
from safetensors import safe_open
from safetensors.torch import load_file, save_file


def default_root() -> Path:
    """$TRUSTSER_CACHE, or ~/.cache/trustser: read when a session starts, not when this module is imported."""
    return Path(os.environ.get("TRUSTSER_CACHE") or Path.home() / ".cache" / "trustser")


_STAGING_MARK = ".tmp-"
_STAGING = re.compile(r"^\..*\.tmp-(\d+)-")


def staging_prefix(name: str) -> str:
    """The name prefix of a temporary sibling of `name`, carrying this process's id."""
    return f".{name}{_STAGING_MARK}{os.getpid()}-"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep_abandoned(root: Path) -> list[Path]:
    """Remove the temporary files and directories under `root` whose writing process no longer runs
    (killed mid-write); returns what was removed."""
    removed: list[Path] = []
    for directory, subdirs, files in os.walk(root):
        for name in [*subdirs, *files]:
            match = _STAGING.match(name)
            if match and not process_alive(int(match.group(1))):
                path = Path(directory) / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path)
        subdirs[:] = [d for d in subdirs if not _STAGING.match(d)]
    return removed


def content_key(**parts: object) -> str:
    """A short stable hash of JSON-serialisable parts (names, fingerprints, settings, versions)."""
    payload = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary sibling of `target`; rename it into place only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=staging_prefix(target.name), suffix=target.suffix)
    os.close(handle)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def file_sha256(path: Path, chunk: int = 1 << 24) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def make_private(directory: Path) -> None:
    """Create `directory` owner-only (0700) if it does not exist; an existing one is the user's choice."""
    if not directory.exists():
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)


class Cache:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        make_private(self.root)

    def path(self, kind: str, key: str, suffix: str = ".safetensors") -> Path:
        return self.root / kind / f"{key}{suffix}"

    def seal(self, path: Path) -> None:
        """Record the checksum of the entry just written at `path` (after the entry: a kill in between
        leaves an entry without a checksum, which `intact` treats as damaged)."""
        with atomic_path(checksum_path(path)) as tmp:
            tmp.write_text(file_sha256(path))

    def intact(self, path: Path) -> bool:
        """Whether the entry at `path` exists and matches its checksum; a damaged one is moved aside, with a warning."""
        if not path.exists():
            return False
        sidecar = checksum_path(path)
        try:
            expected = sidecar.read_text().strip()
        except FileNotFoundError:
            expected = None
        if expected is not None and file_sha256(path) == expected:
            return True
        self.set_aside(path, "no checksum" if expected is None else "checksum mismatch (truncated or altered)")
        return False

    def set_aside(self, path: Path, why: str) -> None:
        """Move a damaged entry (and its checksum) to `<cache>/damaged/`, where it can be inspected."""
        damaged = self.root / "damaged"
        damaged.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for item in (path, checksum_path(path)):
            if item.exists():
                os.replace(item, damaged / f"{item.parent.name}-{item.name}.{stamp}")
        warnings.warn(f"damaged cache entry {path}: {why}; moved to {damaged} and recomputed", stacklevel=3)

    @contextmanager
    def lock(self, kind: str, key: str) -> Iterator[None]:
        lock_path = self.root / kind / f"{key}.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock_path)):
            yield

    def save_tensors(
        self, path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
    ) -> None:
        with atomic_path(path) as tmp:
            save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp), metadata=metadata)
        self.seal(path)

    def load_tensors(self, path: Path) -> dict[str, torch.Tensor]:
        return load_file(str(path))

    def load_metadata(self, path: Path) -> dict[str, str]:
        """The string metadata stored with a safetensors file (empty if none)."""
        with safe_open(str(path), framework="pt") as handle:
            return handle.metadata() or {}

    def save_json(self, path: Path, data: object) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        self.seal(path)

    def load_json(self, path: Path) -> object:
        return json.loads(path.read_text())
