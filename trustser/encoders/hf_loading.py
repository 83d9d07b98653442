"""Offline loading of Hugging Face checkpoints: a local directory or a model id already in the HF cache.

Nothing is downloaded unless the user opts in with `TRUSTSER_ALLOW_DOWNLOAD=1`; without it every
call stays on the local disk (`local_files_only=True`), so a machine without network fails in
milliseconds with `ModelNotAvailable` instead of hanging on connection retries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from trustser.errors import SpecError

ALLOW_DOWNLOAD_ENV = "TRUSTSER_ALLOW_DOWNLOAD"
WEIGHT_SUFFIXES = (".safetensors", ".bin")
CONFIG_FILES = ("config.json", "preprocessor_config.json")


class ModelNotAvailable(SpecError, FileNotFoundError):
    """The checkpoint is neither a local directory nor in the local HF cache (and downloads are off)."""


def download_allowed() -> bool:
    return os.environ.get(ALLOW_DOWNLOAD_ENV, "").strip().lower() in {"1", "true", "yes"}


def _how_to_provide(source: str) -> str:
    return (
        f"To provide it, on a machine with network run `hf download {source}` (older huggingface_hub: "
        f"`huggingface-cli download {source}`, or `huggingface_hub.snapshot_download({source!r})`) into the "
        f"HF_HOME this machine uses, or copy the model directory here and pass `hf:/path/to/dir`; or set "
        f"{ALLOW_DOWNLOAD_ENV}=1 to let TrustSER download it."
    )


def _looks_like_path(source: str) -> bool:
    # hub ids ("facebook/wav2vec2-base") also contain a slash, so only explicit or existing paths count
    return source.startswith(("/", ".", "~")) or Path(source).exists()


def resolve_model_source(source: str) -> str | Path:
    """The local directory holding checkpoint `source` (a directory path or a hub id in the HF cache).

    Returns the id itself, unresolved, only when it is not cached and downloads are allowed.
    """
    path = Path(source).expanduser()
    if _looks_like_path(source):
        if not (path / "config.json").is_file():
            raise ModelNotAvailable(
                f"{source!r} is not a model directory: pass the directory holding "
                "config.json and the weights (a `save_pretrained` or `snapshot_download` output)"
            )
        return path
    from huggingface_hub import snapshot_download

    try:  # local_files_only: the cache is consulted, the network never is
        return Path(snapshot_download(source, local_files_only=True))
    except Exception as error:  # not cached, or not even a valid repo id
        if download_allowed():
            return source
        raise ModelNotAvailable(
            f"model {source!r} is not in the local Hugging Face cache "
            f"({_cache_dir()}) and downloads are off. " + _how_to_provide(source)
        ) from error


def _cache_dir() -> str:
    from huggingface_hub.constants import HF_HUB_CACHE

    return HF_HUB_CACHE


def load_pretrained(cls, source: str, **kwargs):
    """`cls.from_pretrained(...)` on the offline-resolved `source` (any transformers class: a model,
    `AutoModelForAudioClassification`, `AutoConfig`, a feature extractor), raising `ModelNotAvailable`."""
    resolved = resolve_model_source(source)
    local = isinstance(resolved, Path)
    try:
        with _quiet_transformers():
            return cls.from_pretrained(resolved, local_files_only=local, **kwargs)
    except OSError as error:  # e.g. a cache snapshot holding config.json but not the weights
        where = "from local files" if local else "(download allowed, but it failed)"
        raise ModelNotAvailable(f"could not load {source!r} {where}: {error} " + _how_to_provide(source)) from error


@contextlib.contextmanager
def _quiet_transformers():
    """No progress bars or "newly initialised head" notes: heads left untrained here are expected."""
    from transformers.utils import logging

    verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()


def preprocessor_settings(source: str) -> dict | None:
    """The checkpoint's `preprocessor_config.json` as a dict, or None if it has none."""
    resolved = resolve_model_source(source)
    if isinstance(resolved, Path):
        path = resolved / "preprocessor_config.json"
        return json.loads(path.read_text()) if path.is_file() else None
    from huggingface_hub import hf_hub_download  # downloads were allowed and the id is not cached yet

    try:
        return json.loads(Path(hf_hub_download(source, "preprocessor_config.json")).read_text())
    except Exception:  # the repository has no preprocessor config
        return None


def model_card_datasets(source: str) -> tuple[str, ...]:
    """The datasets a checkpoint's model card declares (`datasets:` in the YAML front matter of its
    README.md, Hugging Face's convention); empty without a card, a front matter or that key."""
    resolved = resolve_model_source(source)
    return card_datasets(Path(resolved) / "README.md") if isinstance(resolved, Path) else ()


def card_datasets(card: Path) -> tuple[str, ...]:
    """The datasets the model card `card` (a README.md, present or not) declares; see `model_card_datasets`."""
    if not card.is_file():
        return ()
    from huggingface_hub.repocard import metadata_load

    try:
        metadata = metadata_load(card) or {}
    except Exception as error:  # yaml's errors: a card whose front matter does not parse
        raise ValueError(f"{card}: the model card's front matter is not valid YAML: {error}") from None
    datasets = metadata.get("datasets") or []
    names = [datasets] if isinstance(datasets, str) else datasets
    if not isinstance(names, list):
        raise ValueError(f"{card}: `datasets` must be a dataset id or a list of them, got {datasets!r}")
    return tuple(dict.fromkeys(str(name).strip() for name in names if str(name).strip()))


def checkpoint_fingerprint(source: str) -> str:
    """SHA-256 over the checkpoint's config files and weight files (names and bytes).

    Reading the weight files (~1 s per GB) is cheaper than hashing every tensor of a loaded model, and
    covers exactly what `from_pretrained` read.
    """
    directory = Path(resolve_model_source(source))
    digest = hashlib.sha256()
    files = [directory / name for name in CONFIG_FILES]
    files += sorted(p for p in directory.iterdir() if p.name.endswith(WEIGHT_SUFFIXES))
    for path in files:
        if path.is_file():
            digest.update(path.name.encode())
            with path.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()
