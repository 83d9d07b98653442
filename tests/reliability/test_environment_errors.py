"""A full disk, an unwritable or uncreatable cache, a cache path that is a file: a usage error before any
test, or an ERROR row naming the path and the free space; never INTERNALERROR, never a raw OSError, and a
failed write is not paid for again by every later test (issue 28, item 4)."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from tests.suite_runs import ROOT, report_records, run_suite
from trustser.cache.store import Cache, CacheWriteError, content_key
from trustser.corpora import create as create_corpus
from trustser.encoders import create as create_encoder
from trustser.features import extraction
from trustser.run.session import AuditSession, AuditSettings, ConfigurationError

USAGE_ERROR = int(pytest.ExitCode.USAGE_ERROR)
NO_SPACE = os.strerror(errno.ENOSPC)

# A `-p` plugin for the child pytest: the disk is full whenever a head is stored (os.replace is the last
# step of every atomic write), and each attempt is counted in $ATTEMPTS.
FULL_DISK_FOR_HEADS = """
import errno, os
_replace = os.replace
def replace(source, target, *args, **kwargs):
    if str(target).endswith(".safetensors"):
        with open(os.environ["ATTEMPTS"], "a") as attempts:
            attempts.write(f"{target}\\n")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return _replace(source, target, *args, **kwargs)
os.replace = replace
"""


def _tiny_manifest(directory: Path, speakers: int = 4) -> Path:
    directory.mkdir(parents=True)
    rows = []
    for i in range(2 * speakers):
        soundfile.write(directory / f"a{i}.wav", (0.3 * np.sin(np.arange(8000) / (3 + i))).astype(np.float32), 16000)
        speaker = i % speakers
        rows.append(f"a{i}.wav,{'angry' if i % 2 else 'neutral'},spk{speaker},{'F' if speaker % 2 else 'M'},a{i}")
    (directory / "corpus.csv").write_text("path,emotion,speaker,gender,id\n" + "\n".join(rows) + "\n")
    return directory / "corpus.csv"


def _names_path_reason_and_free_space(error: BaseException, path: object, reason: str) -> None:
    text = str(error)
    assert str(path) in text and reason in text and " free of " in text and "\n" not in text, text


class _FullDisk:
    """A file handle on a full disk: every write fails as the kernel's would."""

    def __init__(self, handle):
        self._handle = handle

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, NO_SPACE)

    def __getattr__(self, name):
        return getattr(self._handle, name)


def test_a_full_disk_during_extraction_names_the_shard_and_the_free_space_and_is_not_retried(tmp_path, monkeypatch):
    from trustser.features import store

    def full_for_shards(opener):  # the shards' binary files fill the disk; their JSON records would still fit
        return lambda path, *args, **kwargs: (_FullDisk if ".bin" in str(path) else (lambda h: h))(
            opener(path, *args, **kwargs)
        )

    for name, opener in (("private_open", getattr(store, "private_open", None)), ("open", open)):
        if opener is not None:
            monkeypatch.setattr(store, name, full_for_shards(opener), raising=False)
    cache = Cache(tmp_path / "cache")
    corpus = create_corpus(f"manifest:{_tiny_manifest(tmp_path / 'corpus')}", cache.root)
    encoder = create_encoder("mfcc")
    attempts = []
    real_extract = extraction._extract
    monkeypatch.setattr(extraction, "_extract", lambda *a, **k: attempts.append(1) or real_extract(*a, **k))
    with pytest.raises(CacheWriteError) as first:
        extraction.extract_features(encoder, corpus, cache, progress=lambda _: None)
    _names_path_reason_and_free_space(first.value, "shard-00000", NO_SPACE)
    assert first.value.errno == errno.ENOSPC
    with pytest.raises(CacheWriteError, match="not retried") as again:  # the next test's call: at once
        extraction.extract_features(encoder, corpus, cache, progress=lambda _: None)
    _names_path_reason_and_free_space(again.value, "shard-00000", NO_SPACE)
    assert attempts == [1]
    leftovers = [p.name for p in (cache.root / "features").rglob("*") if ".tmp-" in p.name]
    assert leftovers == []  # the half-written shard was removed


def test_a_full_disk_when_a_head_is_saved_is_a_cache_write_error_and_later_work_is_not_redone(tmp_path, monkeypatch):
    from trustser.cache import store

    real_replace = os.replace

    def full_for_heads(source, target, *args, **kwargs):
        if str(target).endswith(".safetensors"):
            raise OSError(errno.ENOSPC, NO_SPACE)
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(store.os, "replace", full_for_heads)
    cache = Cache(tmp_path / "cache")
    head = cache.path("heads", content_key(x=1))
    trainings = []

    def train_and_store():
        trainings.append(1)
        cache.save_tensors(head, {"w": torch.ones(3)})

    with pytest.raises(CacheWriteError) as first, cache.writing():
        train_and_store()
    _names_path_reason_and_free_space(first.value, head, NO_SPACE)
    with pytest.raises(CacheWriteError, match="not retried"), cache.writing():
        train_and_store()
    assert trainings == [1] and not head.exists() and not list(head.parent.glob(".*"))


