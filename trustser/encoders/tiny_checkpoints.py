"""Tiny, randomly initialised Hugging Face checkpoints of every supported family, saved like real ones.

Tests load them through `trustser.encoders.create("hf:<dir>")` exactly as users load real models, so
offline loading, config detection and preprocessor settings are exercised without any download.
Sizes are minimal (hidden 32, 2 layers, 2 heads) but the wav2vec-family conv stacks keep the real
kernels and strides (320 samples per frame) and Whisper keeps its 80 mel bins and 30 s window, so
frame-length arithmetic is the real one. The Hugging Face encoders and the `hf:` model format build
their contract-test examples with `tiny_checkpoint`; tests/encoders/tiny_checkpoints.py has the fixture.
transformers is imported inside the functions: it is an extra of the `hf` encoders only.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

EMOTIONS = {0: "neu", 1: "hap", 2: "sad", 3: "ang"}
SEED = 0
_SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
_CONV = dict(
    conv_dim=(16,) * 7,
    conv_kernel=(10, 3, 3, 3, 3, 2, 2),
    conv_stride=(5, 2, 2, 2, 2, 2, 2),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=2,
    vocab_size=8,
)


def _wav2vec_family_config(model_type: str, **overrides):
    from transformers import Data2VecAudioConfig, HubertConfig, Wav2Vec2Config, WavLMConfig

    config_class = {
        "wav2vec2": Wav2Vec2Config,
        "hubert": HubertConfig,
        "wavlm": WavLMConfig,
        "data2vec-audio": Data2VecAudioConfig,
    }[model_type]
    settings = {**_SMALL, **_CONV, **overrides}
    if model_type == "data2vec-audio":  # its positional conv is a stack of small convs
        settings.update(num_conv_pos_embeddings=5, conv_pos_kernel_size=5, num_conv_pos_embedding_layers=2)
        settings.pop("feat_extract_norm", None)
    return config_class(**settings)


def _whisper_config(**overrides):
    from transformers import WhisperConfig

    return WhisperConfig(
        d_model=32,
        encoder_layers=2,
        encoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_layers=1,
        decoder_attention_heads=2,
        decoder_ffn_dim=64,
        num_mel_bins=80,
        vocab_size=64,
        max_target_positions=16,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
        suppress_tokens=None,
        begin_suppress_tokens=None,
        **overrides,
    )


def _with_labels() -> dict:
    return dict(id2label=dict(EMOTIONS), label2id={v: k for k, v in EMOTIONS.items()}, classifier_proj_size=16)


def save_wav2vec_family(
    directory: Path,
    model_type: str,
    do_normalize: bool | None = True,
    classifier: bool = False,
    regression: bool = False,
    **config_overrides,
) -> Path:
    """A tiny base model (or `...ForSequenceClassification` with `classifier`; with `regression`, one of
    `problem_type="regression"` with three outputs, an attribute model) plus, unless `do_normalize` is None,
    a `Wav2Vec2FeatureExtractor` preprocessor config."""
    from transformers import AutoModel, AutoModelForAudioClassification, Wav2Vec2FeatureExtractor

    torch.manual_seed(SEED)
    extra = _with_labels() if classifier else {}
    if regression:
        classifier, extra = True, dict(num_labels=3, problem_type="regression", classifier_proj_size=16)
    config = _wav2vec_family_config(model_type, **config_overrides, **extra)
    model = (AutoModelForAudioClassification if classifier else AutoModel).from_config(config)
    model.save_pretrained(directory)
    if do_normalize is not None:
        Wav2Vec2FeatureExtractor(do_normalize=do_normalize, return_attention_mask=True).save_pretrained(directory)
    return directory


def save_whisper(directory: Path, classifier: bool = False, window_seconds: int = 30) -> Path:
    """A tiny Whisper (encoder-decoder, or `WhisperForAudioClassification`) with its feature extractor.

    `window_seconds` below Whisper's 30 s shrinks the window (and the positional table) to match:
    the end-to-end audit tests use 3 s windows, ten times less compute per attack step.
    """
    from transformers import WhisperFeatureExtractor, WhisperForAudioClassification, WhisperModel

    torch.manual_seed(SEED)
    window = {"max_source_positions": 50 * window_seconds}  # 100 mel frames per second, conv stride 2
    if classifier:
        model = WhisperForAudioClassification(_whisper_config(**_with_labels(), **window))
    else:
        model = WhisperModel(_whisper_config(**window))
    model.save_pretrained(directory)
    WhisperFeatureExtractor(feature_size=80, chunk_length=window_seconds).save_pretrained(directory)
    return directory


TINY_CHECKPOINTS = {
    "wav2vec2_group": lambda d: save_wav2vec_family(d, "wav2vec2", feat_extract_norm="group"),
    "wav2vec2_layer": lambda d: save_wav2vec_family(
        d, "wav2vec2", feat_extract_norm="layer", do_stable_layer_norm=True
    ),
    "hubert": lambda d: save_wav2vec_family(d, "hubert", do_normalize=False, feat_extract_norm="group"),
    "wavlm": lambda d: save_wav2vec_family(
        d, "wavlm", feat_extract_norm="group", num_buckets=32, max_bucket_distance=64
    ),
    # no preprocessor config: the Wav2Vec2FeatureExtractor default (do_normalize=True) applies
    "data2vec_audio": lambda d: save_wav2vec_family(d, "data2vec-audio", do_normalize=None),
    "whisper": save_whisper,
    "wav2vec2_classifier": lambda d: save_wav2vec_family(d, "wav2vec2", classifier=True, feat_extract_norm="group"),
    "whisper_classifier": lambda d: save_whisper(d, classifier=True),
}
"""Name -> a function saving that tiny checkpoint into a directory."""


def tiny_checkpoint(root: Path, name: str) -> Path:
    """`root / name`, holding the tiny checkpoint `name` (saved there unless it already is; never half-written)."""
    directory = Path(root) / name
    if not directory.is_dir():
        staging = Path(root) / f".{name}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        TINY_CHECKPOINTS[name](staging)
        os.replace(staging, directory)
    return directory


def build_tiny_checkpoints(root: Path) -> dict[str, Path]:
    """Save every tiny checkpoint under `root`; returns name -> directory."""
    return {name: tiny_checkpoint(root, name) for name in TINY_CHECKPOINTS}
