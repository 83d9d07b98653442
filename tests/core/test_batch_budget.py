"""Batches bounded by padded bytes: the same predictions and training, in parts, whatever the utterance lengths."""

from __future__ import annotations

import numpy as np
import torch

import trustser.models.training as training
from trustser.features.frames import LayerFeatures
from trustser.models.head import HeadConfig
from trustser.models.training import TrainConfig, predict_logits, train_head, within_budget


def _features(n: int = 24, layers: int = 2, hidden: int = 8) -> LayerFeatures:
    generator = torch.Generator().manual_seed(0)
    counts = torch.randint(3, 40, (n,), generator=generator)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    frames = torch.randn(int(offsets[-1]), layers, hidden, generator=generator)
    return LayerFeatures([f"u{i}" for i in range(n)], frames, offsets, samples=counts * 160)


def test_runs_keep_order_and_fit_the_budget():
    features = _features()
    indices = np.random.default_rng(0).permutation(24)
    frame_bytes = 2 * 8 * 4
    runs = within_budget(indices, features, max_bytes=100 * frame_bytes)
    assert np.array_equal(np.concatenate(runs), indices) and len(runs) > 3
    for run in runs:
        assert len(run) == 1 or len(run) * features.frame_counts[run].max() * frame_bytes <= 100 * frame_bytes
    assert len(within_budget(indices, features)) == 1  # small features: one batch, as before


def test_parts_give_the_same_predictions_and_the_same_training(monkeypatch):
    features, labels = _features(), np.arange(24) % 4
    train, dev = np.arange(16), np.arange(16, 24)
    config, recipe = HeadConfig(conv_dim=8, mlp_dim=8, dropout=0.0), TrainConfig(max_epochs=3, patience=3, batch_size=8)
    whole = train_head(features, labels, train, dev, num_classes=4, head_config=config, train_config=recipe)
    logits = predict_logits(whole, features, np.arange(24))
    for bound in ("BATCH_BYTES", "TRAINING_BATCH_BYTES"):  # every batch of 8 runs in several parts
        monkeypatch.setattr(training, bound, 60 * 2 * 8 * 4)
    assert len(within_budget(train[:8], features)) > 1
    assert len(within_budget(train[:8], features, max_bytes=training.TRAINING_BATCH_BYTES)) > 1
    parted = train_head(features, labels, train, dev, num_classes=4, head_config=config, train_config=recipe)
    for name, value in whole.state_dict().items():
        torch.testing.assert_close(parted.state_dict()[name], value, rtol=1e-4, atol=1e-5, msg=name)
    torch.testing.assert_close(predict_logits(whole, features, np.arange(24)), logits, rtol=1e-5, atol=1e-6)
    assert predict_logits(whole, features, np.arange(24)).shape == (24, 4)
