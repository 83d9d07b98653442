"""Any PyTorch SER model, audited as it is: `--model torch:package.module:factory[:argument]`.

`factory()` (or `factory(argument)`) returns an `nn.Module` that declares (docs/plugins.md, "Your own model"):

- `sample_rate: int`, the rate of the waveforms it takes;
- `labels: list[str]`, the emotion each logit stands for, read like a Hugging Face model's `id2label`
  (`ang`, `Anger`, `hap`, ...; `--model-labels` overrides); or, for a model that predicts emotional
  attributes (a dimensional audit), `attributes` instead, e.g. `("arousal", "dominance", "valence")`, the
  attribute each output stands for, each output a normalised value in [0, 1];
- `forward(waveforms, lengths)`: zero-padded mono float32 waveforms [batch, samples] and their lengths
  [batch] in samples, to logits [batch, len(labels)], differentiable from the waveform;
- optionally `forward(waveforms, lengths, output_hidden_states=True)` -> `(logits, hidden_states)`, a
  sequence of utterance-level representations [batch, dim] (padding excluded by the model), which
  privacy attacks one by one; and `differentiable`, `non_differentiable_reason`, `min_seconds` as an
  encoder declares them.

The load check (`probe_shapes`) runs it on quiet noise: its `min_seconds` (else 1 s), a batch of two
lengths and 10 s. Then every batch it answers is checked the same way (trustser.models.finished.output_checks):
an answer of the wrong shape or dtype, a NaN, or an exception stops the evaluation with a `ModelOutputError`
naming the model, the utterances and what was expected. Putting it in eval mode is recorded
(`FinishedModel.adjustments`), for the report.

The audit sees it as an encoder whose layers are its hidden states and then its logits (one frame per
utterance, each zero-padded to the widest), and a `FinishedHead` that reads the logits back: its
penultimate representation is the logits, its posteriors those of the audit's emotions.
"""

from __future__ import annotations

import dataclasses
import inspect
import math

import torch
from torch import nn
from torch.nn import functional

from trustser.corpora.attributes import ATTRIBUTES, canonical_attribute
from trustser.encoders.base import Encoder, dataset_names
from trustser.encoders.module_encoder import OPTIONAL, positive_int
from trustser.errors import ModelOutputError
from trustser.models.finished.formats import register_format
from trustser.models.finished.labels import MappedClassifier, label_groups
from trustser.models.finished.model import AttributeOutputs, FinishedHead, FinishedModel, tensor_digest
from trustser.models.finished.output_checks import Declared, checked_answer
from trustser.specs.team_code import build, import_factory, source_digest

PROBE_SECONDS = 1.0  # the load check's shortest input, unless the model declares `min_seconds`
LONG_PROBE_SECONDS = 10.0  # and its long one
EVAL_MODE = "put in eval mode (it was returned in train mode): dropout and batch-norm updates off, as deployed"


class LeadingFeatures(nn.Module):
    """The first `out_features` of the last axis: a model's logits out of its zero-padded layer."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features[..., : self.out_features]


class ModelLayers(Encoder):
    """A torch model's declared representations and logits as an encoder's layer stack; every batch's
    answer is checked against the declarations (trustser.models.finished.output_checks)."""

    def __init__(self, model: nn.Module, spec: str, *, declared: Declared):
        super().__init__()
        self.model, self.name = model, f"model:{spec}"
        self.declared = dataclasses.replace(declared, name=self.name)
        self.sample_rate = model.sample_rate
        self.exposes_hidden_states = declared.hidden
        hidden_sizes = list(declared.widths or ())
        self.num_layers = len(hidden_sizes) + 1
        self.hidden_size = max(hidden_sizes + [declared.num_labels])
        for attribute in OPTIONAL:
            if hasattr(model, attribute):
                setattr(self, attribute, getattr(model, attribute))
        self.trained_on = dataset_names(self.trained_on, spec)
        self.source = source_digest(model)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, hidden_states = checked_answer(self.model, waveforms, lengths, self.declared)
        # the widths are checked: padding only lines the layers up to the widest
        padded = [functional.pad(state.float(), (0, self.hidden_size - state.shape[-1])) for state in hidden_states]
        padded.append(functional.pad(logits.float(), (0, self.hidden_size - logits.shape[-1])))
        layers = torch.stack(padded, dim=1)[:, :, None, :]  # one frame per utterance
        return layers, torch.ones(len(waveforms), dtype=torch.long, device=waveforms.device)

    def config(self) -> dict:
        return {"module": f"{type(self.model).__module__}.{type(self.model).__qualname__}", "source": self.source}


def declared_attributes(model: object, spec: str) -> tuple[str, ...]:
    """A regression model's `attributes`, as canonical names; () where it declares none."""
    declared = getattr(model, "attributes", None)
    if declared is None:
        return ()
    named = [canonical_attribute(a) if isinstance(a, str) else None for a in declared] if declared else [None]
    if not isinstance(declared, (list, tuple)) or None in named or len(set(named)) != len(named):
        raise ValueError(f"{spec}: `attributes` must name distinct attributes among {ATTRIBUTES}, got {declared!r}")
    if getattr(model, "labels", None) is not None:
        raise ValueError(f"{spec}: {type(model).__name__} declares both `labels` and `attributes`; a model has one")
    return tuple(named)


