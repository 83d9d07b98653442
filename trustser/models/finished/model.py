"""A finished audio classifier's own head, re-expressed on the encoder's layer stack.

Hugging Face's `...ForSequenceClassification` / `WhisperForAudioClassification` compute
softmax-weighted layer sum (or the last layer) -> linear projector -> mean over valid frames ->
linear classifier. The same computation on `Encoder` layers gives a head with `EmotionHead`'s
interface (`layer_weights`, `embed`, `classifier`), so every pillar evaluates the finished model the
way it evaluates our trained heads: `embed` is its penultimate representation, and the encoder's
layers are its hidden representations.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import torch
from torch import nn

from trustser.encoders.base import Encoder, frame_mask
from trustser.models.finished.labels import MappedClassifier


class AttributeOutputs(nn.Module):
    """A regression model's final layer, its outputs picked in the audit's attribute order (`indices`).

    Its outputs are read as normalised attributes in [0, 1], the convention of attribute-track models
    (audeering's wav2vec 2.0 MSP-Podcast model): the audit compares them with the corpus's ratings
    normalised by its scale. `groups` (one model output per attribute) mirror MappedClassifier's."""

    def __init__(self, linear: nn.Module, indices: list[int]):
        super().__init__()
        self.linear = linear
        self.indices = list(indices)

    @property
    def groups(self) -> list[list[int]]:
        return [[index] for index in self.indices]

    @property
    def in_features(self) -> int:
        return self.linear.in_features

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.merge(self.linear(pooled))

    def merge(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs[..., self.indices]


class FinishedHead(nn.Module):
    def __init__(
        self, layer_logits: torch.Tensor, projector: nn.Linear, classifier: "MappedClassifier | AttributeOutputs"
    ):
        super().__init__()
        num_layers, hidden_size = len(layer_logits), projector.in_features
        # no standardisation: the finished model was trained on raw encoder outputs
        self.register_buffer("feature_mean", torch.zeros(num_layers, hidden_size))
        self.register_buffer("feature_std", torch.ones(num_layers, hidden_size))
        self.register_buffer("layer_logits", layer_logits.detach().clone())
        self.projector = projector
        self.classifier = classifier

    @classmethod
    def from_classifier(cls, model: nn.Module, num_layers: int, groups: list[list[int]] | None) -> "FinishedHead":
        """The head of a loaded HF audio classifier whose encoder yields `num_layers` hidden states (groups
        None: a regression model, its outputs as they are)."""
        if getattr(model.config, "use_weighted_layer_sum", False):
            logits = model.layer_weights.detach()
        else:  # the last hidden state alone: a one-hot mix (softmax of -inf elsewhere)
            logits = torch.full((num_layers,), float("-inf"))
            logits[-1] = 0.0
        if groups is None:
            return cls(
                logits, model.projector, AttributeOutputs(model.classifier, list(range(model.config.num_labels)))
            )
        return cls(logits, model.projector, MappedClassifier(model.classifier, groups))

    def layer_weights(self) -> torch.Tensor:
        return torch.softmax(self.layer_logits, dim=0)

    def embed(self, layers: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        """The pooled projector output [batch, classifier_proj_size]: the input of the final layer."""
        mixed = torch.einsum("l,blfh->bfh", self.layer_weights(), layers)
        mask = frame_mask(frame_lengths, mixed.shape[1])[:, :, None]
        return (self.projector(mixed) * mask).sum(1) / mask.sum(1).clamp_min(1)

    def forward(self, layers: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(layers, frame_lengths))

    def model_outputs(self, layers: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        """The model's own outputs [batch, model labels], before they are mapped to the audit's emotions."""
        return self.classifier.linear(self.embed(layers, frame_lengths))


class ModelOutputs(nn.Module):
    """A finished head answering with the model's own outputs (its `model_outputs`), e.g. for predict_logits."""

    def __init__(self, head: FinishedHead):
        super().__init__()
        self.head = head

    def forward(self, layers: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        return self.head.model_outputs(layers, frame_lengths)


@dataclass
class FinishedModel:
    spec: str
    encoder: Encoder
    head: FinishedHead
    head_fingerprint: str
    id2label: dict[int, str]
    adjustments: list[str] = field(default_factory=list)  # what loading changed to audit it, for the report
    attributes: tuple[str, ...] = ()  # a regression model's outputs, in its own order; () for a classifier

    def predicting(self, attributes: tuple[str, ...]) -> "FinishedModel":
        """This regression model answering with `attributes`, in that order; ValueError naming any it lacks."""
        missing = [name for name in attributes if name not in self.attributes]
        if missing:
            raise ValueError(
                f"{self.spec}: the model predicts {list(self.attributes)}, not {missing}, which the corpus rates"
            )
        indices = [self.attributes.index(name) for name in attributes]
        self.head.classifier = AttributeOutputs(self.head.classifier.linear, indices)
        self.head_fingerprint = tensor_digest(self.head)
        return self

    @property
    def left_out(self) -> dict[int, str]:
        """The model's labels that stand for none of the audit's emotions (index -> label)."""
        mapped = {index for group in self.head.classifier.groups for index in group}
        return {index: label for index, label in self.id2label.items() if index not in mapped}

    @property
    def merged(self) -> list[list[int]]:
        """The groups of several model labels that stand for one audit emotion (their probabilities summed)."""
        return [list(group) for group in self.head.classifier.groups if len(group) > 1]


def tensor_digest(module: nn.Module) -> str:
    digest = hashlib.sha256()
    for key, tensor in sorted(module.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
