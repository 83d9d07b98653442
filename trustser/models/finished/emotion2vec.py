"""A finished emotion2vec+ model, audited as it is: `--model emotion2vec:DIR` (optional extra `trustser[emotion2vec]`).

DIR is a local FunASR model directory with a classifier (trustser.encoders.emotion2vec): `tokens.txt` names
its outputs, e.g. emotion2vec+'s nine (`生气/angry`, ..., `<unk>`). FunASR's inference averages the last
layer's frames and applies `proj`; here the encoder is `Emotion2vecLayers` (every layer, for privacy) and the
head that same computation: the last layer alone, mean over the utterance's frames, `proj`. Labels are read
by their English part (`生气/angry` -> angry); outputs FunASR masks out (tokens starting `unuse`) are dropped,
as its softmax drops them, so the model is judged over the same labels it reports. A base model without a
classifier is audited as a backbone, `--backbone emotion2vec:DIR`.
"""

from __future__ import annotations

import torch
from torch import nn

from trustser.encoders.emotion2vec import Emotion2vecLayers, load_emotion2vec, on_tiny_emotion2vec
from trustser.models.finished.formats import register_format
from trustser.models.finished.labels import MappedClassifier, label_groups
from trustser.models.finished.model import FinishedHead, FinishedModel, tensor_digest
from trustser.models.finished.torch_model import LeadingFeatures

MASKED_PREFIX = "unuse"  # FunASR sets these outputs to -inf before its softmax


def label_of(token: str) -> str:
    """emotion2vec+'s `中文/english` tokens by their English part; other tokens as they are."""
    return token.rsplit("/", 1)[-1].strip()


def load_emotion2vec_model(spec: str, emotions: tuple[str, ...], label_overrides: dict[str, str]) -> FinishedModel:
    """The model `spec` (`emotion2vec:/path/to/dir`) names, its outputs mapped to `emotions`."""
    directory = spec.partition(":")[2]
    loaded = load_emotion2vec(directory)
    proj = loaded.model.proj
    if proj is None or not loaded.tokens:
        raise ValueError(
            f"{spec}: the model has no classifier (no tokenizer and tokens.txt in {loaded.directory}); "
            f"audit its features with --backbone emotion2vec:{directory}"
        )
    if len(loaded.tokens) != proj.out_features:
        raise ValueError(
            f"{spec}: tokens.txt names {len(loaded.tokens)} labels, the classifier has {proj.out_features}"
        )
    kept = [index for index, token in enumerate(loaded.tokens) if not token.startswith(MASKED_PREFIX)]
    linear = nn.Linear(proj.in_features, len(kept))
    with torch.no_grad():
        linear.weight.copy_(proj.weight[kept])
        linear.bias.copy_(proj.bias[kept])
    id2label = {new: label_of(loaded.tokens[old]) for new, old in enumerate(kept)}
    try:
        groups = label_groups(id2label, tuple(emotions), label_overrides)
    except ValueError as error:
        raise ValueError(f"{spec}: {error}") from None
    encoder = Emotion2vecLayers(loaded, name=f"model:{spec}")
    one_hot = torch.full((encoder.num_layers,), float("-inf"))
    one_hot[-1] = 0.0  # the last layer alone, as FunASR's inference
    projector = LeadingFeatures(encoder.hidden_size, encoder.hidden_size)  # none: the frames go to proj as they are
    head = FinishedHead(one_hot, projector, MappedClassifier(linear, groups)).eval()
    for parameter in (*encoder.parameters(), *head.parameters()):
        parameter.requires_grad_(False)
    adjustments = []
    if loaded.grad_mult != 1.0:
        adjustments.append(
            f"local_grad_mult {loaded.grad_mult:g} set to 1 so that gradients reach the waveform (outputs unchanged)"
        )
    return FinishedModel(spec, encoder, head, tensor_digest(head), id2label, adjustments=adjustments)


register_format(
    "emotion2vec",
    load_emotion2vec_model,
    usage="emotion2vec:<FunASR model directory>",
    checked_as=[on_tiny_emotion2vec("emotion2vec:", classifier=True)],  # emotion2vec+'s nine labels
)
