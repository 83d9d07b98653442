"""Dimensional heads: the same body with one output per attribute, trained with the CCC loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import trustser.models.training as training
from trustser.features.frames import LayerFeatures
from trustser.models.head import HeadConfig
from trustser.models.objectives import ConcordanceLoss, concordance
from trustser.models.training import TrainConfig, per_utterance_loss, predict_logits, train_head, within_budget
from trustser.pillars.concordance import ccc


def test_ccc_is_one_on_the_ratings_and_falls_with_a_shift_or_a_scale():
    rng = np.random.default_rng(0)
    true = rng.uniform(1, 7, size=(200, 3))
    np.testing.assert_allclose(ccc(true, true), 1.0)
    assert (ccc(true + 1.0, true) < 0.9).all() and (ccc(2 * true, true) < 0.9).all()
    x, y = true[:, 0], 0.5 * true[:, 0] + rng.normal(0, 1, 200)
    by_hand = 2 * np.cov(x, y, bias=True)[0, 1] / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
    assert ccc(y, x) == pytest.approx(by_hand)
    assert ccc((y - 1) / 6, (x - 1) / 6) == pytest.approx(by_hand)  # the same normalised: one affine map for both
    torch.testing.assert_close(
        concordance(torch.tensor(y[:, None]), torch.tensor(x[:, None])).double(), torch.tensor([by_hand]).double()
    )


def _features(n: int = 48, layers: int = 2, hidden: int = 8) -> tuple[LayerFeatures, np.ndarray]:
    """Frames whose mean along two dimensions is the utterance's two attributes (plus noise)."""
    generator = torch.Generator().manual_seed(0)
    counts = torch.randint(3, 40, (n,), generator=generator)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    targets = torch.rand(n, 2, generator=generator)
    frames = torch.randn(int(offsets[-1]), layers, hidden, generator=generator)
    owner = torch.repeat_interleave(torch.arange(n), counts)
    frames[:, :, :2] += 3 * targets[owner][:, None, :]
    features = LayerFeatures([f"u{i}" for i in range(n)], frames, offsets, samples=counts * 160)
    return features, targets.numpy()


def test_a_dimensional_head_learns_the_attributes_with_the_ccc_loss():
    features, targets = _features()
    train, dev = np.arange(32), np.arange(32, 48)
    config, recipe = HeadConfig(conv_dim=16, mlp_dim=16), TrainConfig(max_epochs=30, batch_size=8)
    head = train_head(features, targets, train, dev, num_classes=2, head_config=config, train_config=recipe)
    predicted = predict_logits(head, features, dev).numpy()
    assert predicted.shape == (16, 2)
    assert (ccc(predicted, targets[dev]) > 0.6).all(), ccc(predicted, targets[dev])
    # the membership attacker's score: squared error summed over the attributes
    np.testing.assert_allclose(
        per_utterance_loss(head, features, targets, dev), ((predicted - targets[dev]) ** 2).sum(1), rtol=1e-5
    )


def test_a_batch_in_parts_trains_the_same_head(monkeypatch):
    features, targets = _features(n=24)
    train, dev = np.arange(16), np.arange(16, 24)
    config, recipe = HeadConfig(conv_dim=8, mlp_dim=8, dropout=0.0), TrainConfig(max_epochs=3, patience=3, batch_size=8)
    whole = train_head(features, targets, train, dev, num_classes=2, head_config=config, train_config=recipe)
    monkeypatch.setattr(training, "TRAINING_BATCH_BYTES", 60 * 2 * 8 * 4)
    assert len(within_budget(train[:8], features, max_bytes=training.TRAINING_BATCH_BYTES)) > 1
    parted = train_head(features, targets, train, dev, num_classes=2, head_config=config, train_config=recipe)
    for name, value in whole.state_dict().items():
        torch.testing.assert_close(parted.state_dict()[name], value, rtol=1e-4, atol=1e-5, msg=name)


def test_the_parts_gradient_is_the_whole_loss_gradient_with_the_same_dropout_masks():
    """CCC is no sum over utterances: the parts replay their dropout masks, so the gradient is exact."""
    features, targets = _features(n=24)
    parts = within_budget(np.arange(12), features, max_bytes=60 * 2 * 8 * 4)
    assert len(parts) > 1
    head = training.new_head(features, np.arange(12), num_classes=2, head_config=HeadConfig(conv_dim=8, mlp_dim=8))
    head.train()
    loss_fn, tensor = ConcordanceLoss(), torch.as_tensor(targets)

    def gradients() -> list[torch.Tensor]:
        return [p.grad.clone() for p in head.parameters()]

    torch.manual_seed(5)
    outputs = torch.cat([head(*features.batch(part)) for part in parts])
    loss_fn(outputs, tensor[np.concatenate(parts)]).backward()
    direct = gradients()
    head.zero_grad()
    torch.manual_seed(5)
    training._accumulate_batch_loss_gradients(head, features, parts, tensor, loss_fn=loss_fn, device="cpu")
    for expected, got in zip(direct, gradients()):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)