def declared_labels(model: object, spec: str) -> list[str]:
    labels = getattr(model, "labels", None)
    if not isinstance(labels, (list, tuple)) or not all(isinstance(label, str) for label in labels):
        raise ValueError(f"{spec}: {type(model).__name__} needs a `labels` attribute, a list of label names")
    if len(set(labels)) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"{spec}: `labels` must name at least two distinct labels, got {list(labels)}")
    return list(labels)


def declared_min_seconds(model: object, spec: str) -> float:
    """The model's `min_seconds` (0 when it declares none); ValueError unless a finite number >= 0."""
    seconds = getattr(model, "min_seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < math.inf:
        raise ValueError(f"{spec}: `min_seconds` must be a finite number of seconds >= 0, got {seconds!r}")
    return float(seconds)


def probes(shortest: float) -> list[list[float]]:
    """The load check's batches, as seconds of each row: the shortest input, a batch of different lengths
    (padding, and a batch size above one), a long input."""
    return [[shortest], [shortest + 0.5, shortest], [max(LONG_PROBE_SECONDS, shortest)]]


def probe_shapes(model: nn.Module, spec: str, num_labels: int) -> Declared:
    """Run the model on `probes` of quiet noise: what its answers are declared to be, with the widths of its
    hidden states. ValueError naming `spec`, the call and what was expected when an answer breaks the protocol.

    The shortest probe is the declared `min_seconds`, else PROBE_SECONDS (shorter utterances are checked as
    they come, and a refusal then suggests declaring `min_seconds`)."""
    hidden = "output_hidden_states" in inspect.signature(model.forward).parameters
    shortest = declared_min_seconds(model, spec) or PROBE_SECONDS
    declared = Declared(spec, model.sample_rate, num_labels, hidden)
    generator = torch.Generator().manual_seed(0)
    options = ", output_hidden_states=True" if hidden else ""
    for batch in probes(shortest):
        samples = [max(1, int(seconds * model.sample_rate)) for seconds in batch]
        wave = 0.01 * torch.randn(len(batch), max(samples), generator=generator)
        for row, n in enumerate(samples):
            wave[row, n:] = 0.0  # zero-padded, as the audit pads
        call = f"forward(waveforms [{len(batch)}, {max(samples)}], lengths [{len(batch)}]{options})"
        inputs = " and ".join(f"{seconds:g} s" for seconds in batch)
        try:
            with torch.no_grad():
                _, states = checked_answer(model, wave, torch.tensor(samples), declared)
        except ModelOutputError as error:
            raise ValueError(f"{spec}: {call} {error.problem} (load check, on {inputs} of quiet noise)") from None
        if declared.widths is None:
            declared = declared.reading(states)
    return dataclasses.replace(declared, hidden=hidden and bool(declared.widths), answered_seconds=shortest)


def load_torch_model(spec: str, emotions: tuple[str, ...], label_overrides: dict[str, str]) -> FinishedModel:
    """The model `spec` (`torch:package.module:factory`) names, its logits mapped to `emotions`."""
    factory, arguments = import_factory(spec.removeprefix("torch:"), spec=spec)
    return as_finished_model(build(factory, *arguments, spec=spec), spec, emotions, label_overrides)


def as_finished_model(
    model: object, spec: str, emotions: tuple[str, ...], label_overrides: dict[str, str]
) -> FinishedModel:
    """A module keeping the protocol above (however it was loaded: any format whose files give such a
    module can end here), its logits mapped to `emotions`; ValueError naming `spec` when it breaks it."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"{spec}: the factory returned {type(model).__name__}, not a torch.nn.Module")
    if not positive_int(getattr(model, "sample_rate", None)):
        raise ValueError(f"{spec}: {type(model).__name__} needs a `sample_rate` attribute, a positive int (Hz)")
    attributes = declared_attributes(model, spec)
    labels = list(attributes) or declared_labels(model, spec)
    adjustments = []
    if any(module.training for module in model.modules()):
        # audited as deployed: in train mode dropout and batch-norm updates would change its answers call to call
        adjustments.append(EVAL_MODE)
    model.eval()
    encoder = ModelLayers(model, spec, declared=probe_shapes(model, spec, len(labels))).eval()
    id2label = dict(enumerate(labels))
    outputs = LeadingFeatures(len(labels), len(labels))
    if attributes:
        classifier = AttributeOutputs(outputs, list(range(len(labels))))
    else:
        try:
            classifier = MappedClassifier(outputs, label_groups(id2label, tuple(emotions), label_overrides))
        except ValueError as error:
            raise ValueError(f"{spec}: {error}") from None
    one_hot = torch.full((encoder.num_layers,), float("-inf"))
    one_hot[-1] = 0.0  # the head reads the logits layer alone
    projector = LeadingFeatures(encoder.hidden_size, len(labels))
    head = FinishedHead(one_hot, projector, classifier)
    for parameter in encoder.parameters():
        parameter.requires_grad_(False)
    return FinishedModel(
        spec, encoder, head.eval(), tensor_digest(head), id2label, adjustments=adjustments, attributes=attributes
    )


register_format(
    "torch",
    load_torch_model,
    usage="torch:<package.module>:<factory>",
    checked_as=["torch:trustser.testing.examples:tiny_model"],  # a team's plain nn.Module
)
