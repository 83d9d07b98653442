"""A plain `nn.Module` that keeps the encoder contract without subclassing `Encoder`, given its interface.

Such a module has positive int attributes `sample_rate`, `num_layers` and `hidden_size`, optionally
`differentiable`, `non_differentiable_reason`, `min_seconds` and `trained_on` (the datasets its weights
were trained on), and `forward(waveforms, lengths)`
returning `(layers [batch, num_layers, frames, hidden_size], frame_lengths [batch])`. Team factories
(`torch:` specs, entry points) may return one; `ModuleEncoder`'s fingerprint covers its weights and
its source file.
"""

from __future__ import annotations

from torch import nn

from trustser.encoders.base import Encoder, dataset_names
from trustser.specs.team_code import source_digest

REQUIRED = ("sample_rate", "num_layers", "hidden_size")
OPTIONAL = ("differentiable", "non_differentiable_reason", "min_seconds", "trained_on")


def positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class ModuleEncoder(Encoder):
    """A plain module keeping the encoder contract, given the `Encoder` interface."""

    def __init__(self, module: nn.Module, name: str):
        super().__init__()
        self.module = module
        self.name = name
        for attribute in REQUIRED + OPTIONAL:
            if hasattr(module, attribute):
                setattr(self, attribute, getattr(module, attribute))
        self.trained_on = dataset_names(self.trained_on, name)
        self.source = source_digest(module)

    def forward(self, waveforms, lengths):
        return self.module(waveforms, lengths)

    def config(self) -> dict:
        return {"module": f"{type(self.module).__module__}.{type(self.module).__qualname__}", "source": self.source}


def as_encoder(built: object, *, spec: str, origin: str = "") -> Encoder:
    """What a factory returned, as an `Encoder` named `spec`; ValueError naming `spec` (and `origin`, where the
    factory was declared) and what is missing."""
    if isinstance(built, Encoder):
        return built
    where = f"{spec}{origin}"
    if not isinstance(built, nn.Module):
        raise ValueError(f"{where}: the factory returned {type(built).__name__}, not a torch.nn.Module")
    missing = [attribute for attribute in REQUIRED if not positive_int(getattr(built, attribute, None))]
    if missing:
        raise ValueError(
            f"{where}: {type(built).__name__} lacks the encoder attribute(s) {', '.join(missing)} "
            "(positive ints; docs/plugins.md, 'Your own encoder')"
        )
    return ModuleEncoder(built, spec).eval()
