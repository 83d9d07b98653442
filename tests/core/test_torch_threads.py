"""Heads train, and inference energy is measured, on a fixed torch thread count, restored afterwards."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trustser.compute.devices import torch_threads
from trustser.features.frames import LayerFeatures
from trustser.models.training import TrainConfig, train_head


def test_the_thread_count_is_set_inside_and_restored_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="inside"):
        with torch_threads(1):
            assert torch.get_num_threads() == 1
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="at least one thread"):
        with torch_threads(0):
            pass


def test_a_head_trains_on_one_thread_on_the_cpu(monkeypatch):
    seen = []
    original = torch.nn.Linear.forward

    def recording(self, x):
        seen.append(torch.get_num_threads())
        return original(self, x)

    monkeypatch.setattr(torch.nn.Linear, "forward", recording)
    rng = np.random.default_rng(0)
    features = LayerFeatures(
        [f"u{i}" for i in range(12)],
        frames=torch.as_tensor(rng.normal(size=(60, 1, 8)), dtype=torch.float32),
        offsets=torch.arange(0, 61, 5),
    )
    labels = np.arange(12) % 2
    with torch_threads(2):
        train_head(
            features,
            labels,
            np.arange(8),
            np.arange(8, 12),
            num_classes=2,
            train_config=TrainConfig(max_epochs=1),
        )
        assert torch.get_num_threads() == 2
    assert seen and set(seen) == {1}
