"""Hugging Face speech encoders: wav2vec 2.0, HuBERT, WavLM, data2vec-audio and Whisper's encoder.

`hf:<model id or local dir>` detects the family from the checkpoint's `config.model_type`; short names
(`wavlm`, `whisper_base`, ...) map to the usual base checkpoints. Loading is offline (see
`hf_loading`). The layers are the model's `output_hidden_states`: the CNN / embedding output fed to
the first transformer layer, then every layer's output, so num_layers = transformer layers + 1.
Everything runs in torch from the waveform, in eval mode (no dropout, layerdrop or SpecAugment).

wav2vec family. Inputs are normalised per utterance over its real samples when the checkpoint's
preprocessor config says `do_normalize`; without a preprocessor config the `Wav2Vec2FeatureExtractor`
default, True, applies (what `Wav2Vec2FeatureExtractor()` would do; HF's own loaders would instead
fail for lack of the file). Base-size checkpoints (`feat_extract_norm="group"`) GroupNorm their
first conv layer over time, so zero padding would shift every valid frame (HF merely advises not to
pass an attention mask to them); their conv stack therefore runs on each utterance unpadded, and
only the conv features are padded, with an attention mask, before the transformer.

Whisper. The encoder was only ever trained on exactly 30 s of log-mel (3000 frames, 1500 outputs), so
each utterance is zero-padded to 30 s, as `WhisperFeatureExtractor` does, and the output is cut to
the frames covering real audio, ceil(samples / 320). Truncating the positional embeddings to the
utterance's length (as the original study did) would instead show the model windows it never saw
and change what every frame attends to. Utterances over 30 s run as consecutive 30 s windows whose
frames are concatenated (attention does not cross windows). `keep_full_window=True` returns all
1500 frames of the first 30 s instead, unmasked, as `WhisperForAudioClassification` mean-pools them.

`window="trimmed"` (spec suffix `,window=trimmed`, e.g. `whisper_base:window=trimmed`) is the original
study's mode, for reproducing its numbers: each utterance runs alone, its log-mel only as long as its
audio, with the positional embeddings cut to match. A 2.5 s clip then costs 2.5 s of encoder work
instead of 30 s, at the price of inputs unlike any the model was trained on (docs/models.md).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from pathlib import Path

import torch
from torch import nn

from trustser.encoders.base import Encoder, frame_mask, sample_mask
from trustser.encoders.hf_loading import (
    checkpoint_fingerprint,
    load_pretrained,
    model_card_datasets,
    preprocessor_settings,
    resolve_model_source,
)
from trustser.encoders.registry import register
from trustser.encoders.whisper_frontend import WhisperLogMel, join_windows, split_into_windows
from trustser.specs.registrations import Example

WAV2VEC_FAMILY = ("wav2vec2", "hubert", "wavlm", "data2vec-audio")
SHORT_NAMES = {
    "wav2vec2_0": "facebook/wav2vec2-base",
    "wavlm": "microsoft/wavlm-base-plus",
    "hubert": "facebook/hubert-base-ls960",
    "whisper_tiny": "openai/whisper-tiny",
    "whisper_base": "openai/whisper-base",
    "whisper_small": "openai/whisper-small",
}
NORMALIZE_EPS = 1e-7  # Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm
# what the contract test checks: `hf:` on a tiny checkpoint of every family, each short name on one of its
# family (trustser.encoders.tiny_checkpoints), whisper_base in the study's trimmed windows
TINY_FAMILIES = ("wav2vec2_group", "wav2vec2_layer", "hubert", "wavlm", "data2vec_audio", "whisper")
# what each base checkpoint was pre-trained on, from its paper and model card (the card, where the
# local copy has one, may add more)
SHORT_NAME_DATASETS = {
    "wav2vec2_0": ("librispeech_asr",),
    "wavlm": ("libri-light", "gigaspeech", "voxpopuli"),
    "hubert": ("librispeech_asr",),
    "whisper_tiny": (),  # 680,000 hours of audio collected from the web, not published
    "whisper_base": (),
    "whisper_small": (),
}
SHORT_NAME_CHECKS = {
    "wav2vec2_0": ("wav2vec2_group", ""),
    "wavlm": ("wavlm", ""),
    "hubert": ("hubert", ""),
    "whisper_tiny": ("whisper", ""),
    "whisper_base": ("whisper", ",window=trimmed"),
    "whisper_small": ("whisper", ""),
}


def normalize_per_utterance(waveforms: torch.Tensor, lengths: torch.Tensor, eps: float = NORMALIZE_EPS) -> torch.Tensor:
    """Zero mean, unit (population) variance over each utterance's real samples; padding stays zero."""
    mask = sample_mask(lengths, waveforms.shape[-1])
    count = lengths.clamp_min(1)[:, None].to(waveforms)
    mean = (waveforms * mask).sum(-1, keepdim=True) / count
    variance = ((waveforms - mean) * mask).pow(2).sum(-1, keepdim=True) / count
    return (waveforms - mean) / torch.sqrt(variance + eps) * mask