def test_a_cache_path_that_is_a_file_is_blamed_on_the_cache_not_the_corpus(tmp_path):
    manifest = _tiny_manifest(tmp_path / "corpus")
    cache_file = tmp_path / "cache"
    cache_file.write_text("not a directory")
    with pytest.raises(ConfigurationError) as error:
        AuditSession(AuditSettings(("mfcc",), f"manifest:{manifest}", tmp_path / "report", cache_file)).check()
    text = str(error.value)
    assert "--corpus" not in text and "--trust-cache" in text, text
    _names_path_reason_and_free_space(error.value, cache_file, "not a directory")


def test_a_cache_that_cannot_be_created_is_a_configuration_error(tmp_path, monkeypatch):
    parent = tmp_path / "read-only"
    parent.mkdir()
    real_mkdir = Path.mkdir

    def refused(self, *args, **kwargs):  # what a parent without write permission does (root ignores modes)
        if self.parent == parent:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refused)
    with pytest.raises(ConfigurationError) as error:
        AuditSession(AuditSettings(("mfcc",), "synthetic", tmp_path / "report", parent / "cache"))
    _names_path_reason_and_free_space(error.value, parent / "cache", os.strerror(errno.EACCES))


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes")
def test_an_existing_cache_that_is_not_writable_is_a_configuration_error(tmp_path):
    root = tmp_path / "cache"
    root.mkdir(mode=0o500)
    try:
        with pytest.raises(ConfigurationError) as error:
            AuditSession(AuditSettings(("mfcc",), "synthetic", tmp_path / "report", root))
        _names_path_reason_and_free_space(error.value, root, os.strerror(errno.EACCES))
    finally:
        root.chmod(0o700)


def _audit(tmp_path: Path, cache: Path, *options: str, environment=None) -> subprocess.CompletedProcess:
    corpus = f"manifest:{_tiny_manifest(tmp_path / 'corpus')}"
    return run_suite(
        ROOT / "trust_tests" / "test_utility.py",
        cwd=ROOT,
        report=tmp_path / "report",
        cache=cache,
        options=("--corpus", corpus, "--backbone", "mfcc", "--folds", "2", *options),
        pythonpath=(ROOT, tmp_path),
        environment=environment,
        timeout=300,
    )


def test_an_uncreatable_cache_stops_the_run_as_a_usage_error_not_an_internal_error(tmp_path):
    (tmp_path / "a-file").write_text("")
    done = _audit(tmp_path, tmp_path / "a-file" / "cache")  # the cache's parent is a file
    output = done.stdout + done.stderr
    assert done.returncode == USAGE_ERROR, output
    assert "INTERNALERROR" not in output and "Traceback" not in output, output
    [line] = [line for line in output.splitlines() if line.startswith("ERROR:")]
    _names_path_reason_and_free_space(line, tmp_path / "a-file", "not a directory")


def test_a_full_disk_for_the_heads_is_an_error_row_per_test_trained_once(tmp_path):
    (tmp_path / "full_disk_for_heads.py").write_text(FULL_DISK_FOR_HEADS)
    attempts = tmp_path / "attempts"
    done = _audit(tmp_path, tmp_path / "cache", "-p", "full_disk_for_heads", environment={"ATTEMPTS": str(attempts)})
    output = done.stdout + done.stderr
    assert done.returncode == int(pytest.ExitCode.TESTS_FAILED), output
    assert "INTERNALERROR" not in output and "Traceback" not in output and "SafetensorError" not in output, output
    records = report_records(tmp_path / "report")
    skipped = {r["metric"] for r in records if r["verdict"] == "SKIP"}  # the dimensional gates, by task
    assert skipped == {"utility.ccc_arousal", "utility.ccc_dominance", "utility.ccc_valence", "utility.ccc_mean"}
    records = [r for r in records if r["verdict"] != "SKIP"]
    assert [r["verdict"] for r in records] == ["ERROR"] * 4  # UAR, accuracy, ECE, Brier
    for record in records:
        _names_path_reason_and_free_space(record["message"], tmp_path / "cache" / "heads", NO_SPACE)
    assert len(attempts.read_text().splitlines()) == 1  # the first head's training; the second test did not retrain
