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
    # a model run outside torch (an ONNX graph) holds its weights elsewhere and says how many (frozen ones)
    external = sum(getattr(module, "external_parameters", 0) for module in model.modules())
    return ParameterCount(
        total=sum(p.numel() for p in parameters) + external,
        trainable=sum(p.numel() for p in parameters if p.requires_grad),
    )


@dataclass(frozen=True)
class ModelSize:
    """Parameters of an SER model: the encoder's and the head's, and how many training updates."""

    encoder: ParameterCount
    head: ParameterCount
    total: int
    trainable: int  # updated when the audit trains the model: the head (the encoder stays frozen)


def model_size(encoder: nn.Module, head: nn.Module, encoder_frozen: bool = True) -> ModelSize:
    encoder_count, head_count = count_parameters(encoder), count_parameters(head)
    trainable = head_count.total + (0 if encoder_frozen else encoder_count.total)
    return ModelSize(encoder_count, head_count, encoder_count.total + head_count.total, trainable)
