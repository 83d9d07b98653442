"""Model size: how many parameters a model holds and how many of them training updates."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class ParameterCount:
    total: int  # every distinct parameter tensor's elements (shared tensors counted once)
    trainable: int  # those with requires_grad


def count_parameters(model: nn.Module) -> ParameterCount:
    """Parameter elements of `model`; buffers (e.g. batch-norm statistics) are not parameters."""
    parameters = list(model.parameters())  # deduplicated: a tied weight appears once
    return ParameterCount(
        total=sum(p.numel() for p in parameters),
        trainable=sum(p.numel() for p in parameters if p.requires_grad),
    )
