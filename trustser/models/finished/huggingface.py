"""Loading a finished Hugging Face audio classifier (`--model hf:<checkpoint dir or cached id>`).

Any `AutoModelForAudioClassification` checkpoint of a family the encoder registry knows
(`Wav2Vec2ForSequenceClassification`, HuBERT, WavLM, data2vec-audio, `WhisperForAudioClassification`)
is split into its encoder (all hidden layers, with the checkpoint's own preprocessing, differentiable
from the waveform) and its head (`FinishedHead`). Loading is offline, as for encoders.

A checkpoint with `problem_type="regression"` predicts attributes (a dimensional audit's model): its
`id2label` names them (arousal, dominance, valence, or spellings such as `activation`, `val`); a
three-output one whose labels name none is read in the order of audeering's MSP-Podcast model,
arousal, dominance, valence. Its outputs are read as normalised attributes in [0, 1].
"""

from __future__ import annotations

import torch

from trustser.corpora.attributes import ATTRIBUTES, canonical_attribute
from trustser.encoders.hf_loading import load_pretrained, preprocessor_settings
from trustser.encoders.huggingface import WAV2VEC_FAMILY, Wav2Vec2FamilyLayers, WhisperLayers, on_tiny_checkpoint
from trustser.models.finished.formats import register_format
from trustser.models.finished.labels import label_groups
from trustser.models.finished.model import FinishedHead, FinishedModel, tensor_digest


def load_finished_model(spec: str, emotions: tuple[str, ...], label_overrides: dict[str, str]) -> FinishedModel:
    """The model named by `spec` (`hf:/path` or `hf:<cached id>`), its outputs mapped to `emotions`."""
    from transformers import AutoModelForAudioClassification

    kind, _, source = spec.partition(":")
    if kind != "hf" or not source:
        raise ValueError(f"--model takes hf:<checkpoint directory or cached model id>, got {spec!r}")
    # fp32 as for encoders: transformers 5 would otherwise keep a half-precision checkpoint's dtype
    model = load_pretrained(AutoModelForAudioClassification, source, dtype=torch.float32).eval()
    model_type = model.config.model_type
    settings = preprocessor_settings(source)
    name = f"model:{spec}"
    if model_type == "whisper":
        # WhisperForAudioClassification averages over the whole 30 s window, padding frames included
        encoder = WhisperLayers(model.encoder, name, settings, keep_full_window=True, checkpoint=source)
    elif model_type in WAV2VEC_FAMILY:
        encoder = Wav2Vec2FamilyLayers(model.base_model, name, settings, checkpoint=source)
    else:
        raise ValueError(
            f"{spec}: unsupported model_type {model_type!r}; supported: {', '.join(WAV2VEC_FAMILY + ('whisper',))}"
        )
    id2label = {int(index): label for index, label in model.config.id2label.items()}
    if getattr(model.config, "problem_type", None) == "regression":
        attributes = regression_attributes(id2label, spec)
        head = FinishedHead.from_classifier(model, encoder.num_layers, None).eval()
        for parameter in (*encoder.parameters(), *head.parameters()):
            parameter.requires_grad_(False)
        return FinishedModel(
            spec, encoder, head, tensor_digest(head), dict(enumerate(attributes)), attributes=attributes
        )
    try:
        groups = label_groups(id2label, tuple(emotions), label_overrides)
    except ValueError as error:
        raise ValueError(f"{spec}: {error}") from None
    head = FinishedHead.from_classifier(model, encoder.num_layers, groups).eval()
    for parameter in (*encoder.parameters(), *head.parameters()):
        parameter.requires_grad_(False)
    return FinishedModel(spec, encoder, head, tensor_digest(head), id2label)


def regression_attributes(id2label: dict[int, str], spec: str) -> tuple[str, ...]:
    """The attribute each output of a regression checkpoint stands for, in output order."""
    named = [canonical_attribute(id2label[index]) for index in sorted(id2label)]
    if all(named) and len(set(named)) == len(named):
        return tuple(named)
    if len(id2label) == len(ATTRIBUTES) and not any(named):
        return ATTRIBUTES  # audeering's order, for a checkpoint whose labels are LABEL_0..2
    raise ValueError(
        f"{spec}: a regression model's id2label must name its attributes ({', '.join(ATTRIBUTES)}), got {id2label}"
    )


register_format(
    "hf",
    load_finished_model,
    usage="hf:<checkpoint directory or cached model id>",
    # tiny random classifiers (trustser.encoders.tiny_checkpoints), labelled neu, hap, sad, ang
    checked_as=[on_tiny_checkpoint("hf:", "wav2vec2_classifier"), on_tiny_checkpoint("hf:", "whisper_classifier")],
)
