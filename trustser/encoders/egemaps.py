"""eGeMAPS v02 functionals from openSMILE: the 88 expert features of affective computing, one vector per utterance."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from trustser.encoders.base import Encoder
from trustser.encoders.registry import register

FEATURE_SET = "eGeMAPSv02"
FEATURE_LEVEL = "Functionals"


class EGeMAPSEncoder(Encoder):
    """One layer, one frame per utterance: the 88 eGeMAPS functionals of its valid samples."""

    name = "egemaps"
    min_seconds = 0.1  # openSMILE's functionals are NaN on 0.05 s of noise, finite from 0.1 s (measured)
    sample_rate = 16000
    num_layers = 1
    hidden_size = 88
    differentiable = False
    non_differentiable_reason = "eGeMAPS functionals are computed by openSMILE's C++ code outside torch"

    def __init__(self):
        super().__init__()
        # imported here, not at module level: encoder discovery imports every encoder module, and
        # openSMILE loads a native library that only this encoder needs
        import opensmile

        self._opensmile_version = opensmile.__version__
        self._smile = opensmile.Smile(
            feature_set=getattr(opensmile.FeatureSet, FEATURE_SET),
            feature_level=getattr(opensmile.FeatureLevel, FEATURE_LEVEL),
        )

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        signals = waveforms.detach().cpu().numpy()
        valid = [signal[:length] for signal, length in zip(signals, lengths.tolist())]
        # openSMILE runs outside the GIL, one independent instance per call: the utterances of a batch go
        # through on torch's thread count at once (bit-identical rows; 2.0x on 2 cores, measured)
        threads = min(torch.get_num_threads(), len(valid))
        if threads > 1:
            with ThreadPoolExecutor(threads, thread_name_prefix="opensmile") as pool:
                rows = list(pool.map(self._functionals, valid))
        else:
            rows = [self._functionals(signal) for signal in valid]
        features = torch.as_tensor(np.stack(rows), dtype=torch.float32, device=waveforms.device)
        frame_lengths = torch.ones(len(rows), dtype=torch.long, device=waveforms.device)
        return features[:, None, None, :], frame_lengths

    def _functionals(self, signal: np.ndarray) -> np.ndarray:
        return self._smile.process_signal(signal, self.sample_rate).to_numpy()[0]

    def config(self) -> dict:
        return {"opensmile": self._opensmile_version, "feature_set": FEATURE_SET, "feature_level": FEATURE_LEVEL}


@register("egemaps", checked_as=["egemaps"])
def create_egemaps(argument: str | None) -> Encoder:
    if argument is not None:
        raise ValueError(f"egemaps takes no argument, got {argument!r}")
    return EGeMAPSEncoder()
