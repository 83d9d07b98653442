"""Whisper's input side in torch: 30 s windows and the log-mel spectrogram, so gradients reach the waveform.

`WhisperLogMel` reproduces `WhisperFeatureExtractor._np_extract_fbank_features`: a centred STFT
(n_fft 400, hop 160, periodic Hann, reflect padding), |X|², the checkpoint's Slaney mel filters,
log10 of max(mel, 1e-10), the last frame dropped, values floored at the utterance's maximum - 8
(80 dB of dynamic range), then (x + 4) / 4. `tests/encoders/test_huggingface_encoders.py` checks it
against the numpy path.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LOG_FLOOR = 1e-10
DYNAMIC_RANGE = 8.0  # log10 units, i.e. 80 dB


class WhisperLogMel(nn.Module):
    """Log-mel input features [batch, n_mels, frames] of exactly-one-window waveforms [batch, window_samples]."""

    def __init__(self, settings: dict | None = None, n_mels: int = 80):
        super().__init__()
        from transformers import WhisperFeatureExtractor

        extractor = WhisperFeatureExtractor.from_dict(settings or {"feature_size": n_mels})
        self.n_fft = extractor.n_fft
        self.hop = extractor.hop_length
        self.sample_rate = extractor.sampling_rate
        self.window_samples = extractor.n_samples  # chunk_length seconds, 30 s for every released Whisper
        # not persistent: they follow from the settings, and the weights fingerprint should not change
        self.register_buffer("mel_filters", torch.from_numpy(extractor.mel_filters.T).float(), persistent=False)
        self.register_buffer("taper", torch.hann_window(self.n_fft, periodic=True), persistent=False)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        spectrum = torch.stft(
            windows, self.n_fft, self.hop, window=self.taper, center=True, pad_mode="reflect", return_complex=True
        )
        # real² + imag² rather than abs()²: abs has an undefined gradient at exactly zero
        power = torch.view_as_real(spectrum).pow(2).sum(-1)[..., :-1]
        log_spec = (self.mel_filters @ power).clamp_min(LOG_FLOOR).log10()
        peak = log_spec.amax(dim=(-2, -1), keepdim=True)
        return (torch.maximum(log_spec, peak - DYNAMIC_RANGE) + 4.0) / 4.0

    def frame_count(self, samples: torch.Tensor) -> torch.Tensor:
        """Mel frames covering `samples` real samples: those whose centre lies on a real sample,
        ceil(samples / hop), as in the attention mask `WhisperFeatureExtractor` returns."""
        return torch.div(samples + self.hop - 1, self.hop, rounding_mode="floor")


def split_into_windows(
    waveforms: torch.Tensor, lengths: torch.Tensor, window_samples: int, first_only: bool = False
) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Cut each utterance into consecutive windows of `window_samples`, the last one zero-padded.

    Returns the windows [n_windows, window_samples], the real samples in each, and how many windows
    each utterance got (in order). `first_only` keeps just the first window, truncating longer
    utterances as `WhisperFeatureExtractor(truncation=True)` does.
    """
    windows, window_lengths, counts = [], [], []
    for wave, length in zip(waveforms, lengths.tolist()):
        count = 1 if first_only else max(1, math.ceil(length / window_samples))
        for start in range(0, count * window_samples, window_samples):
            segment = wave[start : min(length, start + window_samples)]
            windows.append(F.pad(segment, (0, window_samples - segment.shape[0])))
            window_lengths.append(segment.shape[0])
        counts.append(count)
    return torch.stack(windows), torch.tensor(window_lengths, device=waveforms.device), counts


def join_windows(
    layers: torch.Tensor, frame_lengths: torch.Tensor, counts: list[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenate each utterance's windows' valid frames: [n_windows, L, frames, H] -> [batch, L, frames', H]."""
    pieces = [layers[w, :, :n] for w, n in enumerate(frame_lengths.tolist())]
    per_utterance, start = [], 0
    for count in counts:
        per_utterance.append(torch.cat(pieces[start : start + count], dim=1))
        start += count
    utterance_frames = torch.tensor([p.shape[1] for p in per_utterance], device=layers.device)
    longest = int(utterance_frames.max())
    padded = [F.pad(p, (0, 0, 0, longest - p.shape[1])) for p in per_utterance]
    return torch.stack(padded), utterance_frames
