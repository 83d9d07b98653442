"""The cache writes atomically and keys by content."""

import pytest
import torch

from trustser.cache.store import Cache, atomic_path, content_key


def test_content_key_is_stable_and_sensitive():
    assert content_key(a=1, b="x") == content_key(b="x", a=1)
    assert content_key(a=1, b="x") != content_key(a=2, b="x")


def test_interrupted_write_leaves_nothing(tmp_path):
    target = tmp_path / "kind" / "key.safetensors"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_tensors_round_trip(tmp_path):
    cache = Cache(tmp_path)
    path = cache.path("features", content_key(x=1))
    cache.save_tensors(path, {"frames": torch.arange(6.0).reshape(2, 3)})
    assert torch.equal(cache.load_tensors(path)["frames"], torch.arange(6.0).reshape(2, 3))
    assert sorted(p.name for p in path.parent.iterdir()) == [
        path.name,
        path.name + ".sha256",
    ]  # the entry and its checksum