class HFEncoder(Encoder):
    """A Hugging Face base model's hidden states behind the `Encoder` contract (always in eval mode)."""

    sample_rate = 16000
    differentiable = True

    def __init__(self, model: nn.Module, source: str, checkpoint: str | None = None):
        super().__init__()
        self.model = model
        self.name = source
        self.model_type = model.config.model_type
        self._checkpoint = checkpoint  # set when loaded from files: fingerprint hashes them
        if checkpoint is not None:
            self.trained_on = model_card_datasets(checkpoint)  # what its model card says it was trained on
        self._fingerprint: str | None = None
        self.eval()

    @classmethod
    def from_base_model(
        cls,
        base_model: nn.Module,
        config=None,
        feature_extractor_settings=None,
        source: str = "",
        keep_full_window: bool = False,
    ) -> "HFEncoder":
        """Wrap an already loaded model, sharing its weights (e.g. `Wav2Vec2ForSequenceClassification`'s
        `.wav2vec2` or `WhisperForAudioClassification`'s `.encoder`; whole task models work too).

        `feature_extractor_settings` is the preprocessor config (a dict or a feature extractor), or None.
        """
        config = config or base_model.config
        settings = getattr(feature_extractor_settings, "to_dict", lambda: feature_extractor_settings)()
        name = source or f"hf-module:{type(base_model).__name__}"
        if config.model_type == "whisper":
            encoder = getattr(base_model, "encoder", base_model)  # WhisperEncoder has no .encoder
            return WhisperLayers(encoder, name, settings, keep_full_window)
        if config.model_type in WAV2VEC_FAMILY:
            return Wav2Vec2FamilyLayers(base_model.base_model, name, settings)
        raise _unsupported(config.model_type, name)

    def train(self, mode: bool = True) -> "HFEncoder":
        return super().train(False)  # feature extraction only: dropout and layerdrop stay off

    def fingerprint(self) -> str:
        if self._checkpoint is None:
            return super().fingerprint()  # an in-memory model: hash its tensors
        if self._fingerprint is None:
            digest = hashlib.sha256(checkpoint_fingerprint(self._checkpoint).encode())
            digest.update(repr(sorted(self.config().items())).encode())
            digest.update(f"{self.sample_rate}|{self.num_layers}|{self.hidden_size}".encode())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint


