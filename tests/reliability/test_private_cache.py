"""Whatever the cache root's mode, what the audit writes in it is the user's alone: folders 0700, files
0600, the report's copies of voices too; a root others can open is named at start (issue 28, item 3)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from tests.records import a_record
from trustser.cache.store import Cache, atomic_path, content_key
from trustser.corpora import create as create_corpus
from trustser.encoders import create as create_encoder
from trustser.features.extraction import extract_features
from trustser.report.writers import copy_listening_examples


def _open_root(path: Path) -> Path:
    """A root as a team makes it with `mkdir` under a 022 umask: 0755, listable by everyone."""
    path.mkdir(parents=True)
    path.chmod(0o755)
    return path


def _tiny_manifest(directory: Path) -> Path:
    directory.mkdir(parents=True)
    rows = []
    for i in range(4):
        soundfile.write(directory / f"a{i}.wav", (0.3 * np.sin(np.arange(8000) / (3 + i))).astype(np.float32), 16000)
        rows.append(f"a{i}.wav,{'angry' if i % 2 else 'neutral'},spk{i},{'F' if i % 2 else 'M'},a{i}")
    (directory / "corpus.csv").write_text("path,emotion,speaker,gender,id\n" + "\n".join(rows) + "\n")
    return directory / "corpus.csv"


def _open_to_others(root: Path) -> list[str]:
    """Everything under `root` (not the root itself) that group or others could read, enter or write."""
    return [
        f"{stat.S_IMODE(path.lstat().st_mode):04o} {path.relative_to(root)}"
        for path in sorted(root.rglob("*"))
        if stat.S_IMODE(path.lstat().st_mode) & 0o077
    ]


def test_features_audio_heads_and_results_are_private_under_an_open_root(tmp_path):
    root = _open_root(tmp_path / "shared")
    cache = Cache(root)
    corpus = create_corpus(f"manifest:{_tiny_manifest(tmp_path / 'corpus')}", root)  # decoded audio: audio/*.npy
    features = extract_features(create_encoder("mfcc"), corpus, cache, progress=lambda _: None)
    cache.save_tensors(cache.path("heads", content_key(x=1)), {"w": torch.ones(3)})
    cache.save_json(cache.path("results", content_key(x=2), ".json"), {"uar": 0.5})
    with atomic_path(root / "examples" / "k" / "u1.original.wav") as tmp:  # how attacks store their examples
        tmp.write_bytes(b"RIFF")
    names = {path.name for path in features.directory.iterdir()}
    assert {"shard-00000.bin", "shard-00000.pooled.bin", "index.json"} <= names  # the embeddings are there
    assert _open_to_others(root) == []
    assert stat.S_IMODE(root.stat().st_mode) == 0o755  # the team's root itself is theirs to set


def test_a_synthetic_corpus_is_private_under_an_open_root(tmp_path, monkeypatch):
    from trustser.corpora import espeak, synthetic

    # in this process (a fresh interpreter only keeps espeak-ng's state out of later corpora): the same writes
    monkeypatch.setattr(synthetic, "synthesise_in_fresh_process", espeak.synthesise_jobs)
    root = _open_root(tmp_path / "shared")
    plan = synthetic.corpus_plan(speakers=2, sentences=1, seed=0)[:1]
    synthetic.generate(plan, root / "corpora" / "synthetic-k")
    assert (root / "corpora" / "synthetic-k" / f"{plan[0].utterance.id}.wav").exists()
    assert _open_to_others(root) == []


def test_the_reports_copies_of_voices_are_private(tmp_path):
    cache_root, report = tmp_path / "cache", _open_root(tmp_path / "report")
    with atomic_path(cache_root / "examples" / "k" / "u1.fgsm.wav") as tmp:
        tmp.write_bytes(b"RIFF")
    with atomic_path(cache_root / "examples" / "k" / "u1.original.wav") as tmp:
        tmp.write_bytes(b"RIFF")
    record = a_record(metric="safety.fgsm_success_rate", details={"examples": ["examples/k/u1.fgsm.wav"]})
    assert copy_listening_examples([record], report, cache_root) == []
    assert len(list((report / "examples").rglob("*.wav"))) == 2
    assert _open_to_others(report) == []


@pytest.mark.parametrize("mode, warned", [(0o755, True), (0o750, True), (0o700, False)], ids=["0755", "0750", "0700"])
def test_a_root_others_can_open_is_named_in_one_line_at_start(tmp_path, mode, warned):
    from trustser.run.session import AuditSession, AuditSettings

    root = tmp_path / "cache"
    root.mkdir()
    root.chmod(mode)
    lines: list[str] = []
    AuditSession(AuditSettings(("mfcc",), "synthetic", tmp_path / "report", root), progress=lines.append)
    warnings = [line for line in lines if "open to other users" in line]
    assert len(warnings) == int(warned)
    if warned:
        assert str(root) in warnings[0] and f"{mode:04o}" in warnings[0] and "\n" not in warnings[0]


def test_a_new_root_is_private_and_not_warned_about(tmp_path):
    from trustser.run.session import AuditSession, AuditSettings

    lines: list[str] = []
    AuditSession(AuditSettings(("mfcc",), "synthetic", tmp_path, tmp_path / "new" / "cache"), progress=lines.append)
    assert stat.S_IMODE((tmp_path / "new" / "cache").stat().st_mode) == 0o700 and lines == []
    assert os.listdir(tmp_path / "new" / "cache") == []  # the write probe leaves nothing behind
