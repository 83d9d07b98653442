"""A SpeechBrain classifier, audited as it is: `--model speechbrain:DIR` (optional extra: `pip install
'trustser[speechbrain]'`).

DIR is a local copy of a SpeechBrain model repository (e.g. `hf download
speechbrain/emotion-recognition-wav2vec2-IEMOCAP --local-dir DIR`): `hyperparams.yaml`, the checkpoints its
`pretrainer` names, `label_encoder.txt`, and for a model its card loads with `foreign_class`, the interface
module (`custom_interface.py`). Without one, DIR loads as `EncoderClassifier.from_hparams(DIR)`; with one
Python module in DIR that defines a SpeechBrain interface class, as `foreign_class(DIR, pymodule_file=...,
classname=...)`; `speechbrain:DIR/module.py:ClassName` names the class where DIR has several.

Offline: fetching may not use the network, nothing is written into DIR or elsewhere (no savedir: files are
read where they are), and a `pretrained_path` in the hyperparameters (where SpeechBrain's model
repositories say their checkpoints are, as a hub id) is pointed at DIR. Modules the hyperparameters build
from other hubs (the IEMOCAP model's wav2vec 2.0 encoder) come from the local Hugging Face cache.

The model is the interface's `classify_batch(wavs, wav_lens)`: its first output (log-posteriors, for
EncoderClassifier and the usual interfaces) are the logits (for EncoderClassifier computed as it does, the
classifier on `encode_batch`, without decoding the label, which needs a label encoder), and `encode_batch`'s
embedding the hidden state privacy attacks (trustser.models.finished.torch_model's protocol). Each utterance
runs alone, with relative length 1, as `classify_file` runs a file: batch padding would reach its features
(per-batch normalisation, convolutions across the end of the utterance), under a fixed torch seed:
SpeechBrain's StatisticsPooling (the IEMOCAP model's `avg_pool`, x-vectors) adds up to 9e-5 of fresh random
noise to the mean at every call, in eval mode too, and the audit needs one answer per input (the noise is
fixed, not removed).

Labels are the label encoder's (`label_encoder.txt`, `'neu' => 0`); without one the outputs are named 0,
1, ... and `--model-labels 0=neutral,...` maps them. `min_seconds` is the shortest of `PROBE_SECONDS` the
model answers on load: SpeechBrain models declare none, and their convolutions refuse a few frames.

torchaudio: see trustser.models.finished.speechbrain_import, which imports speechbrain where torchaudio cannot
be.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import torch
from torch import nn

from trustser.corpora.audio import MIN_SECONDS
from trustser.encoders.hf_loading import ModelNotAvailable
from trustser.models.finished.formats import register_format
from trustser.models.finished.model import FinishedModel
from trustser.models.finished.speechbrain_import import (  # noqa: F401 (MissingTorchaudio: named here too)
    INSTALL_HINT,
    MissingTorchaudio,
    SpeechBrainNotInstalled,
    speechbrain_importable,
)
from trustser.models.finished.torch_model import as_finished_model
from trustser.specs.registrations import Example, Unavailable

HPARAMS = "hyperparams.yaml"
LABEL_ENCODER = "label_encoder.txt"
INTERFACE_BASES = {"Pretrained", "EncoderClassifier", "AudioClassifier"}  # what a custom interface derives from
PROBE_SECONDS = (MIN_SECONDS, 0.05, 0.1, 0.25, 0.5, 1.0)  # where the shortest input the model answers is sought
NOISE_SEED = 0  # StatisticsPooling's noise, fixed (see the module docstring)


class SpeechBrainModel(nn.Module):
    """A loaded SpeechBrain interface keeping the `torch:` model protocol (trustser.models.finished.torch_model)."""

    def __init__(self, interface: nn.Module, labels: list[str], sample_rate: int):
        super().__init__()
        self.interface, self.labels, self.sample_rate = interface, labels, sample_rate
        from speechbrain.inference.classifiers import EncoderClassifier

        # EncoderClassifier's classify_batch is its classifier on encode_batch, then decoding the label, which
        # needs a label encoder: computed here without the decoding (and the embedding once)
        self.plain = isinstance(interface, EncoderClassifier) and (
            type(interface).classify_batch is EncoderClassifier.classify_batch
        )

    def _answer(self, wave: torch.Tensor, whole: torch.Tensor, hidden: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits [1, labels], embedding [1, dim] or None) of one utterance."""
        if self.plain:
            embedding = self.interface.encode_batch(wave, whole)
            return self.interface.mods.classifier(embedding).reshape(1, -1), embedding.reshape(1, -1)
        logits = self.interface.classify_batch(wave, whole)[0].reshape(1, -1)
        if not hidden:
            return logits, None
        torch.manual_seed(NOISE_SEED)  # the same noise as classify_batch's own encode_batch drew
        return logits, self.interface.encode_batch(wave, whole).reshape(1, -1)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor, output_hidden_states: bool = False):
        self.interface.device = str(waveforms.device)  # interfaces move their inputs to `device`
        devices = [waveforms.device] if waveforms.device.type == "cuda" else []
        logits, embeddings = [], []
        for row, samples in enumerate(lengths.tolist()):
            wave, whole = waveforms[row : row + 1, :samples], torch.ones(1, device=waveforms.device)
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(NOISE_SEED)
                answer, embedding = self._answer(wave, whole, output_hidden_states)
            logits.append(answer)
            embeddings.append(embedding)
        if output_hidden_states:
            return torch.cat(logits), (torch.cat(embeddings),)
        return torch.cat(logits)


