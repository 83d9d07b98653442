"""Spectral frontends in torch, so gradients reach the waveform, numerically matching librosa 0.11.

Layout is time-major like the `Encoder` contract: spectrograms are [..., frames, bins]. With
`center=True` an utterance of `n` samples has `1 + n // hop` frames. Padding is "constant" (zeros),
librosa 0.11's default: a short utterance in a zero-padded batch then sees exactly the samples it
sees alone, so batched and one-at-a-time extraction agree.
"""

from __future__ import annotations

import numpy as np
import scipy.signal
import torch
from torch import nn

from trustser.encoders.base import frame_mask, sample_mask


def num_frames(lengths: torch.Tensor, hop: int) -> torch.Tensor:
    """Frames of centred STFTs of utterances with `lengths` samples."""
    return 1 + torch.div(lengths, hop, rounding_mode="floor")


def stft_power(
    wave: torch.Tensor,
    n_fft: int,
    hop: int,
    win_length: int | None = None,
    window: str = "hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> torch.Tensor:
    """|STFT|² as `librosa.stft(...)` followed by `np.abs(...)**2`, shaped [..., frames, n_fft // 2 + 1]."""
    win_length = win_length or n_fft
    # scipy's periodic window is what librosa.filters.get_window returns for a window name
    taper = torch.from_numpy(scipy.signal.get_window(window, win_length, fftbins=True)).to(wave)
    batch_shape = wave.shape[:-1]
    spectrum = torch.stft(
        wave.reshape(-1, wave.shape[-1]),
        n_fft,
        hop_length=hop,
        win_length=win_length,
        window=taper,
        center=center,
        pad_mode=pad_mode,
        return_complex=True,
    )
    # real² + imag² rather than abs()²: abs has an undefined gradient at exactly zero
    power = torch.view_as_real(spectrum).pow(2).sum(-1)
    return power.transpose(-1, -2).reshape(*batch_shape, power.shape[-1], power.shape[-2])


def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None) -> torch.Tensor:
    """librosa's Slaney-normalised mel filters, [n_mels, n_fft // 2 + 1].

    The filters do not depend on the waveform, so borrowing them from librosa keeps differentiability.
    """
    import librosa  # imported here: encoder discovery imports this module and librosa is slow to load

    return torch.from_numpy(librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax))


def power_to_db(power: torch.Tensor, amin: float = 1e-10) -> torch.Tensor:
    """10·log10(max(S, amin)): `librosa.power_to_db(S, ref=1.0, top_db=None)`.

    No top_db clipping: it ties every frame to the utterance's loudest one, so a frame's value would
    depend on the rest of the utterance (and on batch padding if applied batch-wide).
    """
    return 10.0 * torch.log10(power.clamp_min(amin))


def log_mel(power_spectrogram: torch.Tensor, filterbank: torch.Tensor) -> torch.Tensor:
    """Log-mel in dB from a power spectrogram [..., frames, bins] and filters [n_mels, bins]."""
    return power_to_db(power_spectrogram @ filterbank.T)


def dct_ii_ortho(n: int) -> torch.Tensor:
    """Matrix D with D @ x == scipy.fft.dct(x, type=2, norm="ortho"), [n, n]."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.sqrt(2.0 / n) * np.cos(np.pi * k * (2 * i + 1) / (2 * n))
    matrix[0] /= np.sqrt(2.0)
    return torch.from_numpy(matrix.astype(np.float32))


def mfcc(log_mel_db: torch.Tensor, n_mfcc: int) -> torch.Tensor:
    """`librosa.feature.mfcc` (DCT-II, ortho, no lifter) of a dB log-mel [..., frames, n_mels]."""
    return log_mel_db @ dct_ii_ortho(log_mel_db.shape[-1])[:n_mfcc].T.to(log_mel_db)


def deltas(
    features: torch.Tensor, frame_lengths: torch.Tensor | None = None, width: int = 9, order: int = 1
) -> torch.Tensor:
    """`librosa.feature.delta(..., mode="interp")` along frames of [batch, frames, dims], per utterance.

    librosa's delta is a Savitzky-Golay filter with polyorder == deriv == order. In "interp" mode the
    frames within width // 2 of an edge get the derivative of the polynomial fitted to the first
    (last) `width` frames; that derivative is constant, so it equals the filter output centred on
    frame width // 2 (length - 1 - width // 2). Clamping the centre is therefore exact, and it only
    reads the utterance's own valid frames, so padding cannot leak in. Utterances shorter than
    `width` (which librosa rejects) get edge-replicated frames instead (savgol mode "nearest").
    Frames beyond `frame_lengths` come out zero.
    """
    batch, frames, dims = features.shape
    if frame_lengths is None:
        frame_lengths = torch.full((batch,), frames, dtype=torch.long, device=features.device)
    half = width // 2
    coefficients = torch.from_numpy(scipy.signal.savgol_coeffs(width, order, deriv=order, use="dot"))
    last = (frame_lengths - 1)[:, None]
    time = torch.arange(frames, device=features.device)[None, :]
    clamped = torch.minimum(time.clamp_min(half), last - half)
    centre = torch.where(frame_lengths[:, None] >= width, clamped, time)
    offsets = torch.arange(-half, half + 1, device=features.device)
    index = torch.minimum((centre[..., None] + offsets).clamp_min(0), last[..., None])
    windows = features.gather(1, index.reshape(batch, -1, 1).expand(-1, -1, dims))
    filtered = windows.reshape(batch, frames, width, dims).transpose(2, 3) @ coefficients.to(features)
    return filtered * frame_mask(frame_lengths, frames)[..., None]


class MelSpectrogram(nn.Module):
    """Power mel spectrogram of a zero-padded batch: `librosa.feature.melspectrogram` per utterance."""

    def __init__(self, sample_rate: int, n_fft: int, hop: int, n_mels: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("filterbank", mel_filterbank(sample_rate, n_fft, n_mels))

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[batch, samples] -> ([batch, frames, n_mels] zero beyond each frame length, frame_lengths)."""
        # zero the padding ourselves so its content can neither change valid frames nor get a gradient
        waveforms = waveforms * sample_mask(lengths, waveforms.shape[-1])
        mel = stft_power(waveforms, self.n_fft, self.hop) @ self.filterbank.T
        frame_lengths = num_frames(lengths, self.hop)
        return mel * frame_mask(frame_lengths, mel.shape[1])[..., None], frame_lengths