class Wav2Vec2FamilyLayers(HFEncoder):
    def __init__(self, model: nn.Module, source: str, settings: dict | None, checkpoint: str | None = None):
        super().__init__(model, source, checkpoint)
        self.num_layers = model.config.num_hidden_layers + 1
        self.hidden_size = model.config.hidden_size
        self.do_normalize = bool((settings or {}).get("do_normalize", True))
        self.conv_per_utterance = any(isinstance(m, nn.GroupNorm) for m in model.feature_extractor.modules())
        self._no_adapter = (
            {"add_adapter": False}
            if "add_adapter" in inspect.signature(model._get_feat_extract_output_lengths).parameters
            else {}
        )

    def frame_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return self.model._get_feat_extract_output_lengths(lengths, **self._no_adapter).long()

    def _conv_features(self, waveforms: torch.Tensor, lengths: torch.Tensor, frames: int) -> torch.Tensor:
        """Conv feature encoder output [batch, frames, channels]."""
        if not self.conv_per_utterance:  # per-frame norms only: valid frames never see the padding
            return self.model.feature_extractor(waveforms)[..., :frames].transpose(1, 2)
        alone = [self.model.feature_extractor(waveforms[row : row + 1, :n]) for row, n in enumerate(lengths.tolist())]
        return torch.cat([nn.functional.pad(a, (0, frames - a.shape[-1])) for a in alone]).transpose(1, 2)

    def _hidden_states(self, projected: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        """The input of the first transformer layer and every layer's output, as `output_hidden_states`."""
        states: list[torch.Tensor] = []

        def record(module, args, output):
            if not states:
                states.append(args[0])
            states.append(output[0] if isinstance(output, tuple) else output)

        def keep_padding_zero(module, args, output):
            return output * mask[:, None, :].to(output)

        hooks = [layer.register_forward_hook(record) for layer in self.model.encoder.layers]
        # data2vec-audio stacks several positional convs: re-zero padding between them, or it leaks in
        hooks += [
            conv.register_forward_hook(keep_padding_zero)
            for conv in getattr(self.model.encoder.pos_conv_embed, "layers", [])
        ]
        try:
            self.model.encoder(projected, attention_mask=mask)
        finally:
            for hook in hooks:
                hook.remove()
        return states

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        waveforms = waveforms * sample_mask(lengths, waveforms.shape[-1])
        if self.do_normalize:
            waveforms = normalize_per_utterance(waveforms, lengths)
        frame_lengths = self.frame_lengths(lengths)
        if (frame_lengths < 1).any():
            raise ValueError(f"{self.name}: utterances of {lengths.min().item()} samples are too short for one frame")
        frames = int(frame_lengths.max())
        mask = frame_mask(frame_lengths, frames)
        projected = self.model.feature_projection(self._conv_features(waveforms, lengths, frames))
        projected = projected[0] if isinstance(projected, tuple) else projected  # some return (hidden, normed)
        layers = torch.stack(self._hidden_states(projected, mask), dim=1)
        return layers * mask[:, None, :, None], frame_lengths

    def config(self) -> dict:
        return {
            "model_type": self.model_type,
            "do_normalize": self.do_normalize,
            "normalize_eps": NORMALIZE_EPS,
            "conv": "per utterance" if self.conv_per_utterance else "batched",
            "layers": "output_hidden_states (layer-1 input, then each layer)",
        }


WHISPER_WINDOWS = ("full", "trimmed")


class WhisperLayers(HFEncoder):
    def __init__(
        self,
        encoder: nn.Module,
        source: str,
        settings: dict | None,
        keep_full_window: bool = False,
        checkpoint: str | None = None,
        *,
        window: str = "full",
    ):
        super().__init__(encoder, source, checkpoint)
        if window not in WHISPER_WINDOWS:
            raise ValueError(f"{source}: window={window!r}, expected one of {', '.join(WHISPER_WINDOWS)}")
        self.num_layers = encoder.config.encoder_layers + 1
        self.hidden_size = encoder.config.d_model
        self.keep_full_window = keep_full_window
        self.window = window
        self.frontend = WhisperLogMel(settings, n_mels=encoder.config.num_mel_bins)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        waveforms = waveforms * sample_mask(lengths, waveforms.shape[-1])
        if self.window == "trimmed":
            return self._trimmed(waveforms, lengths)
        windows, window_lengths, counts = split_into_windows(
            waveforms, lengths, self.frontend.window_samples, first_only=self.keep_full_window
        )
        states = self.model(self.frontend(windows), output_hidden_states=True).hidden_states
        layers = torch.stack(states, dim=1)  # [windows, layers, 1500, hidden]
        if self.keep_full_window:
            return layers, torch.full((len(counts),), layers.shape[2], device=layers.device)
        frame_lengths = self.model._get_feat_extract_output_lengths(self.frontend.frame_count(window_lengths))
        return join_windows(layers, frame_lengths, counts)

    def _trimmed(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each utterance's windows alone (no padding for attention to see), each cut to its audio."""
        step, outputs, counts = self.frontend.window_samples, [], []
        for wave, length in zip(waveforms, lengths.tolist()):
            starts = range(0, max(length, 1), step)
            outputs += [self._trimmed_window(wave[start : min(length, start + step)]) for start in starts]
            counts.append(len(starts))
        frame_lengths = torch.tensor([o.shape[1] for o in outputs], device=waveforms.device)
        longest = int(frame_lengths.max())
        layers = torch.stack([nn.functional.pad(o, (0, 0, 0, longest - o.shape[1])) for o in outputs])
        return join_windows(layers, frame_lengths, counts)

    def _trimmed_window(self, segment: torch.Tensor) -> torch.Tensor:
        """[layers, frames, hidden] of one window of at most 30 s, its positional embeddings cut to its length.

        The same computation as `WhisperEncoder.forward` (eval mode), which insists on exactly 30 s.
        """
        encoder = self.model
        mel = self.frontend(segment[None])  # [1, n_mels, samples // hop]
        hidden = nn.functional.gelu(encoder.conv2(nn.functional.gelu(encoder.conv1(mel)))).permute(0, 2, 1)
        hidden = hidden + encoder.embed_positions.weight[: hidden.shape[1]]
        states = [hidden]
        for layer in encoder.layers:
            output = layer(hidden, None)
            hidden = output[0] if isinstance(output, tuple) else output
            states.append(hidden)
        states[-1] = encoder.layer_norm(hidden)
        return torch.stack(states, dim=1)[0]

    def config(self) -> dict:
        window = {"window": self.window} if self.window != "full" else {}  # keeps the full mode's cache keys
        return {
            **window,
            "model_type": self.model_type,
            "keep_full_window": self.keep_full_window,
            "window_samples": self.frontend.window_samples,
            "n_fft": self.frontend.n_fft,
            "hop": self.frontend.hop,
            "n_mels": self.frontend.mel_filters.shape[0],
            "layers": "output_hidden_states (embedding output, then each layer; last after layer_norm)",
        }


def split_window_option(argument: str | None) -> tuple[str | None, str]:
    """`/models/whisper,window=trimmed` -> ("/models/whisper", "trimmed"); `window=trimmed` -> (None, "trimmed")."""
    if not argument:
        return argument, "full"
    head, _, tail = argument.rpartition(",")
    if tail.startswith("window="):
        return head or None, tail.removeprefix("window=")
    if argument.startswith("window="):
        return None, argument.removeprefix("window=")
    return argument, "full"


def load_hf_encoder(
    source: str, keep_full_window: bool = False, name: str | None = None, *, window: str = "full"
) -> HFEncoder:
    """The encoder of checkpoint `source` (a local directory, or a model id in the local HF cache).

    `window` applies to Whisper checkpoints only ("full" 30 s windows, or the study's "trimmed" ones).
    """
    resolve_model_source(source)  # a missing model fails here, before the slow transformers import
    from transformers import AutoConfig, AutoModel, WhisperForAudioClassification

    config = load_pretrained(AutoConfig, source)
    settings = preprocessor_settings(source)
    name = name or f"hf:{source}"
    # fp32 whatever the checkpoint was saved in (transformers 5 would otherwise load dtype="auto")
    if config.model_type == "whisper":  # via the classifier class: it loads the encoder and skips the decoder
        encoder = load_pretrained(WhisperForAudioClassification, source, dtype=torch.float32).encoder
        return WhisperLayers(encoder, name, settings, keep_full_window, checkpoint=source, window=window)
    if window != "full":
        raise ValueError(f"{source}: window={window} is an option of Whisper checkpoints, not of {config.model_type}")
    if config.model_type in WAV2VEC_FAMILY:
        model = load_pretrained(AutoModel, source, dtype=torch.float32)
        return Wav2Vec2FamilyLayers(model, name, settings, checkpoint=source)
    raise _unsupported(config.model_type, source)


def _unsupported(model_type: str, source: str) -> ValueError:
    return ValueError(
        f"{source}: unsupported model_type {model_type!r}; supported: {', '.join(WAV2VEC_FAMILY + ('whisper',))}"
    )


def on_tiny_checkpoint(prefix: str, checkpoint: str, suffix: str = "") -> Example:
    """The spec `<prefix><directory><suffix>` on the tiny checkpoint `checkpoint`, saved into the scratch directory."""

    def build(scratch: Path) -> str:
        from trustser.encoders.tiny_checkpoints import tiny_checkpoint

        return f"{prefix}{tiny_checkpoint(scratch, checkpoint)}{suffix}"

    return Example(f"{prefix}<tiny {checkpoint}>{suffix}", build)


@register("hf", checked_as=[on_tiny_checkpoint("hf:", family) for family in TINY_FAMILIES])
def create_hf(argument: str | None) -> Encoder:
    """`hf:<model id or local dir>[,window=trimmed]`, e.g. `hf:microsoft/wavlm-large` or `hf:/models/my-hubert`."""
    source, window = split_window_option(argument)
    if not source:
        raise ValueError("hf needs a checkpoint: hf:<model id or local directory>")
    return load_hf_encoder(source, name=f"hf:{argument}", window=window)


def _create_short(short_name: str, model_id: str, argument: str | None) -> Encoder:
    """`wavlm` loads microsoft/wavlm-base-plus; `wavlm:/path/to/dir` a local copy of it;
    `whisper_base:window=trimmed` the study's trimmed windows."""
    source, window = split_window_option(argument)
    name = short_name if window == "full" else f"{short_name}:window={window}"
    return load_hf_encoder(source or model_id, name=name, window=window)


for _short_name, _model_id in SHORT_NAMES.items():
    _checkpoint, _suffix = SHORT_NAME_CHECKS[_short_name]
    register(
        _short_name,
        checked_as=[on_tiny_checkpoint(f"{_short_name}:", _checkpoint, _suffix)],
        trained_on=SHORT_NAME_DATASETS[_short_name],
    )(functools.partial(_create_short, _short_name, _model_id))
