"""emotion2vec and emotion2vec+ (FunASR), from a local model directory (optional extra: `pip install
'trustser[emotion2vec]'`): `--backbone emotion2vec:DIR` audits its frame features with our trained heads,
`--model emotion2vec:DIR` (trustser.models.finished.emotion2vec) the model with its own classifier.

DIR is what FunASR's `AutoModel(model=DIR)` reads from a local path, e.g. a downloaded copy of
`emotion2vec/emotion2vec_plus_base`: `config.yaml` (`model: Emotion2vec` and its `model_conf`) beside
`model.pt`, and for a finished model `tokens.txt` (its labels, one a line); or ModelScope's
`configuration.json` naming those files. It is loaded offline: a directory is never looked up on a hub.

The layers are the input of the first transformer block (conv front end, positional convolution and the
prenet blocks), then every block's output, the last as `extract_features` returns it (after the final
norm, where the model has one): depth + 1 layers of `embed_dim` (768 for the base models) at 50 frames a
second, without the extra tokens, as FunASR removes them. Each utterance runs alone, as FunASR's own
inference does: it layer-normalises the waveform over the whole utterance (`normalize: true`), and ALiBi
attention and the conv front end would otherwise see the batch's padding. Gradients reach the waveform; a
`local_grad_mult` other than 1 (a training-time scale of the conv front end's gradient, 0 freezing it under
`no_grad`) is set to 1, which changes no output.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional

from trustser.encoders.base import Encoder
from trustser.encoders.funasr_import import INSTALL_HINT, auto_model_class, quiet_and_seeded
from trustser.encoders.hf_loading import ModelNotAvailable, card_datasets
from trustser.encoders.registry import register
from trustser.specs.registrations import Example, Unavailable

MODEL_FILES = ("config.yaml", "configuration.json", "model.pt", "tokens.txt")  # what the fingerprint hashes
SAMPLE_RATE = 16000


@dataclass
class LoadedEmotion2vec:
    model: nn.Module  # FunASR's Emotion2vec
    tokens: list[str]  # tokens.txt, in output order ([] for a model without a classifier)
    directory: Path
    grad_mult: float  # the checkpoint's local_grad_mult, before it was set to 1


def load_emotion2vec(source: str) -> LoadedEmotion2vec:
    """The emotion2vec model in the local directory `source`, loaded with FunASR's AutoModel on the CPU;
    `SpecError`s naming what is missing (funasr, the directory, its weights, weights matching the config)."""
    AutoModel = auto_model_class()  # first: a missing package is the first thing to fix
    directory = Path(source).expanduser()
    has_config = (directory / "config.yaml").is_file() or (directory / "configuration.json").is_file()
    if not has_config:
        raise ModelNotAvailable(
            f"{source!r} is not a FunASR model directory: pass the directory holding config.yaml and model.pt "
            "(a downloaded copy, e.g. `hf download emotion2vec/emotion2vec_plus_base --local-dir DIR`)"
        )
    if not (directory / "configuration.json").is_file() and not (directory / "model.pt").is_file():
        raise ModelNotAvailable(f"{directory}: no model.pt beside config.yaml")
    with quiet_and_seeded() as printed:
        try:
            auto = AutoModel(
                model=str(directory.resolve()),
                device="cpu",
                disable_update=True,  # no version check over the network
                ncpu=torch.get_num_threads(),  # AutoModel would otherwise set torch's thread count
                log_level="ERROR",
                ignore_init_mismatch=False,  # a weight of the wrong shape is an error, not left random
            )
        except (RuntimeError, AssertionError, KeyError) as error:
            raise ValueError(f"{directory}: FunASR could not build the model: {error}") from error
    _check_loaded(auto, directory, printed.getvalue())
    model = auto.model.eval()
    audio = model.modality_encoders["AUDIO"]
    grad_mult = float(audio.local_grad_mult)
    audio.local_grad_mult = 1.0  # the same forward; gradients reach the waveform (see the module docstring)
    tokenizer = auto.kwargs.get("tokenizer")
    tokens = [str(token) for token in getattr(tokenizer, "token_list", None) or []]
    return LoadedEmotion2vec(model, tokens, directory, grad_mult)


def _check_loaded(auto, directory: Path, printed: str) -> None:
    """FunASR warns and goes on with random weights where the checkpoint is missing or lacks some."""
    if type(auto.model).__name__ != "Emotion2vec":
        raise ValueError(f"{directory}: config.yaml declares model {type(auto.model).__name__}, not Emotion2vec")
    init_param = auto.kwargs.get("init_param")
    if not init_param or not Path(init_param).is_file():
        raise ModelNotAvailable(f"{directory}: the weights {init_param or 'model.pt'} do not exist")
    missing = [line.split("miss key in ckpt: ")[1].split(",")[0] for line in printed.splitlines() if "miss key" in line]
    if missing:
        raise ValueError(
            f"{init_param} lacks {len(missing)} weights of the model config.yaml declares (e.g. {missing[0]}): "
            "the checkpoint does not belong to this config"
        )


def shortest_input(conv_layers: list[tuple[int, int, int]]) -> int:
    """The fewest samples for which the conv front end `[(channels, kernel, stride), ...]` gives one frame."""
    samples = 1
    for _, kernel, stride in reversed(conv_layers):
        samples = (samples - 1) * stride + kernel
    return samples


class Emotion2vecLayers(Encoder):
    """emotion2vec's transformer layers behind the `Encoder` contract (always in eval mode)."""

    sample_rate = SAMPLE_RATE
    differentiable = True

    def __init__(self, loaded: LoadedEmotion2vec, *, name: str):
        super().__init__()
        self.model, self.name, self.directory = loaded.model, name, loaded.directory
        audio = self.model.modality_encoders["AUDIO"]
        self.extra_tokens = int(audio.modality_cfg.num_extra_tokens)
        self.normalize = bool(self.model.cfg.get("normalize", False))
        self.grad_mult = loaded.grad_mult
        self.num_layers = len(self.model.blocks) + 1
        self.hidden_size = int(self.model.cfg.get("embed_dim"))
        self.min_seconds = shortest_input(audio.feature_enc_layers) / SAMPLE_RATE
        self.trained_on = card_datasets(loaded.directory / "README.md")  # a copy of the Hub repository has its card
        self._fingerprint: str | None = None
        self.eval()

    def train(self, mode: bool = True) -> "Emotion2vecLayers":
        return super().train(False)  # feature extraction only: dropout and layerdrop stay off

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outputs = [self._utterance(waveforms[row, :n]) for row, n in enumerate(lengths.tolist())]
        frame_lengths = torch.tensor([output.shape[1] for output in outputs], device=waveforms.device)
        longest = int(frame_lengths.max())
        layers = torch.stack([functional.pad(output, (0, 0, 0, longest - output.shape[1])) for output in outputs])
        return layers, frame_lengths

    def _utterance(self, wave: torch.Tensor) -> torch.Tensor:
        """[layers, frames, hidden] of one unpadded waveform, as FunASR's inference computes it."""
        source = wave[None]
        if self.normalize:
            source = functional.layer_norm(source, source.shape)
        states: list[torch.Tensor] = []
        hooks = [self.model.blocks[0].register_forward_pre_hook(lambda module, args: states.append(args[0]))]
        hooks += [
            block.register_forward_hook(lambda m, a, output: states.append(output[0]))
            for block in self.model.blocks[:-1]
        ]
        try:
            final = self.model.extract_features(source, padding_mask=None)["x"]
        finally:
            for hook in hooks:
                hook.remove()
        layers = [state[:, self.extra_tokens :] for state in states] + [final]
        return torch.cat(layers)

    def config(self) -> dict:
        return {
            "normalize": self.normalize,
            "extra_tokens": self.extra_tokens,
            "local_grad_mult": self.grad_mult,
            "run": "each utterance alone",
            "layers": "input of block 1, then each block's output (last as extract_features returns it)",
        }

    def fingerprint(self) -> str:
        """The model directory's files and the settings, not every tensor (as for Hugging Face checkpoints)."""
        if self._fingerprint is None:
            digest = hashlib.sha256(repr(sorted(self.config().items())).encode())
            digest.update(f"{self.name}|{self.sample_rate}|{self.num_layers}|{self.hidden_size}".encode())
            for name in MODEL_FILES:
                path = self.directory / name
                if path.is_file():
                    digest.update(name.encode())
                    with path.open("rb") as handle:
                        digest.update(hashlib.file_digest(handle, "sha256").digest())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint


def on_tiny_emotion2vec(prefix: str, *, classifier: bool) -> Example:
    """`<prefix><dir>` on a tiny random emotion2vec written into the scratch directory; unavailable without funasr."""

    def build(scratch: Path) -> str:
        if importlib.util.find_spec("funasr") is None:
            raise Unavailable(f"emotion2vec is an optional extra: {INSTALL_HINT}")
        from trustser.encoders.tiny_emotion2vec import save_tiny_emotion2vec

        return f"{prefix}{save_tiny_emotion2vec(scratch / 'emotion2vec', classifier=classifier)}"

    return Example(f"{prefix}<tiny emotion2vec{'+' if classifier else ''}>", build)


@register("emotion2vec", checked_as=[on_tiny_emotion2vec("emotion2vec:", classifier=False)])
def create_emotion2vec(argument: str | None) -> Encoder:
    """`emotion2vec:/path/to/model_dir`."""
    auto_model_class()
    if not argument:
        raise ValueError("emotion2vec needs a local model directory: emotion2vec:/path/to/emotion2vec_plus_base")
    return Emotion2vecLayers(load_emotion2vec(argument), name=f"emotion2vec:{argument}")
