"""A damaged cache is named, set aside and recomputed; the cache is private; cached results cannot make
the report copy files from outside the cache (issue: hostile inputs, item 4)."""

from __future__ import annotations

import json
import stat

import numpy as np
import pytest
import torch

from tests.records import a_record
from trustser.cache.store import Cache, checksum_path, content_key
from trustser.corpora.audio import AudioStore
from trustser.report.writers import copy_listening_examples


def _damage(path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "bit flip":
        data[-3] ^= 0x01
        path.write_bytes(bytes(data))
    else:  # written by a version without checksums, or killed before its checksum
        checksum_path(path).unlink()


@pytest.mark.parametrize("how", ["truncated", "bit flip", "no checksum"])
def test_a_damaged_head_or_result_is_named_moved_aside_and_recomputed(tmp_path, how):
    cache = Cache(tmp_path / "cache")
    head = cache.path("heads", content_key(x=1))
    result = cache.path("results", content_key(x=2), ".json")
    cache.save_tensors(head, {"w": torch.arange(6.0)})
    cache.save_json(result, {"uar": 0.7})
    assert cache.intact(head) and cache.intact(result)
    for path in (head, result):
        _damage(path, how)
        with pytest.warns(UserWarning, match=str(path)):
            assert not cache.intact(path)
        assert not path.exists() and not checksum_path(path).exists()
    assert len(list((tmp_path / "cache" / "damaged").iterdir())) >= 2  # kept for inspection
    cache.save_json(result, {"uar": 0.7})  # what the caller does next: recompute and store
    assert cache.intact(result) and json.loads(result.read_text()) == {"uar": 0.7}


def test_a_damaged_decoded_audio_entry_is_decoded_again(tmp_path):
    import soundfile

    wav = tmp_path / "a.wav"
    soundfile.write(wav, np.sin(np.arange(16000) / 10).astype(np.float32), 16000)
    store = AudioStore(tmp_path / "cache", 16000)
    key, length = store.prepare(wav)
    cached = store.cache.path("audio", key, ".npy")
    cached.write_bytes(cached.read_bytes()[:200])  # truncated: np.load would fail or read garbage
    fresh = AudioStore(tmp_path / "cache", 16000)  # a later run
    with pytest.warns(UserWarning, match="damaged cache entry"):
        assert fresh.prepare(wav) == (key, length)
    assert len(fresh.load(wav, key)) == length


def test_the_cache_is_private(tmp_path):
    cache = Cache(tmp_path / "new-cache")
    path = cache.path("results", "k", ".json")
    cache.save_json(path, {})
    assert stat.S_IMODE((tmp_path / "new-cache").stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(checksum_path(path).stat().st_mode) == 0o600


def test_cached_results_cannot_point_the_report_outside_the_cache(tmp_path):
    cache_root, report = tmp_path / "cache", tmp_path / "report"
    folder = cache_root / "examples" / "k"
    folder.mkdir(parents=True)
    for name in ("u1.original.wav", "u1.fgsm.wav"):
        (folder / name).write_bytes(b"RIFF")
    (tmp_path / "secret.wav").write_bytes(b"secret")
    examples = ["examples/k/u1.fgsm.wav", "/etc/passwd", "../secret.wav", str(folder / "u1.fgsm.wav")]
    record = a_record(metric="safety.fgsm_success_rate", backbone="../../x", details={"examples": examples})
    refused = copy_listening_examples([record], report, cache_root)
    assert set(refused) >= {"/etc/passwd", "../secret.wav"}
    copied = sorted(p for p in report.rglob("*") if p.is_file())
    assert [p.name for p in copied] == ["u1.fgsm.wav", "u1.original.wav"]
    assert all(p.resolve().is_relative_to(report.resolve()) for p in copied)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in copied)
