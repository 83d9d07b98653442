"""The encoder contract as rules: what the audit relies on from every `Encoder`.

Encoders are checked in eval mode (as the audit runs them), on the device of their weights, with
deterministic harmonic-plus-noise waveforms padded as `pad_waveforms` pads them.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
from typing import Callable, Iterator

import numpy as np
import torch

from trustser.corpora.audio import MIN_SECONDS
from trustser.encoders.base import Encoder, frame_mask, pad_waveforms, sample_mask
from trustser.testing.rules import Check, is_count, is_nonempty_text, require, run_rule

PROBE_SECONDS = (1.0, 0.37, 0.6133)
"""Probe utterances, in seconds beyond the shortest input; not multiples of common hops, so rounding shows."""
GRADIENT_COVERAGE = 0.9
"""Share of an utterance's samples that must receive a gradient: a convolutional front end leaves a
tail shorter than one window outside every frame, but a waveform attack needs the rest."""


def _voiced(samples: int, sample_rate: int, f0: float, seed: int) -> torch.Tensor:
    """A harmonic tone with a little noise, at about -25 dBFS: pitch trackers and openSMILE find a voice."""
    t = np.arange(samples) / sample_rate
    tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))
    noise = np.random.default_rng(seed).standard_normal(samples)
    return torch.from_numpy((0.03 * tone + 0.003 * noise).astype(np.float32))


def _device(encoder: Encoder) -> torch.device:
    tensor = next(itertools.chain(encoder.parameters(), encoder.buffers()), None)
    return tensor.device if tensor is not None else torch.device("cpu")


def _shortest_samples(encoder: Encoder) -> int:
    """The shortest input the audit can hand the encoder: corpora drop audio under `MIN_SECONDS`, and
    under the encoder's own `min_seconds`."""
    seconds = max(float(encoder.min_seconds), MIN_SECONDS)
    return math.ceil(seconds * encoder.sample_rate - 1e-9)  # no extra sample from float error, e.g. 0.1 * 16000


