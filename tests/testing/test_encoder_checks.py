"""`check_encoder` passes a sound encoder and stops each broken one at the rule it breaks, naming both."""

import pytest
import torch

from trustser.encoders.base import Encoder, frame_mask
from trustser.testing import ENCODER_RULES, check_encoder, encoder_checks

WINDOW, HOP = 400, 160


class Framed(Encoder):
    """Sound: a fixed projection of 25 ms frames every 10 ms, and its tanh; the variants below break it."""

    name = "framed"
    num_layers = 2
    hidden_size = 6

    def __init__(self):
        super().__init__()
        self.register_buffer("projection", torch.randn(WINDOW, 6, generator=torch.Generator().manual_seed(0)))
        self.dropout = torch.nn.Dropout(0.5)  # harmless: the checks run in eval mode, as the audit does

    def frame_lengths(self, waveforms, lengths):
        return (lengths - WINDOW) // HOP + 1

    def features(self, waveforms, lengths):
        return self.dropout(waveforms.unfold(1, WINDOW, HOP) @ self.projection)

    def forward(self, waveforms, lengths):
        frames = self.features(waveforms, lengths)
        layers = torch.stack([frames, torch.tanh(frames)], dim=1)
        frame_lengths = self.frame_lengths(waveforms, lengths)
        return layers * frame_mask(frame_lengths, layers.shape[2])[:, None, :, None], frame_lengths


class NotAnEncoder:
    name = "plain"


class StringSampleRate(Framed):
    sample_rate = "16000"


class WrongHiddenSize(Framed):
    hidden_size = 16


class ReturnsOnlyLayers(Framed):
    def forward(self, waveforms, lengths):
        return super().forward(waveforms, lengths)[0]


class NonFinite(Framed):
    def features(self, waveforms, lengths):
        frames = super().features(waveforms, lengths)
        return frames.index_put((torch.tensor([1]), torch.tensor([3]), torch.tensor([2])), torch.tensor(float("nan")))


class UnmaskedPadding(Framed):
    def forward(self, waveforms, lengths):
        frames = self.features(waveforms, lengths)
        return torch.stack([frames, torch.tanh(frames)], dim=1), self.frame_lengths(waveforms, lengths)


class FramesFromBatchWidth(Framed):
    def frame_lengths(self, waveforms, lengths):
        return torch.full_like(lengths, (waveforms.shape[1] - WINDOW) // HOP + 1)


class ListensToPadding(Framed):
    def features(self, waveforms, lengths):
        return super().features(waveforms, lengths) * (1 + waveforms.abs().mean())


class BatchNormalised(Framed):
    def forward(self, waveforms, lengths):
        layers, frame_lengths = super().forward(waveforms, lengths)
        return layers / layers.abs().amax(), frame_lengths  # the batch's largest value sets everyone's scale


class Stateful(Framed):
    calls = 0

    def features(self, waveforms, lengths):
        self.calls += 1
        return super().features(waveforms, lengths) * self.calls


class RunningStatistics(Framed):
    def __init__(self):
        super().__init__()
        self.register_buffer("running_mean", torch.zeros(()))

    def features(self, waveforms, lengths):
        self.running_mean += waveforms.mean()  # updated even in eval mode: the weights' hash moves
        return super().features(waveforms, lengths)


class ClaimsGradientsButDetaches(Framed):
    def features(self, waveforms, lengths):
        return super().features(waveforms.detach(), lengths)


class SilentAboutWhyNotDifferentiable(Framed):
    differentiable = False


class DifferentiableWithAnExcuse(Framed):
    non_differentiable_reason = "it is complicated"


class NeedsAQuarterSecond(Framed):
    """Declares no min_seconds, yet fails below a quarter of a second."""

    def forward(self, waveforms, lengths):
        if int(lengths.min()) < 4000:
            raise ValueError(f"{int(lengths.min())} samples are too short")
        return super().forward(waveforms, lengths)


BROKEN = [  # encoder, the first rule it breaks, a phrase of the message
    (NotAnEncoder(), "declared_attributes", "not a trustser.encoders.Encoder"),
    (StringSampleRate(), "declared_attributes", "sample_rate must be a positive int, got '16000'"),
    (WrongHiddenSize(), "output_layout", "expected [batch=3, num_layers=2, frames, hidden_size=16]"),
    (ReturnsOnlyLayers(), "output_layout", "forward must return a tuple (layers, frame_lengths)"),
    (
        NonFinite(),
        "finite_output",
        "2 of 3636 output values are NaN or infinite, the first in utterance 1, layer 0, frame 3",
    ),
    (UnmaskedPadding(), "zero_beyond_frame_lengths", "frames beyond frame_lengths must be zero"),
    (FramesFromBatchWidth(), "frame_lengths_follow_input_lengths", "frame length depends on its batch"),
    (ListensToPadding(), "padding_is_inert", "noise in the padding changed the output"),
    (BatchNormalised(), "batch_independent", "utterance 1 (6320 samples) batched with others differs from it alone"),
    (Stateful(), "deterministic", "a second call on the same batch gave another output"),
    (RunningStatistics(), "stable_fingerprint", "fingerprint() changed after a forward pass"),
    (ClaimsGradientsButDetaches(), "differentiability_as_declared", "the output does not require grad"),
    (SilentAboutWhyNotDifferentiable(), "differentiability_as_declared", "non_differentiable_reason is empty"),
    (DifferentiableWithAnExcuse(), "differentiability_as_declared", "non_differentiable_reason is set"),
    (NeedsAQuarterSecond(), "shortest_input_works", "ValueError: 400 samples are too short"),
]


def test_a_sound_encoder_passes_every_rule():
    check_encoder(Framed())
    assert [rule for rule, _ in encoder_checks(Framed())] == list(ENCODER_RULES)


@pytest.mark.parametrize("encoder, rule, phrase", BROKEN, ids=[type(e).__name__ for e, _, _ in BROKEN])
def test_a_broken_encoder_fails_at_its_rule_with_both_named(encoder, rule, phrase):
    with pytest.raises(AssertionError) as raised:
        check_encoder(encoder)
    message = str(raised.value)
    assert message.startswith(f"encoder {encoder.name!r} ({type(encoder).__name__}) breaks the rule {rule!r}: ")
    assert phrase in message


def test_every_rule_is_shown_to_catch_a_broken_encoder():
    assert {rule for _, rule, _ in BROKEN} == set(ENCODER_RULES)


def test_each_check_runs_on_its_own_and_fails_only_where_broken():
    outcomes = {}
    for rule, check in encoder_checks(BatchNormalised()):
        try:
            check()
            outcomes[rule] = "pass"
        except AssertionError:
            outcomes[rule] = "fail"
    # scaling by the batch's maximum also changes the shortest input batched vs alone
    assert {rule for rule, outcome in outcomes.items() if outcome == "fail"} == {
        "batch_independent",
        "shortest_input_works",
    }


def test_tolerance_is_relative_to_the_output_scale():
    class SlightlyBatchDependent(Framed):
        def forward(self, waveforms, lengths):
            layers, frame_lengths = super().forward(waveforms, lengths)
            return layers * (1 + 1e-4 * (len(lengths) > 1)), frame_lengths

    check = dict(encoder_checks(SlightlyBatchDependent(), tolerance=1e-3))["batch_independent"]
    check()
    with pytest.raises(AssertionError, match="exceeds 1e-05 x max"):
        dict(encoder_checks(SlightlyBatchDependent()))["batch_independent"]()
