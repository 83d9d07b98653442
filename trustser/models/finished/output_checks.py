"""What a `torch:` model's answer to a batch must be, checked on every batch it answers (docs/plugins.md,
"Your own model"): floating-point, finite logits `[batch, len(labels)]`; asked for them, as many hidden
states as the load check read, each floating-point, finite and `[batch, width]` with the width read then.

Any other answer, or an exception the model raises, is a `ModelOutputError` naming the rows at fault and
what was expected: an answer of the wrong width is never padded, a NaN never stored or counted as a
prediction. A helper module: it registers no format.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from trustser.errors import ModelOutputError

MIN_SECONDS_HINT = (
    "if it needs longer inputs, declare `min_seconds` on the model (docs/plugins.md, 'Your own model'): "
    "the audit then leaves the shorter utterances out and names them"
)


@dataclass(frozen=True)
class Declared:
    """What a model's answer must be, from its declarations and the load check."""

    name: str  # the model as messages name it, e.g. model:torch:team_model:build
    sample_rate: int
    num_labels: int
    hidden: bool  # called with output_hidden_states=True, so it answers (logits, hidden_states)
    widths: tuple[int, ...] | None = None  # of the hidden states; None until the load check reads them
    answered_seconds: float = 0.0  # the shortest input the load check saw answered (a refusal below: min_seconds?)

    def reading(self, states: tuple[torch.Tensor, ...]) -> "Declared":
        """These declarations with the widths of `states`, the hidden states of a checked answer."""
        return dataclasses.replace(self, widths=tuple(int(state.shape[1]) for state in states))


def checked_answer(
    model: nn.Module, waveforms: torch.Tensor, lengths: torch.Tensor, declared: Declared
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """The model's logits and hidden states for a batch; a `ModelOutputError` when they break `declared`
    or the model raises (a CUDA out-of-memory error goes through: extraction halves the batch and retries)."""
    seconds = (lengths.detach().double().cpu() / declared.sample_rate).tolist()
    try:
        output = _call(model, waveforms, lengths, declared.hidden)
    except torch.OutOfMemoryError:
        raise
    except Exception as error:  # the team's code may raise anything: the audit names it and the inputs
        raise _refusal(model, waveforms, lengths, declared, error, seconds) from None

    def fault(problem: str, rows: list[int] | None = None) -> ModelOutputError:
        rows = list(range(len(waveforms))) if rows is None else rows
        return ModelOutputError(
            declared.name, problem, rows=rows, batch_size=len(waveforms), seconds=[seconds[r] for r in rows]
        )

    logits, states = _parts(output, declared, fault)
    _check_tensor(logits, "logits", [len(waveforms), declared.num_labels], "len(labels)", fault)
    if declared.widths is not None and len(states) != len(declared.widths):
        raise fault(f"returned {len(states)} hidden states, expected {len(declared.widths)} as at load")
    for index, state in enumerate(states):
        width = declared.widths[index] if declared.widths is not None else None
        _check_tensor(state, f"hidden state {index}", [len(waveforms), width], "dim", fault)
    for what, tensor in (("logits", logits), *((f"hidden state {i}", s) for i, s in enumerate(states))):
        bad = (~torch.isfinite(tensor.detach()).reshape(len(tensor), -1).all(1)).nonzero().flatten().tolist()
        if bad:
            raise fault(f"returned NaN or infinite {what}, expected finite values", bad)
    return logits, states


def _call(model: nn.Module, waveforms: torch.Tensor, lengths: torch.Tensor, hidden: bool):
    return model(waveforms, lengths, output_hidden_states=True) if hidden else model(waveforms, lengths)


def _parts(output: object, declared: Declared, fault) -> tuple[object, tuple]:
    """(logits, hidden states) of an answer, as the model declared it answers."""
    if not declared.hidden:
        return output, ()
    if not isinstance(output, (tuple, list)) or len(output) != 2 or not isinstance(output[1], (tuple, list)):
        raise fault("must return (logits, hidden_states)")
    return output[0], tuple(output[1])


def _check_tensor(value: object, what: str, shape: list[int | None], width_name: str, fault) -> None:
    """`value` a floating-point tensor of `shape` (a None width: any)."""
    batch, width = shape
    expected = f"[batch={batch}, {width_name}{'' if width is None else f'={width}'}]"
    if not isinstance(value, torch.Tensor):
        raise fault(f"returned {what} as {type(value).__name__}, expected a tensor {expected}")
    matches = value.dim() == 2 and value.shape[0] == batch and (width is None or value.shape[1] == width)
    if not matches:
        # "logits (1, 4)" for logits, "hidden state 0 as (1, 1, 16000)" for a hidden state
        raise fault(f"returned {what}{' as' * (what != 'logits')} {tuple(value.shape)}, expected {expected}")
    if not value.is_floating_point():
        raise fault(f"returned {what} of dtype {value.dtype}, expected floating point")


def _refusal(
    model: nn.Module,
    waveforms: torch.Tensor,
    lengths: torch.Tensor,
    declared: Declared,
    error: Exception,
    seconds: list[float],
) -> ModelOutputError:
    """The model raised on a batch: which inputs it refuses (each row of a batch is tried alone; when every
    row alone is answered, the batch is at fault), with a hint at `min_seconds` when they are shorter than
    what the load check saw answered."""
    rows, first = list(range(len(waveforms))), error
    if len(waveforms) > 1:
        refused = []
        for row in rows:
            try:
                with torch.no_grad():
                    _call(model, waveforms[row : row + 1, : int(lengths[row])], lengths[row : row + 1], declared.hidden)
            except Exception as alone:  # noqa: BLE001 (what the model raises is its own)
                refused.append(row)
                first = alone if len(refused) == 1 else first
        rows = refused or rows
    lines = [line for line in str(first).splitlines() if line.strip()]
    text = f"{type(first).__name__}: {lines[0].strip()[:300] if lines else ''}".rstrip(": ")
    shortest = min(seconds[row] for row in rows)
    hint = ""
    if shortest < declared.answered_seconds:
        hint = f"it answered {declared.answered_seconds:g} s in the load check; {MIN_SECONDS_HINT}"
    return ModelOutputError(
        declared.name,
        f"raised {text}",
        rows=rows,
        batch_size=len(waveforms),
        seconds=[seconds[r] for r in rows],
        hint=hint,
    )
