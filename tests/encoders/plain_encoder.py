"""A team's encoder written as a plain `nn.Module` (no `Encoder` subclass), for `--backbone torch:` tests.

`torch:tests.encoders.plain_encoder:build` builds it; `seed` changes its weights.
"""

import torch
from torch import nn

WINDOW, HOP = 400, 160


class FramePowers(nn.Module):
    sample_rate = 16000
    num_layers = 2
    hidden_size = 6
    min_seconds = WINDOW / 16000

    def __init__(self, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng():  # the same weights on every build, without touching the global generator
            torch.manual_seed(seed)
            self.projection = nn.Linear(WINDOW, self.hidden_size)

    def forward(self, waveforms, lengths):
        frame_lengths = (lengths - WINDOW) // HOP + 1
        frames = self.projection(waveforms.unfold(1, WINDOW, HOP))
        valid = torch.arange(frames.shape[1], device=lengths.device)[None, :] < frame_lengths[:, None]
        layers = torch.stack([frames, torch.tanh(frames)], dim=1) * valid[:, None, :, None]
        return layers, frame_lengths


def build(seed: str | None = None) -> FramePowers:
    return FramePowers(int(seed or 0))
