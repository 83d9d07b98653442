"""From a finished classifier's own labels (`id2label`) to the audit's emotion set.

A checkpoint's labels are read by their usual spellings (`ang`, `Anger`, `hap` ...; see
`corpora.emotions.SYNONYMS`). Several model labels may stand for one audit emotion (IEMOCAP models
often merge `exc` into happy): their probabilities are summed. Model labels outside the audit's set
(e.g. `fear` when the corpus has four emotions) are left out, so the model is judged on its choice
among the emotions the corpus can test. `--model-labels ang=angry,exc=happy,0=neutral` overrides the
reading of any label, by name or by id; `label=-` leaves one out.
"""

from __future__ import annotations

import torch
from torch import nn

from trustser.corpora.emotions import canonical
from trustser.errors import SpecError

IGNORED = "-"


def parse_overrides(text: str | None) -> dict[str, str]:
    """`--model-labels` text as {model label or id: emotion}."""
    overrides = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        label, sep, emotion = item.partition("=")
        if not sep or not label.strip() or not emotion.strip():
            raise SpecError(f"--model-labels entries are label=emotion (or label=- to leave one out), got {item!r}")
        overrides[label.strip()] = emotion.strip()
    return overrides


def label_groups(id2label: dict[int, str], emotions: tuple[str, ...], overrides: dict[str, str]) -> list[list[int]]:
    """For each audit emotion (in class-index order), the model's output indices that stand for it."""
    unknown = set(overrides) - {str(i) for i in id2label} - set(id2label.values())
    if unknown:
        raise ValueError(
            f"--model-labels names {sorted(unknown)}, which the model does not have; its labels: {id2label}"
        )
    groups: list[list[int]] = [[] for _ in emotions]
    for index, label in sorted(id2label.items()):
        emotion = overrides.get(str(index), overrides.get(label, canonical(label)))
        if emotion in emotions:
            groups[emotions.index(emotion)].append(index)
    missing = [emotion for emotion, group in zip(emotions, groups) if not group]
    if missing:
        raise ValueError(
            f"no output of the model stands for {missing}; its labels are {id2label}. "
            f"Say which do with --model-labels, e.g. --model-labels {next(iter(id2label.values()))}={missing[0]}"
        )
    return groups


class MappedClassifier(nn.Module):
    """The model's final linear layer, its outputs merged into the audit's emotions (log of summed probabilities).

    Log-probabilities rather than raw logits, because merging needs a common scale; the argmax over
    single-label groups is the same as the model's own argmax over those labels.
    """

    def __init__(self, linear: nn.Linear, groups: list[list[int]]):
        super().__init__()
        self.linear = linear
        self.groups = [list(group) for group in groups]

    @property
    def in_features(self) -> int:
        return self.linear.in_features

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.merge(self.linear(pooled))

    def merge(self, outputs: torch.Tensor) -> torch.Tensor:
        """The model's own outputs [..., model labels] as log-probabilities of the audit's emotions."""
        log_probabilities = torch.log_softmax(outputs, dim=-1)
        return torch.stack([log_probabilities[..., group].logsumexp(-1) for group in self.groups], dim=-1)
