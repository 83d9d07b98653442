"""Every registered hand-crafted / small encoder meets the `Encoder` contract.

Batched vs one-at-a-time tolerance: max |difference| <= 1e-5 x max |single| per utterance (float32;
mfcc and egemaps measure exactly equal, ge2e's batched LSTM matmuls differ by ~1e-6 relative).
"""

import numpy as np
import pytest
import torch

from trustser.encoders import available, create
from trustser.encoders.base import frame_mask, pad_waveforms

SR = 16000
NAMES = ["mfcc", "egemaps", "ge2e"]
DURATIONS = [1.0, 0.37, 0.6133]  # seconds; not multiples of the 10 ms hop


def voiced(seconds: float, f0: float, seed: int) -> np.ndarray:
    """Harmonic tone with a little noise, at about -25 dBFS."""
    t = np.arange(int(seconds * SR)) / SR
    tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))
    noise = np.random.default_rng(seed).standard_normal(len(t))
    return (0.03 * tone + 0.003 * noise).astype(np.float32)


@pytest.fixture(scope="module", params=NAMES)
def encoder(request):
    return create(request.param).eval()


@pytest.fixture(scope="module")
def batch():
    return pad_waveforms(torch.from_numpy(voiced(s, 110 + 40 * i, i)) for i, s in enumerate(DURATIONS))


def test_registry_lists_them():
    assert set(NAMES) <= set(available())


def test_shapes_and_zero_padding(encoder, batch):
    waves, lengths = batch
    with torch.no_grad():
        layers, frame_lengths = encoder(waves, lengths)
    assert layers.shape == (len(DURATIONS), encoder.num_layers, int(frame_lengths.max()), encoder.hidden_size)
    assert layers.dtype == torch.float32 and torch.isfinite(layers).all()
    padding = ~frame_mask(frame_lengths, layers.shape[2])
    assert not layers.permute(0, 2, 1, 3)[padding].any()
    expected = [1] * len(DURATIONS) if encoder.name == "egemaps" else (1 + lengths // 160).tolist()
    assert frame_lengths.tolist() == expected


def test_batched_equals_one_at_a_time(encoder, batch):
    waves, lengths = batch
    with torch.no_grad():
        layers, frame_lengths = encoder(waves, lengths)
        for row, length in enumerate(lengths.tolist()):
            alone, alone_frames = encoder(waves[row : row + 1, :length], lengths[row : row + 1])
            assert alone_frames.item() == frame_lengths[row].item()
            batched = layers[row, :, : alone.shape[2]]
            assert (batched - alone[0]).abs().max() <= 1e-5 * alone.abs().max()


def test_fingerprint_is_stable(encoder):
    assert encoder.fingerprint() == create(encoder.name).fingerprint()


def test_non_differentiable_encoders_say_why(encoder):
    assert encoder.differentiable == (encoder.name != "egemaps")
    assert ("outside torch" in encoder.non_differentiable_reason) == (not encoder.differentiable)


def test_gradient_reaches_valid_samples_only(encoder, batch):
    if not encoder.differentiable:
        pytest.skip(f"{encoder.name} is not differentiable")
    waves, lengths = batch
    # garbage in the padding must change nothing and receive no gradient
    padding = torch.arange(waves.shape[1])[None, :] >= lengths[:, None]
    noisy = torch.where(padding, torch.randn_like(waves), waves).requires_grad_(True)
    layers, frame_lengths = encoder(noisy, lengths)
    with torch.no_grad():
        assert torch.equal(layers, encoder(waves, lengths)[0])
    layers.pow(2).sum().backward()
    gradient = noisy.grad
    assert torch.isfinite(gradient).all()
    assert not gradient[padding].any()
    for row, length in enumerate(lengths.tolist()):
        assert (gradient[row, :length] != 0).float().mean() > 0.99
