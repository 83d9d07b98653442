"""A test-only encoder with the output size of a base SSL model, for memory and scale tests.

`ssl_shaped` emits 13 layers x 768 dimensions at 50 frames per second, like wav2vec 2.0 base's
hidden states, but computes them as fixed random projections of a 80-band log-mel spectrogram: a few
MFLOP per audio second instead of several GFLOP. Its features are as large as a real SSL model's and
carry the log-mel information, nothing more; its numbers are no statement about any SSL model.
"""

from __future__ import annotations

import torch

from trustser.encoders.base import Encoder, frame_mask
from trustser.encoders.frontends import MelSpectrogram, power_to_db
from trustser.encoders.registry import register

N_FFT, HOP, N_MELS = 400, 320, 80  # 25 ms windows every 20 ms: 50 Hz, as SSL encoders' frame rate
LAYERS, HIDDEN = 13, 768
SEED = 0


class SSLShapedEncoder(Encoder):
    name = "ssl_shaped"
    sample_rate = 16000
    num_layers = LAYERS
    hidden_size = HIDDEN
    differentiable = True

    def __init__(self):
        super().__init__()
        self.mel = MelSpectrogram(self.sample_rate, N_FFT, HOP, N_MELS)
        generator = torch.Generator().manual_seed(SEED)
        self.register_buffer("projections", torch.randn(LAYERS, N_MELS, HIDDEN, generator=generator) / N_MELS**0.5)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mel, frame_lengths = self.mel(waveforms, lengths)
        log_mel = (power_to_db(mel) + 50.0) / 50.0  # roughly unit scale, as SSL hidden states
        layers = torch.tanh(torch.einsum("bfm,lmh->blfh", log_mel, self.projections))
        return layers * frame_mask(frame_lengths, layers.shape[2])[:, None, :, None], frame_lengths

    def config(self) -> dict:
        return {"n_fft": N_FFT, "hop": HOP, "n_mels": N_MELS, "seed": SEED, "purpose": "test-only, SSL-sized output"}


@register("ssl_shaped", checked_as=["ssl_shaped"])
def create_ssl_shaped(argument: str | None) -> Encoder:
    if argument is not None:
        raise ValueError(f"ssl_shaped takes no argument, got {argument!r}")
    return SSLShapedEncoder()