def _batch(encoder: Encoder, samples: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    waves = [_voiced(n, encoder.sample_rate, 110 + 40 * i, seed=i) for i, n in enumerate(samples)]
    waves, lengths = pad_waveforms(waves)
    return waves.to(_device(encoder)), lengths.to(_device(encoder))


def _probe(encoder: Encoder) -> tuple[torch.Tensor, torch.Tensor]:
    shortest = _shortest_samples(encoder)
    return _batch(encoder, [shortest + round(s * encoder.sample_rate) for s in PROBE_SECONDS])


def _forward(encoder: Encoder, waves: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        output = encoder(waves, lengths)
    require(
        isinstance(output, tuple) and len(output) == 2 and all(isinstance(t, torch.Tensor) for t in output),
        f"forward must return a tuple (layers, frame_lengths) of tensors, got {type(output).__name__}",
    )
    return output


def _alone(encoder: Encoder, waves: torch.Tensor, lengths: torch.Tensor, row: int):
    """The output for utterance `row` run by itself, unpadded."""
    return _forward(encoder, waves[row : row + 1, : int(lengths[row])], lengths[row : row + 1])


def _require_close(actual: torch.Tensor, reference: torch.Tensor, tolerance: float, what: str) -> None:
    """max |actual - reference| <= tolerance x max |reference| (relative to the reference's scale)."""
    require(actual.shape == reference.shape, f"{what}: shape {tuple(actual.shape)} vs {tuple(reference.shape)}")
    difference = float((actual - reference).abs().max()) if actual.numel() else 0.0
    scale = float(reference.abs().max()) if reference.numel() else 0.0
    require(
        difference <= tolerance * scale,
        f"{what}: max |difference| {difference:.3g} exceeds {tolerance:g} x max |value| {scale:.3g}",
    )


def _require_layout(encoder: Encoder, layers: torch.Tensor, frame_lengths: torch.Tensor, batch: int) -> None:
    expected = f"[batch={batch}, num_layers={encoder.num_layers}, frames, hidden_size={encoder.hidden_size}]"
    shape = tuple(layers.shape)
    require(
        len(shape) == 4 and (shape[0], shape[1], shape[3]) == (batch, encoder.num_layers, encoder.hidden_size),
        f"layers have shape {shape}, expected {expected}",
    )
    require(layers.dtype == torch.float32, f"layers are {layers.dtype}, expected torch.float32")
    dtype = frame_lengths.dtype
    integer = not (dtype.is_floating_point or dtype.is_complex or dtype == torch.bool)
    require(
        integer and tuple(frame_lengths.shape) == (batch,),
        f"frame_lengths must be an integer tensor of shape ({batch},), got {frame_lengths.dtype} "
        f"of shape {tuple(frame_lengths.shape)}",
    )
    counts = frame_lengths.tolist()
    require(min(counts) >= 1, f"every utterance needs at least one frame, got frame_lengths {counts}")
    require(
        max(counts) == shape[2],
        f"the frame axis has {shape[2]} frames but the longest utterance has {max(counts)}: it must be "
        "exactly as long as the longest frame length",
    )


def _declared_attributes(encoder: Encoder, tolerance: float) -> None:
    require(
        isinstance(encoder, Encoder),
        f"it is a {type(encoder).__name__}, not a trustser.encoders.Encoder (a torch.nn.Module)",
    )
    require(is_nonempty_text(encoder.name), f"name must be a non-empty string, got {encoder.name!r}")
    for attribute in ("sample_rate", "num_layers", "hidden_size"):
        value = getattr(encoder, attribute)
        require(is_count(value), f"{attribute} must be a positive int, got {value!r}")
    require(isinstance(encoder.differentiable, bool), f"differentiable must be a bool, got {encoder.differentiable!r}")
    seconds = encoder.min_seconds
    require(
        isinstance(seconds, numbers.Real) and not isinstance(seconds, bool) and math.isfinite(seconds) and seconds >= 0,
        f"min_seconds must be a finite number >= 0, got {seconds!r}",
    )
    require(
        isinstance(encoder.non_differentiable_reason, str),
        f"non_differentiable_reason must be a string, got {encoder.non_differentiable_reason!r}",
    )
    config = encoder.config()
    # the fingerprint hashes repr(sorted(config.items())): keys must sort, so they are strings
    require(
        isinstance(config, dict) and all(isinstance(key, str) for key in config),
        f"config() must return a dict with string keys, got {config!r}",
    )


def _output_layout(encoder: Encoder, tolerance: float) -> None:
    """On a batch padded to its longest utterance, as `pad_waveforms` (used by the whole audit) pads it."""
    waves, lengths = _probe(encoder)
    _require_layout(encoder, *_forward(encoder, waves, lengths), batch=len(lengths))


def _finite_output(encoder: Encoder, tolerance: float) -> None:
    layers, _ = _forward(encoder, *_probe(encoder))
    bad = ~torch.isfinite(layers)
    if bad.any():
        row, layer, frame, _ = (int(i) for i in bad.nonzero()[0])
        raise AssertionError(
            f"{int(bad.sum())} of {layers.numel()} output values are NaN or infinite, the first "
            f"in utterance {row}, layer {layer}, frame {frame}"
        )


def _zero_beyond_frame_lengths(encoder: Encoder, tolerance: float) -> None:
    layers, frame_lengths = _forward(encoder, *_probe(encoder))
    beyond = layers.permute(0, 2, 1, 3)[~frame_mask(frame_lengths, layers.shape[2])]
    if beyond.any():
        raise AssertionError(
            f"frames beyond frame_lengths must be zero; the largest |value| there is {float(beyond.abs().max()):.3g}"
        )


def _frame_lengths_follow_input_lengths(encoder: Encoder, tolerance: float) -> None:
    waves, lengths = _probe(encoder)
    batched = _forward(encoder, waves, lengths)[1].tolist()
    alone = [int(_alone(encoder, waves, lengths, row)[1][0]) for row in range(len(lengths))]
    require(
        alone == batched,
        f"an utterance's frame length depends on its batch: alone {alone}, batched {batched} "
        f"(inputs of {lengths.tolist()} samples)",
    )
    order = sorted(range(len(lengths)), key=lambda row: int(lengths[row]))
    by_length = [batched[row] for row in order]
    require(
        by_length == sorted(by_length),
        f"a longer input got fewer frames: {sorted(lengths.tolist())} samples -> {by_length} frames",
    )


def _padding_is_inert(encoder: Encoder, tolerance: float) -> None:
    """Noise in the padding changes nothing: only `lengths` says where an utterance ends."""
    waves, lengths = _probe(encoder)
    layers, frame_lengths = _forward(encoder, waves, lengths)
    noise = 0.1 * torch.randn(waves.shape, generator=torch.Generator().manual_seed(0)).to(waves.device)
    noisy = torch.where(sample_mask(lengths, waves.shape[1]), waves, noise)
    noisy_layers, noisy_frame_lengths = _forward(encoder, noisy, lengths)
    require(
        torch.equal(noisy_frame_lengths, frame_lengths),
        f"noise in the padding changed frame_lengths from {frame_lengths.tolist()} to {noisy_frame_lengths.tolist()}",
    )
    _require_close(noisy_layers, layers, tolerance, "noise in the padding changed the output")


def _batch_independent(encoder: Encoder, tolerance: float) -> None:
    waves, lengths = _probe(encoder)
    layers, frame_lengths = _forward(encoder, waves, lengths)
    for row in range(len(lengths)):
        alone, _ = _alone(encoder, waves, lengths, row)
        frames = int(frame_lengths[row])
        _require_close(
            layers[row, :, :frames],
            alone[0, :, :frames],
            tolerance,
            f"utterance {row} ({int(lengths[row])} samples) batched with others differs from it alone",
        )


def _deterministic(encoder: Encoder, tolerance: float) -> None:
    """The same batch gives the same output, also after other inputs (no state carried between calls)."""
    waves, lengths = _probe(encoder)
    first, _ = _forward(encoder, waves, lengths)
    _alone(encoder, waves, lengths, 1)
    again, _ = _forward(encoder, waves, lengths)
    _require_close(again, first, tolerance, "a second call on the same batch gave another output")


def _stable_fingerprint(encoder: Encoder, tolerance: float) -> None:
    fingerprint = encoder.fingerprint()
    require(is_nonempty_text(fingerprint), f"fingerprint() must return a non-empty string, got {fingerprint!r}")
    require(encoder.fingerprint() == fingerprint, "fingerprint() changed between two calls")
    _forward(encoder, *_probe(encoder))
    # cached features are keyed by the fingerprint: a forward pass that moved it (e.g. batch-norm
    # statistics updated in place) would orphan them, or worse, pair them with other weights
    require(encoder.fingerprint() == fingerprint, "fingerprint() changed after a forward pass")


def _differentiability_as_declared(encoder: Encoder, tolerance: float) -> None:
    reason = encoder.non_differentiable_reason
    if not encoder.differentiable:
        require(
            is_nonempty_text(reason),
            "differentiable is False but non_differentiable_reason is empty: say why "
            "gradients cannot reach the waveform (the report shows it for skipped attacks)",
        )
        return
    require(not reason, f"differentiable is True, yet non_differentiable_reason is set ({reason!r})")
    waves, lengths = _probe(encoder)
    padding = ~sample_mask(lengths, waves.shape[1])
    noise = torch.randn(waves.shape, generator=torch.Generator().manual_seed(1)).to(waves.device)
    noisy = torch.where(padding, noise, waves).requires_grad_(True)
    with torch.enable_grad():
        layers, _ = encoder(noisy, lengths)
        require(layers.requires_grad, "differentiable is True, but the output does not require grad")
        (gradient,) = torch.autograd.grad(layers.pow(2).sum(), noisy, allow_unused=True)
    require(gradient is not None, "differentiable is True, but no gradient reaches the waveform")
    require(torch.isfinite(gradient).all(), "the gradient at the waveform has NaN or infinite values")
    require(not gradient[padding].any(), "padding samples receive a gradient: padding influences the output")
    for row, length in enumerate(lengths.tolist()):
        coverage = float((gradient[row, :length] != 0).float().mean())
        require(
            coverage >= GRADIENT_COVERAGE,
            f"only {coverage:.1%} of utterance {row}'s {length} samples receive a "
            f"gradient, expected at least {GRADIENT_COVERAGE:.0%}",
        )


def _shortest_input_works(encoder: Encoder, tolerance: float) -> None:
    """Audio as short as the audit lets through (max of `min_seconds` and the corpora's minimum) must work,
    alone and batched with a longer utterance; shorter audio is never passed, so it may fail."""
    shortest = _shortest_samples(encoder)
    what = f"an input of {shortest} samples (max of min_seconds={encoder.min_seconds} and corpora's {MIN_SECONDS} s)"
    waves, lengths = _batch(encoder, [shortest + encoder.sample_rate, shortest])
    alone, alone_frames = _alone(encoder, waves, lengths, 1)
    _require_layout(encoder, alone, alone_frames, batch=1)
    require(torch.isfinite(alone).all(), f"{what} gives NaN or infinite output")
    layers, frame_lengths = _forward(encoder, waves, lengths)
    frames = int(alone_frames[0])
    require(int(frame_lengths[1]) == frames, f"{what} has {frames} frames alone but {int(frame_lengths[1])} batched")
    _require_close(layers[1, :, :frames], alone[0, :, :frames], tolerance, f"{what} batched differs from it alone")


_ENCODER_RULES = {
    "declared_attributes": _declared_attributes,
    "output_layout": _output_layout,
    "finite_output": _finite_output,
    "zero_beyond_frame_lengths": _zero_beyond_frame_lengths,
    "deterministic": _deterministic,  # before the rules comparing two calls, which would blame padding or batch
    "frame_lengths_follow_input_lengths": _frame_lengths_follow_input_lengths,
    "padding_is_inert": _padding_is_inert,
    "batch_independent": _batch_independent,
    "stable_fingerprint": _stable_fingerprint,
    "differentiability_as_declared": _differentiability_as_declared,
    "shortest_input_works": _shortest_input_works,
}
ENCODER_RULES: tuple[str, ...] = tuple(_ENCODER_RULES)


def _encoder_label(encoder) -> str:
    return f"encoder {getattr(encoder, 'name', '?')!r} ({type(encoder).__name__})"


def _in_eval_mode(encoder, rule: Callable[[Encoder, float], None], tolerance: float) -> None:
    if isinstance(encoder, torch.nn.Module):
        encoder.eval()  # as the audit runs it: no dropout, frozen normalisation statistics
    rule(encoder, tolerance)


def encoder_checks(encoder: Encoder, *, tolerance: float = 1e-5) -> Iterator[tuple[str, Check]]:
    """Each rule of the encoder contract as `(rule, check)`; `check()` raises AssertionError if broken.

    `tolerance` bounds output differences that floating point allows (batched vs alone, noisy vs clean
    padding, repeated calls), relative to the largest |value| of the reference output.
    """
    for rule, body in _ENCODER_RULES.items():
        check = functools.partial(
            run_rule, _encoder_label(encoder), rule, functools.partial(_in_eval_mode, encoder, body, tolerance)
        )
        yield rule, check


def check_encoder(encoder: Encoder, *, tolerance: float = 1e-5) -> None:
    """Raise AssertionError, naming the encoder and the rule, at the first contract rule it breaks."""
    for _, check in encoder_checks(encoder, tolerance=tolerance):
        check()
