"""MFCCs with their deltas: the classic hand-crafted frame baseline, differentiable from the waveform."""

from __future__ import annotations

import torch

from trustser.encoders.base import Encoder, frame_mask
from trustser.encoders.frontends import MelSpectrogram, deltas, mfcc, power_to_db
from trustser.encoders.registry import register

N_FFT = 400  # 25 ms at 16 kHz
HOP = 160  # 10 ms
N_MELS = 40
DELTA_WIDTH = 9  # librosa's default


class MFCCEncoder(Encoder):
    """Three "layers" of 40-d frames: MFCC, Δ and ΔΔ (`librosa.feature.delta` order 1 and 2).

    All 40 coefficients of the 40 mel bands are kept: the DCT is then an orthogonal rotation of the
    log-mel spectrum, so nothing a probe could use (e.g. harmonic detail from pitch) is discarded.
    The log is 10·log10(max(S, 1e-10)) without librosa's top_db clipping (see `power_to_db`).
    """

    name = "mfcc"
    sample_rate = 16000
    num_layers = 3
    hidden_size = N_MELS
    differentiable = True

    def __init__(self):
        super().__init__()
        self.mel = MelSpectrogram(self.sample_rate, N_FFT, HOP, N_MELS)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mel, frame_lengths = self.mel(waveforms, lengths)
        cepstra = mfcc(power_to_db(mel), self.hidden_size)
        layers = torch.stack(
            [
                cepstra,
                deltas(cepstra, frame_lengths, DELTA_WIDTH, order=1),
                deltas(cepstra, frame_lengths, DELTA_WIDTH, order=2),
            ],
            dim=1,
        )
        return layers * frame_mask(frame_lengths, layers.shape[2])[:, None, :, None], frame_lengths

    def config(self) -> dict:
        return {
            "n_fft": N_FFT,
            "hop": HOP,
            "n_mels": N_MELS,
            "n_mfcc": self.hidden_size,
            "delta_width": DELTA_WIDTH,
            "log": "10*log10(max(S, 1e-10))",
            "padding": "constant",
        }


@register("mfcc", checked_as=["mfcc"])
def create_mfcc(argument: str | None) -> Encoder:
    if argument is not None:
        raise ValueError(f"mfcc takes no argument, got {argument!r}")
    return MFCCEncoder()