def interface_of(target: Path) -> tuple[Path, str | None, str | None]:
    """(DIR, module file, class) of `speechbrain:` TARGET: DIR, DIR/module.py or DIR/module.py:Class; the
    module and class are None for EncoderClassifier."""
    path, _, classname = str(target).partition(".py:")
    if classname:
        module = Path(path + ".py")
        return module.parent, module.name, classname
    if target.suffix == ".py":
        return target.parent, target.name, None
    if not (target / HPARAMS).is_file():
        return target, None, None  # reported by the caller
    found = [(module.name, name) for module in sorted(target.glob("*.py")) for name in _interface_classes(module)]
    if len(found) > 1:
        named = ", ".join(f"speechbrain:{target / module}:{name}" for module, name in found)
        raise ValueError(f"{target} defines several SpeechBrain interfaces; name one: {named}")
    return (target, *found[0]) if found else (target, None, None)


def _interface_classes(module: Path) -> list[str]:
    """The classes `module` defines on a SpeechBrain interface base, read without running it."""
    try:
        tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    except SyntaxError as error:
        raise ValueError(f"{module}: not valid Python: {error}") from None
    bases = lambda node: {getattr(base, "attr", getattr(base, "id", "")) for base in node.bases}  # noqa: E731
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef) and bases(node) & INTERFACE_BASES]


def load_interface(directory: Path, module: str | None, classname: str | None) -> nn.Module:
    """The SpeechBrain interface in `directory`, loaded offline, in eval mode; call within `speechbrain_importable`."""
    from hyperpyyaml import load_hyperpyyaml  # noqa: F401  (speechbrain's own dependency)
    from speechbrain.inference.classifiers import EncoderClassifier
    from speechbrain.inference.interfaces import foreign_class
    from speechbrain.utils.fetching import FetchConfig

    hparams_text = (directory / HPARAMS).read_text(encoding="utf-8")
    overrides = {"pretrained_path": str(directory)} if "\npretrained_path:" in f"\n{hparams_text}" else {}
    options = {"source": str(directory), "savedir": None, "fetch_config": FetchConfig(allow_network=False)}
    try:
        if module is None:
            interface = EncoderClassifier.from_hparams(overrides=overrides, **options)
        else:
            if classname is None:
                found = _interface_classes(directory / module)
                if len(found) != 1:
                    raise ValueError(f"{directory / module} defines {found or 'no'} SpeechBrain interfaces: name one")
                classname = found[0]
            interface = foreign_class(pymodule_file=module, classname=classname, overrides=overrides, **options)
    except (ValueError, KeyError, ImportError, OSError):
        raise  # what a bad spec raises: reported as it is (a missing checkpoint names its file)
    except Exception as error:  # hyperpyyaml and the modules it builds raise what they raise
        raise ValueError(
            f"{directory}: SpeechBrain could not load the model: {type(error).__name__}: {error}"
        ) from error
    for value in vars(interface.hparams).values():  # modules the interface uses through hparams (pooling, softmax)
        if isinstance(value, nn.Module):
            value.eval()
    return interface.eval()


