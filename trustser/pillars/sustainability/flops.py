"""FLOPs of one forward pass, by `torch.utils.flop_counter.FlopCounterMode`, recurrent layers analytic.

FlopCounterMode counts matrix products and convolutions, a multiply-add as 2 FLOPs (a Linear layer
of I inputs and O outputs costs 2·I·O per row), and nothing for elementwise work (activations, bias
additions, gate products). On CPU it sees no matrix product inside `nn.LSTM` on a padded tensor
(torch 2.13 runs a fused kernel; 0 FLOPs measured), while it does see them for a PackedSequence and
for `nn.GRU` / `nn.RNN`. So for every `nn.LSTM`, `nn.GRU` and `nn.RNN` module we replace whatever
the counter recorded during that module's forward by the same convention, counted analytically:

    FLOPs = items · directions · Σ_layers 2 · G · H · (I_l + H)

- G gates: 4 for LSTM, 3 for GRU, 1 for a plain RNN; H = hidden_size;
- I_0 = input_size and I_l = H · directions for l > 0;
- items = (time step, sequence) pairs actually processed: sequence length × batch for a tensor
  (batch_first or not; an unbatched 2-D input is one sequence), `batch_sizes.sum()` for a
  PackedSequence (padding is not computed);
- bias additions and the gates' elementwise arithmetic are left out, as FlopCounterMode leaves
  out bias and elementwise work elsewhere. Where torch does count the recurrence (GRU, RNN, packed
  LSTM) its count equals this formula exactly.

LSTMs with `proj_size > 0` are rejected rather than miscounted.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence
from torch.utils.flop_counter import FlopCounterMode

_GATES = {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1}


def _gates(module: nn.RNNBase) -> int:
    for kind, gates in _GATES.items():
        if isinstance(module, kind):
            return gates
    raise TypeError(f"no FLOP formula for recurrent module {type(module).__name__}")


def _check_supported(module: nn.RNNBase) -> None:
    _gates(module)
    if getattr(module, "proj_size", 0) > 0:
        raise ValueError(
            f"{type(module).__name__} with proj_size={module.proj_size}: LSTM projections are not counted; "
            "remove the projection or extend trustser.pillars.sustainability.flops"
        )


def _items(sequence: torch.Tensor | PackedSequence) -> int:
    """(time step, sequence) pairs the recurrence runs over."""
    if isinstance(sequence, PackedSequence):
        return int(sequence.batch_sizes.sum())
    return int(sequence.shape[:-1].numel())  # (L, N, I), (N, L, I) or unbatched (L, I)


def recurrent_flops(module: nn.RNNBase, sequence: torch.Tensor | PackedSequence) -> int:
    """Matrix-product FLOPs of one forward pass of an LSTM / GRU / RNN over `sequence`."""
    _check_supported(module)
    directions = 2 if module.bidirectional else 1
    hidden = module.hidden_size
    gate_rows = _gates(module) * hidden
    per_item = sum(
        2 * gate_rows * ((module.input_size if layer == 0 else hidden * directions) + hidden)
        for layer in range(module.num_layers)
    )
    return _items(sequence) * directions * per_item


def count_flops(model: nn.Module, *inputs) -> int:
    """FLOPs of `model(*inputs)` (multiply-add = 2), recurrent layers by `recurrent_flops`."""
    counter = FlopCounterMode(display=False)
    recurrent = [m for m in model.modules() if isinstance(m, nn.RNNBase)]
    for module in recurrent:
        _check_supported(module)
    at_entry: list[int] = []
    corrections: list[int] = []

    def before(module, args, kwargs):
        at_entry.append(counter.get_total_flops())

    def after(module, args, kwargs, output):
        counted = counter.get_total_flops() - at_entry.pop()
        sequence = args[0] if args else kwargs["input"]
        corrections.append(recurrent_flops(module, sequence) - counted)

    handles = []
    try:
        for module in recurrent:
            handles.append(module.register_forward_pre_hook(before, with_kwargs=True))
            handles.append(module.register_forward_hook(after, with_kwargs=True))
        with counter:
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return counter.get_total_flops() + sum(corrections)
