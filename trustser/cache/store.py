"""Content-addressed on-disk storage for expensive results (corpora, embeddings, trained heads).

Keys are hashes of everything that produced a result; files are written to a temporary name and
renamed, so an interrupted run never leaves a half-written file; a file lock per key makes
concurrent pytest-xdist workers compute each result once. Formats: safetensors, numpy, JSON, WAV;
never pickle.

Nothing read back is trusted blindly: every entry is stored with a sha256 of its bytes beside it
(`<file>.sha256`) and `intact()` checks it before use. A missing, truncated or altered entry is named
in a warning, moved to `<cache>/damaged/` and recomputed by its caller.

The cache holds speakers' audio and voice embeddings, so everything the audit creates in it is
private whatever the root's mode: directories 0700 (`private_mkdir`), files 0600 (`atomic_path`,
`private_open`, `private_lock`); a root that others can open is named in a warning (`Cache.exposure`).

A write that fails for a reason of the machine (a full disk, no permission, a path that is a file)
raises `CacheWriteError`, one line naming the path, the reason and the free space (`write_error`); the
session's `Cache` remembers the first one, so later work that would end in a write fails at once
instead of computing again (`Cache.writing`).

Temporary files and directories carry the id of the process writing them (`staging_prefix`), so a
later run removes those a killed process left (`sweep_abandoned`) without touching the ones a live
audit sharing the cache is still writing.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

import torch
from filelock import FileLock
from safetensors import safe_open
from safetensors.torch import load_file
from safetensors.torch import save as serialise_tensors

from trustser.errors import CacheWriteError

__all__ = ["CacheWriteError"]  # raised here; defined in trustser.errors so the plugin needs no torch to catch it

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})  # what only a write can raise


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


def _size_text(size: float) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"


def free_space(path: Path) -> str:
    """'1.2 GiB free of 50.0 GiB' on the disk that holds `path` (or its nearest existing parent)."""
    path = Path(path).absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return "free space unknown"
    return f"{_size_text(usage.free)} free of {_size_text(usage.total)}"


def write_error(path: Path, error: OSError) -> CacheWriteError:
    """The one-line error of a failed write to `path`: the path, the system's reason, the free space."""
    reason = error.strerror or str(error)
    return CacheWriteError(error.errno, f"cannot write {path}: {reason} ({free_space(path)} on its disk)", str(path))


@contextmanager
def writes_to(path: Path) -> Iterator[None]:
    """Within: an OSError (from writing `path`) becomes a `CacheWriteError` naming `path` and the free space."""
    try:
        yield
    except CacheWriteError:
        raise
    except OSError as error:
        raise write_error(path, error) from error


def private_mkdir(directory: Path) -> None:
    """Create `directory` and its missing parents owner-only (0700); existing ones are left as they are.

    `Path.mkdir(parents=True)` would give the parents the umask's mode (0755): a folder others can list,
    inside a cache root others can enter.
    """
    missing = []
    while not directory.is_dir() and directory.parent != directory:
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIRECTORY)
        except FileExistsError:  # another worker made it first, or it is a file
            if not path.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path)) from None


def private_open(path: Path, mode: str = "wb") -> IO:
    """Open `path` for writing, created 0600 (`open()` would create it 0644)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE), mode)


def private_lock(path: Path) -> FileLock:
    """A file lock at `path` whose lock file is created 0600."""
    return FileLock(str(path), mode=PRIVATE_FILE)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary sibling of `target` (created 0600, in folders created 0700); rename it into
    place only if the block succeeds. A full disk, in the block or here, raises `CacheWriteError`."""
    with writes_to(target):
        private_mkdir(target.parent)
        handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=staging_prefix(target.name), suffix=target.suffix)
        os.close(handle)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
        except OSError as error:
            if isinstance(error, CacheWriteError) or error.errno not in _DISK_FULL:
                raise  # e.g. a source that cannot be read: not this write's failure
            raise write_error(target, error) from error
        with writes_to(target):
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
    """Create `directory` owner-only (0700) if it does not exist; an existing one is the user's choice.

    Raises NotADirectoryError when it, or the nearest of its parents that exists, is a file.
    """
    existing = directory
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{existing} is a file, not a directory", str(existing))
    if not directory.exists():
        directory.parent.mkdir(parents=True, exist_ok=True)  # above the cache: the user's folders
        directory.mkdir(mode=PRIVATE_DIRECTORY, exist_ok=True)


class Cache:
    """The cache at `root`: created private if it does not exist; `CacheWriteError` if it cannot be
    created or is not a directory."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.failure: CacheWriteError | None = None  # the first failed write of the work run through `writing`
        with writes_to(self.root):
            make_private(self.root)

    def probe_writable(self) -> None:
        """Create and remove a file in the root: an unwritable cache fails here, before any work, not
        at the end of an extraction."""
        with writes_to(self.root):
            handle, probe = tempfile.mkstemp(dir=self.root, prefix=staging_prefix("write-probe"))
            os.close(handle)
            os.unlink(probe)

    def exposure(self) -> str | None:
        """A one-line warning when other users may enter the root (group or other permission bits)."""
        mode = stat.S_IMODE(self.root.stat().st_mode)
        if not mode & 0o077:
            return None
        return (
            f"warning: the cache {self.root} is open to other users (mode {mode:04o}): the audit creates its "
            f"folders there 0700 and its files 0600, but `chmod 700 {self.root}` keeps the rest private too"
        )

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Around work that ends in a write to the cache (an extraction, a head's training, a slow
        evaluation): once a write has failed in this session, the next such work fails at once with the
        same error instead of computing again (a full disk stays full); a new failure is remembered."""
        if self.failure is not None:
            earlier = self.failure
            raise CacheWriteError(
                earlier.errno, f"{earlier} (failed earlier in this session; not retried)", earlier.filename
            )
        try:
            yield
        except CacheWriteError as error:
            self.failure = error
            raise

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
        stamp = time.strftime("%Y%m%d-%H%M%S")
        with writes_to(damaged):
            private_mkdir(damaged)
            for item in (path, checksum_path(path)):
                if item.exists():
                    os.replace(item, damaged / f"{item.parent.name}-{item.name}.{stamp}")
        warnings.warn(f"damaged cache entry {path}: {why}; moved to {damaged} and recomputed", stacklevel=3)

    @contextmanager
    def lock(self, kind: str, key: str) -> Iterator[None]:
        lock_path = self.root / kind / f"{key}.lock"
        with writes_to(lock_path):
            private_mkdir(lock_path.parent)
            lock = private_lock(lock_path)
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def save_tensors(
        self, path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
    ) -> None:
        # serialised here and written by Python: safetensors' own writer reports a full disk as a
        # SafetensorError, not an OSError with its errno
        data = serialise_tensors({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata)
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
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
