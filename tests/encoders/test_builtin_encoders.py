"""What the contract (test_encoder_contract.py) leaves open, pinned for the built-in hand-crafted encoders:
their frame arithmetic, which of them is differentiable, and padding that is exactly inert."""

import numpy as np
import pytest
import torch

from trustser.encoders import create
from trustser.encoders.base import pad_waveforms

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


def test_frame_counts(encoder, batch):
    waves, lengths = batch
    with torch.no_grad():
        _, frame_lengths = encoder(waves, lengths)
    expected = [1] * len(DURATIONS) if encoder.name == "egemaps" else (1 + lengths // 160).tolist()
    assert frame_lengths.tolist() == expected


def test_only_egemaps_is_not_differentiable_and_says_why(encoder):
    assert encoder.differentiable == (encoder.name != "egemaps")
    assert ("outside torch" in encoder.non_differentiable_reason) == (not encoder.differentiable)


def test_padding_is_exactly_inert_and_gradient_reaches_nearly_every_sample(encoder, batch):
    if not encoder.differentiable:
        pytest.skip(f"{encoder.name} is not differentiable")
    waves, lengths = batch
    padding = torch.arange(waves.shape[1])[None, :] >= lengths[:, None]
    noisy = torch.where(padding, torch.randn_like(waves), waves).requires_grad_(True)
    layers, _ = encoder(noisy, lengths)
    with torch.no_grad():
        assert torch.equal(layers, encoder(waves, lengths)[0])
    layers.pow(2).sum().backward()
    for row, length in enumerate(lengths.tolist()):
        assert (noisy.grad[row, :length] != 0).float().mean() > 0.99


def test_egemaps_gives_the_same_rows_on_one_thread_and_on_several(batch):
    """Its utterances run through openSMILE in parallel threads: the rows must not depend on the thread count."""
    from trustser.compute.devices import torch_threads

    encoder = create("egemaps")
    with torch_threads(1):
        one, _ = encoder(*batch)
    with torch_threads(3):
        several, _ = encoder(*batch)
    assert torch.isfinite(one).all()
    torch.testing.assert_close(several, one, rtol=0, atol=0)
