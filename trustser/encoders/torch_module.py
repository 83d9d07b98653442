"""Encoders from a team's own code: `--backbone torch:package.module:factory[:argument]`.

The factory returns an `Encoder`, used as it is, or a plain module keeping the encoder contract
(`module_encoder`); entry points of the group `trustser.encoders` go through `registry.create`.
"""

from __future__ import annotations

from trustser.encoders.base import Encoder
from trustser.encoders.module_encoder import as_encoder
from trustser.encoders.registry import register
from trustser.specs.team_code import build, import_factory


# checked as a plain nn.Module keeping the contract, as a team writes one
@register("torch", checked_as=["torch:trustser.testing.examples:plain_encoder"])
def torch_encoder(argument: str | None) -> Encoder:
    spec = f"torch:{argument or ''}"
    factory, arguments = import_factory(argument or "", spec=spec)
    return as_encoder(build(factory, *arguments, spec=spec), spec=spec)
