"""Resemblyzer 0.1.4's pretrained GE2E speaker encoder, re-expressed in torch to expose every layer.

Resemblyzer runs a 3-layer LSTM (40 -> 256) over 1.6 s windows of a power (not log) mel
spectrogram and keeps the last frame's relu(linear(·)), L2-normalised. Here the LSTM runs over the
whole utterance and every frame of every layer is returned: layers 1-3 are the LSTM layers' outputs,
layer 4 is relu(linear(layer 3)) L2-normalised per frame. `utterance_embedding` reproduces
`VoiceEncoder.embed_utterance` exactly.

Resemblyzer's `preprocess_wav` also trims long silences with webrtcvad; that step is a hard,
non-differentiable decision made outside torch, so it is left out (the synthetic corpus has little
silence). Volume normalisation (to -30 dBFS, increase only) is kept, in torch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from trustser.encoders.base import Encoder, frame_mask, sample_mask
from trustser.encoders.frontends import MelSpectrogram
from trustser.encoders.registry import register

N_FFT = 400  # 25 ms at 16 kHz
HOP = 160  # 10 ms
N_MELS = 40
HIDDEN = 256
TARGET_DBFS = -30.0
PARTIAL_FRAMES = 160  # 1.6 s windows of embed_utterance
PARTIAL_RATE = 1.3  # windows per second
MIN_COVERAGE = 0.75  # a last, zero-padded window is kept if the utterance covers this much of it


def resemblyzer_weights() -> Path:
    """`pretrained.pt` shipped inside the installed resemblyzer package (found without importing it,
    which would pull in webrtcvad)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("resemblyzer is not installed; it ships the GE2E weights")
    return Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"


def normalize_volume(waveforms: torch.Tensor, lengths: torch.Tensor, target_dbfs: float = TARGET_DBFS) -> torch.Tensor:
    """`resemblyzer.audio.normalize_volume(wav, -30, increase_only=True)` per utterance, on valid samples only.

    The mean square is floored at 1e-20 (-200 dBFS) so silence gets a finite gain and gradient.
    """
    mask = sample_mask(lengths, waveforms.shape[-1])
    mean_square = (waveforms.pow(2) * mask).sum(-1) / lengths.clamp_min(1)
    gain = (10 ** (target_dbfs / 20) / mean_square.clamp_min(1e-20).sqrt()).clamp_min(1.0)
    return waveforms * mask * gain[:, None]


def partial_starts(n_samples: int) -> list[int]:
    """First mel frame of each 1.6 s window `VoiceEncoder.compute_partial_slices` cuts `n_samples` into."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    frame_step = int(np.round(16000 / PARTIAL_RATE / HOP))
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + frame_step + 1), frame_step))
    coverage = (n_samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts


class GE2EEncoder(Encoder):
    name = "ge2e"
    sample_rate = 16000
    num_layers = 4
    hidden_size = HIDDEN
    differentiable = True

    def __init__(self, weights: Path | None = None):
        super().__init__()
        self.mel = MelSpectrogram(self.sample_rate, N_FFT, HOP, N_MELS)
        # three single-layer LSTMs, not one 3-layer nn.LSTM, which only returns its last layer's outputs
        self.lstms = nn.ModuleList(nn.LSTM(size, HIDDEN, batch_first=True) for size in (N_MELS, HIDDEN, HIDDEN))
        self.linear = nn.Linear(HIDDEN, HIDDEN)
        self._load(weights or resemblyzer_weights())

    def _load(self, path: Path) -> None:
        state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
        for layer, lstm in enumerate(self.lstms):
            lstm.load_state_dict(
                {
                    f"{name}_l0": state[f"lstm.{name}_l{layer}"]
                    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                }
            )
        self.linear.load_state_dict({"weight": state["linear.weight"], "bias": state["linear.bias"]})

    def _layers(self, mel: torch.Tensor, frame_lengths: torch.Tensor) -> list[torch.Tensor]:
        """Per-frame outputs of the four layers for mel [batch, frames, 40]; packing keeps padding out."""
        frames = mel.shape[1]
        packed = pack_padded_sequence(mel, frame_lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs = []
        for lstm in self.lstms:
            packed, _ = lstm(packed)
            outputs.append(pad_packed_sequence(packed, batch_first=True, total_length=frames)[0])
        outputs.append(F.normalize(F.relu(self.linear(outputs[-1])), dim=-1))
        return outputs

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mel, frame_lengths = self.mel(normalize_volume(waveforms, lengths), lengths)
        layers = torch.stack(self._layers(mel, frame_lengths), dim=1)
        return layers * frame_mask(frame_lengths, layers.shape[2])[:, None, :, None], frame_lengths

    @torch.no_grad()
    def utterance_embedding(self, wave: np.ndarray) -> np.ndarray:
        """`VoiceEncoder.embed_utterance(wave)` on an already preprocessed 16 kHz wave: the
        L2-normalised mean of the last-frame embeddings of 1.6 s windows, 1.3 windows per second."""
        starts = partial_starts(len(wave))
        padded_length = max(len(wave), (starts[-1] + PARTIAL_FRAMES) * HOP)
        padded = torch.zeros(1, padded_length)
        padded[0, : len(wave)] = torch.as_tensor(wave, dtype=torch.float32)
        mel, _ = self.mel(padded, torch.tensor([padded_length]))
        windows = torch.stack([mel[0, start : start + PARTIAL_FRAMES] for start in starts])
        window_lengths = torch.full((len(starts),), PARTIAL_FRAMES)
        partial_embeddings = self._layers(windows, window_lengths)[-1][:, -1]
        return F.normalize(partial_embeddings.mean(0), dim=0).numpy()

    def config(self) -> dict:
        return {
            "n_fft": N_FFT,
            "hop": HOP,
            "n_mels": N_MELS,
            "mel": "power",
            "volume_dbfs": TARGET_DBFS,
            "volume": "increase_only",
            "vad": False,
            "padding": "constant",
        }


# The pretrained GE2E model (Resemblyzer shares it with Real-Time-Voice-Cloning) was trained on the training
# sets of LibriSpeech, VoxCeleb1 and VoxCeleb2 (its author, CorentinJ/Real-Time-Voice-Cloning issue 1032)
@register("ge2e", checked_as=["ge2e"], trained_on=("librispeech", "voxceleb1", "voxceleb2"))
def create_ge2e(argument: str | None) -> Encoder:
    """`ge2e` for Resemblyzer's pretrained weights, `ge2e:/path/to/model.pt` for a compatible checkpoint."""
    return GE2EEncoder(Path(argument) if argument else None)
