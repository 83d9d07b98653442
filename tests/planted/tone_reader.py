"""A finished model of the `tones` world (tests/planted/tones.py) whose posteriors are known by construction.

`--model torch:tests.planted.tone_reader:build[:FEMALE_SCALE]`. It hears the emotion tone (the loudest of
the four emotion frequencies) and answers what a calibrated model answers on `tones:mislabelled=20`, where
the emotion it hears is the label four times in five: posterior CONFIDENCE on that emotion, the rest shared
by the other three. On a female voice (`gender_cue=1`: the female tone louder than the male one) its logits
are multiplied by FEMALE_SCALE (default 1): above 1 it is overconfident for women only, below 1
underconfident, and either way it predicts the same emotion for everyone (a positive factor keeps the argmax).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from tests.planted.tones import EMOTION_HZ, GENDER_HZ, SAMPLE_RATE

CONFIDENCE = 0.8  # 1 − mislabelled / 100 for `tones:mislabelled=20`
SHARPNESS = 5.0  # per unit of log power: tones tens of dB above the noise floor decide at once


class ToneReader(nn.Module):
    sample_rate = SAMPLE_RATE
    labels = list(EMOTION_HZ)

    def __init__(self, female_scale: float):
        super().__init__()
        self.female_scale = female_scale
        self.register_buffer("emotion_hz", torch.tensor(list(EMOTION_HZ.values())))
        self.register_buffer("gender_hz", torch.tensor([GENDER_HZ["female"], GENDER_HZ["male"]]))

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        heard = torch.softmax(SHARPNESS * self._log_power(waveforms, lengths, self.emotion_hz), dim=1)
        rest = (1 - CONFIDENCE) / (len(self.labels) - 1)
        logits = torch.log(CONFIDENCE * heard + rest * (1 - heard))
        female, male = self._log_power(waveforms, lengths, self.gender_hz).unbind(1)
        is_female = torch.sigmoid(SHARPNESS * (female - male))
        return logits * (1 + (self.female_scale - 1) * is_female)[:, None]

    @staticmethod
    def _log_power(waveforms: torch.Tensor, lengths: torch.Tensor, hz: torch.Tensor) -> torch.Tensor:
        """[batch, frequencies]: log power of each frequency's DFT over the utterance's own samples."""
        time = torch.arange(waveforms.shape[1], device=waveforms.device) / SAMPLE_RATE
        valid = (torch.arange(waveforms.shape[1], device=waveforms.device)[None, :] < lengths[:, None]).float()
        phase = 2 * math.pi * hz[:, None] * time[None, :]  # [frequencies, samples]
        signal = waveforms * valid
        power = (signal @ torch.cos(phase).T) ** 2 + (signal @ torch.sin(phase).T) ** 2
        return torch.log(power + 1e-6)


def build(female_scale: str = "1") -> ToneReader:
    return ToneReader(float(female_scale))
