"""Any PyTorch SER model, audited as it is: `--model torch:package.module:factory[:argument]`.

`factory()` (or `factory(argument)`) returns an `nn.Module` that declares (docs/plugins.md, "Your own model"):

- `sample_rate: int`, the rate of the waveforms it takes;
- `labels: list[str]`, the emotion each logit stands for, read like a Hugging Face model's `id2label`
  (`ang`, `Anger`, `hap`, ...; `--model-labels` overrides);
- `forward(waveforms, lengths)`: zero-padded mono float32 waveforms [batch, samples] and their lengths
  [batch] in samples, to logits [batch, len(labels)], differentiable from the waveform;
- optionally `forward(waveforms, lengths, output_hidden_states=True)` -> `(logits, hidden_states)`, a
  sequence of utterance-level representations [batch, dim] (padding excluded by the model), which
  privacy attacks one by one; and `differentiable`, `non_differentiable_reason`, `min_seconds` as an
  encoder declares them.

The audit sees it as an encoder whose layers are its hidden states and then its logits (one frame per
utterance, each zero-padded to the widest), and a `FinishedHead` that reads the logits back: its
penultimate representation is the logits, its posteriors those of the audit's emotions.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn
from torch.nn import functional

from trustser.encoders.base import Encoder, dataset_names
from trustser.encoders.module_encoder import OPTIONAL, positive_int
from trustser.models.finished.formats import register_format
from trustser.models.finished.labels import MappedClassifier, label_groups
from trustser.models.finished.model import FinishedHead, FinishedModel, tensor_digest
from trustser.specs.team_code import build, import_factory, source_digest

PROBE_SECONDS = 1.0  # of quiet noise, run once at load to read the output shapes


class LeadingFeatures(nn.Module):
    """The first `out_features` of the last axis: a model's logits out of its zero-padded layer."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features[..., : self.out_features]


class ModelLayers(Encoder):
    """A torch model's declared representations and logits as an encoder's layer stack."""

    def __init__(self, model: nn.Module, spec: str, *, hidden_sizes: list[int], num_labels: int):
        super().__init__()
        self.model, self.name = model, f"model:{spec}"
        self.sample_rate = model.sample_rate
        self.exposes_hidden_states = bool(hidden_sizes)
        self.num_layers = len(hidden_sizes) + 1
        self.hidden_size = max(hidden_sizes + [num_labels])
        for attribute in OPTIONAL:
            if hasattr(model, attribute):
                setattr(self, attribute, getattr(model, attribute))
        self.trained_on = dataset_names(self.trained_on, spec)
        self.source = source_digest(model)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.exposes_hidden_states:
            logits, hidden_states = self.model(waveforms, lengths, output_hidden_states=True)
        else:
            logits, hidden_states = self.model(waveforms, lengths), ()
        padded = [functional.pad(state.float(), (0, self.hidden_size - state.shape[-1])) for state in hidden_states]
        padded.append(functional.pad(logits.float(), (0, self.hidden_size - logits.shape[-1])))
        layers = torch.stack(padded, dim=1)[:, :, None, :]  # one frame per utterance
        return layers, torch.ones(len(waveforms), dtype=torch.long, device=waveforms.device)

    def config(self) -> dict:
        return {"module": f"{type(self.model).__module__}.{type(self.model).__qualname__}", "source": self.source}


def declared_labels(model: object, spec: str) -> list[str]:
    labels = getattr(model, "labels", None)
    if not isinstance(labels, (list, tuple)) or not all(isinstance(label, str) for label in labels):
        raise ValueError(f"{spec}: {type(model).__name__} needs a `labels` attribute, a list of label names")
    if len(set(labels)) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"{spec}: `labels` must name at least two distinct labels, got {list(labels)}")
    return list(labels)


def probe_shapes(model: nn.Module, spec: str, num_labels: int) -> list[int]:
    """Run the model once; the sizes of its hidden states. ValueError when an output breaks the protocol."""
    hidden = "output_hidden_states" in inspect.signature(model.forward).parameters
    samples = int(PROBE_SECONDS * model.sample_rate)
    wave = 0.01 * torch.randn(1, samples, generator=torch.Generator().manual_seed(0))
    call = f"forward(waveforms [1, {samples}], lengths [1]{', output_hidden_states=True' if hidden else ''})"
    options = {"output_hidden_states": True} if hidden else {}
    try:
        with torch.no_grad():
            output = model(wave, torch.tensor([samples]), **options)
    except Exception as error:  # the team's code may raise anything; the audit reports it as a bad spec
        raise ValueError(f"{spec}: {call} raised {type(error).__name__}: {error}") from error
    logits, states = output if hidden and isinstance(output, (tuple, list)) and len(output) == 2 else (output, None)
    if hidden and states is None:
        raise ValueError(f"{spec}: {call} must return (logits, hidden_states)")
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (1, num_labels):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"{spec}: {call} returned logits {shape}, expected [batch=1, len(labels)={num_labels}]")
    sizes = []
    for index, state in enumerate(states or ()):
        if not isinstance(state, torch.Tensor) or state.dim() != 2 or state.shape[0] != 1:
            shape = tuple(state.shape) if isinstance(state, torch.Tensor) else type(state).__name__
            raise ValueError(f"{spec}: {call} returned hidden state {index} as {shape}, expected [batch=1, dim]")
        sizes.append(int(state.shape[1]))
    return sizes


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
    labels = declared_labels(model, spec)
    model.eval()
    hidden_sizes = probe_shapes(model, spec, len(labels))
    encoder = ModelLayers(model, spec, hidden_sizes=hidden_sizes, num_labels=len(labels)).eval()
    id2label = dict(enumerate(labels))
    try:
        groups = label_groups(id2label, tuple(emotions), label_overrides)
    except ValueError as error:
        raise ValueError(f"{spec}: {error}") from None
    one_hot = torch.full((encoder.num_layers,), float("-inf"))
    one_hot[-1] = 0.0  # the head reads the logits layer alone
    projector = LeadingFeatures(encoder.hidden_size, len(labels))
    head = FinishedHead(one_hot, projector, MappedClassifier(LeadingFeatures(len(labels), len(labels)), groups))
    for parameter in encoder.parameters():
        parameter.requires_grad_(False)
    return FinishedModel(spec, encoder, head.eval(), tensor_digest(head), id2label)


register_format(
    "torch",
    load_torch_model,
    usage="torch:<package.module>:<factory>",
    checked_as=["torch:trustser.testing.examples:tiny_model"],  # a team's plain nn.Module
)