def labels_of(interface: nn.Module, directory: Path) -> list[str] | None:
    """The label encoder's labels in output order: the interface's (its hparams), else DIR/label_encoder.txt."""
    encoder = getattr(interface.hparams, "label_encoder", None)
    if encoder is None and (directory / LABEL_ENCODER).is_file():
        from speechbrain.dataio.encoder import CategoricalEncoder

        encoder = CategoricalEncoder()
        encoder.load(directory / LABEL_ENCODER)
    ind2lab = getattr(encoder, "ind2lab", None) or {}
    return [str(ind2lab[index]) for index in sorted(ind2lab)] or None


def load_speechbrain_model(spec: str, emotions: tuple[str, ...], label_overrides: dict[str, str]) -> FinishedModel:
    """The model `spec` (`speechbrain:DIR`, `speechbrain:DIR/module.py[:Class]`) names, mapped to `emotions`."""
    target = Path(spec.partition(":")[2]).expanduser()
    with speechbrain_importable():  # first: a missing package is the first thing to fix
        directory, module, classname = interface_of(target)
        if not (directory / HPARAMS).is_file():
            raise ModelNotAvailable(
                f"{target} is not a SpeechBrain model directory: pass the directory holding {HPARAMS} and its "
                "checkpoints (a downloaded copy of the model's repository)"
            )
        interface = load_interface(directory, module, classname)
        labels = labels_of(interface, directory)
        sample_rate = int(getattr(getattr(interface, "audio_normalizer", None), "sample_rate", 16000))
        model = SpeechBrainModel(interface, labels or ["0", "1"], sample_rate).eval()
        model.min_seconds, outputs = shortest_answered(model, spec)
        if labels is None:  # outputs named by index, for --model-labels
            model.labels = [str(index) for index in range(outputs)]
        return as_finished_model(model, spec, emotions, label_overrides)


def shortest_answered(model: SpeechBrainModel, spec: str) -> tuple[float, int]:
    """The shortest of `PROBE_SECONDS` the model answers (SpeechBrain models declare no shortest input, and
    their convolutions refuse a few frames), and its number of outputs; ValueError when it answers none."""
    for seconds in PROBE_SECONDS:
        wave = 0.01 * torch.randn(1, round(seconds * model.sample_rate), generator=torch.Generator().manual_seed(0))
        try:
            with torch.no_grad():
                return seconds, model(wave, torch.tensor([wave.shape[1]])).shape[-1]
        except RuntimeError as error:
            failure = error
    raise ValueError(f"{spec}: classify_batch fails on {PROBE_SECONDS[-1]:g} s of quiet noise: {failure}")


def on_tiny_speechbrain(kind: str) -> Example:
    """`speechbrain:<dir>` on a tiny random SpeechBrain model of `kind` (trustser.models.finished.tiny_speechbrain)."""

    def build(scratch: Path) -> str:
        if importlib.util.find_spec("speechbrain") is None:
            raise Unavailable(f"speechbrain is an optional extra: {INSTALL_HINT}")
        from trustser.models.finished.tiny_speechbrain import save_tiny_speechbrain

        return f"speechbrain:{save_tiny_speechbrain(scratch / kind, kind)}"

    return Example(f"speechbrain:<tiny {kind}>", build)


register_format(
    "speechbrain",
    load_speechbrain_model,
    usage="speechbrain:<model directory>",
    # EncoderClassifier (an ECAPA-TDNN, as SpeechBrain's classifiers) and a foreign_class interface (as IEMOCAP's)
    checked_as=[on_tiny_speechbrain("encoder_classifier"), on_tiny_speechbrain("custom_interface")],
)
