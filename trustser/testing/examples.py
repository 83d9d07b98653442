"""Tiny team code the `torch:` registrations are contract-checked with: what a team's module would hold.

`torch:trustser.testing.examples:plain_encoder` is an encoder written as a plain `nn.Module` (no `Encoder`
subclass, `--backbone torch:...`); `torch:trustser.testing.examples:tiny_model` a finished SER model
keeping the `--model torch:...` protocol (docs/plugins.md, "Your own model"), and `tiny_attribute_model`
one declaring `attributes` (a dimensional audit's model). Both are torch only and
deterministic (the same weights on every build, the global generator untouched).
"""

from __future__ import annotations

import torch
from torch import nn

WINDOW, HOP = 400, 160  # 25 ms frames every 10 ms at 16 kHz


def _valid_frames(lengths: torch.Tensor, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    frame_lengths = (lengths - WINDOW) // HOP + 1  # the frames that hold no padding
    return frame_lengths, torch.arange(frames, device=lengths.device)[None, :] < frame_lengths[:, None]


class PlainFrameEncoder(nn.Module):
    """Two layers of 6-d frames: a fixed projection of each 25 ms window, then its tanh."""

    sample_rate = 16000
    num_layers = 2
    hidden_size = 6
    min_seconds = WINDOW / 16000

    def __init__(self):
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(0)
            self.projection = nn.Linear(WINDOW, self.hidden_size)

    def forward(self, waveforms, lengths):
        frames = self.projection(waveforms.unfold(1, WINDOW, HOP))
        frame_lengths, valid = _valid_frames(lengths, frames.shape[1])
        layers = torch.stack([frames, torch.tanh(frames)], dim=1) * valid[:, None, :, None]
        return layers, frame_lengths


class TinySER(nn.Module):
    """Framed waveform -> a per-frame layer -> mean over valid frames -> four logits."""

    sample_rate = 16000
    labels = ["neu", "hap", "sad", "ang"]
    min_seconds = WINDOW / 16000

    def __init__(self):
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(0)
            self.frame_layer = nn.Sequential(nn.Linear(WINDOW, 8), nn.Tanh())
            self.classifier = nn.Linear(8, len(self.labels))

    def forward(self, waveforms, lengths, output_hidden_states=False):
        frames = self.frame_layer(waveforms.unfold(1, WINDOW, HOP))
        frame_lengths, valid = _valid_frames(lengths, frames.shape[1])
        pooled = (frames * valid[..., None]).sum(1) / frame_lengths[:, None]
        logits = self.classifier(pooled)
        return (logits, (pooled,)) if output_hidden_states else logits


class TinyAttributeSER(TinySER):
    """TinySER's body predicting attributes instead: three sigmoid outputs, normalised arousal, dominance, valence."""

    labels = None
    attributes = ("arousal", "dominance", "valence")

    def __init__(self):
        nn.Module.__init__(self)  # TinySER's own sizes its classifier by `labels`
        with torch.random.fork_rng():
            torch.manual_seed(0)
            self.frame_layer = nn.Sequential(nn.Linear(WINDOW, 8), nn.Tanh())
            self.classifier = nn.Linear(8, len(self.attributes))

    def forward(self, waveforms, lengths, output_hidden_states=False):
        answer = super().forward(waveforms, lengths, output_hidden_states)
        if output_hidden_states:
            return torch.sigmoid(answer[0]), answer[1]
        return torch.sigmoid(answer)


def plain_encoder() -> PlainFrameEncoder:
    return PlainFrameEncoder()


def tiny_model() -> TinySER:
    return TinySER()


def tiny_attribute_model() -> TinyAttributeSER:
    return TinyAttributeSER()
