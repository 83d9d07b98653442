"""A tiny PyTorch SER model and its ONNX export, as a team would ship it: what the `onnx:` format is
contract-checked with, and what the export-parity tests compare (`--model onnx:<its export>` against
`torch:trustser.models.finished.tiny_onnx:tiny_conv_model`). A helper module: it registers no format.

The model standardises each waveform, frames it with a strided convolution, averages tanh of the frames and
classifies the average (its hidden state). `export_tiny_model` writes it with `torch.onnx.export` as
`model.onnx` (input `signal` [1, samples], outputs `logits` and `hidden_states`), or as an `audonnx` folder
(model.yaml naming the labels beside model.onnx); `flaw=` plants what an unfaithful export gets wrong:
`"weight"` (a classifier weight changed) or `"normalisation"` (the waveform standardisation left out).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

WINDOW, HOP = 400, 160  # 25 ms frames every 10 ms at 16 kHz
FLAWS = ("weight", "normalisation")


class TinyConvSER(nn.Module):
    sample_rate = 16000
    labels = ["neu", "hap", "sad", "ang"]
    min_seconds = WINDOW / 16000

    def __init__(self, *, normalise: bool = True):
        super().__init__()
        self.normalise = normalise
        with torch.random.fork_rng():
            torch.manual_seed(0)
            self.frames = nn.Conv1d(1, 8, WINDOW, stride=HOP)
            self.classifier = nn.Linear(8, len(self.labels))

    def utterance(self, signal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, hidden state) of unpadded waveforms [batch, samples] of one length."""
        if self.normalise:
            signal = (signal - signal.mean(-1, keepdim=True)) / (signal.std(-1, keepdim=True) + 1e-5)
        hidden = torch.tanh(self.frames(signal[:, None, :])).mean(-1)
        return self.classifier(hidden), hidden

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor, output_hidden_states: bool = False):
        answers = [self.utterance(waveforms[row : row + 1, : int(n)]) for row, n in enumerate(lengths)]
        logits = torch.cat([logits for logits, _ in answers])
        return (logits, (torch.cat([hidden for _, hidden in answers]),)) if output_hidden_states else logits


class _Graph(nn.Module):
    """What is exported: one utterance's waveform [1, samples] to (logits, hidden_states)."""

    def __init__(self, model: TinyConvSER):
        super().__init__()
        self.model = model

    def forward(self, signal: torch.Tensor):
        return self.model.utterance(signal)


def tiny_conv_model() -> TinyConvSER:
    return TinyConvSER()


def export_tiny_model(directory: Path, *, audonnx_folder: bool = False, flaw: str | None = None) -> Path:
    """TinyConvSER exported into `directory` (created): `model.onnx`, or with `audonnx_folder` the folder
    holding model.yaml and model.onnx; returns the path `--model onnx:` takes."""
    if flaw not in (None, *FLAWS):
        raise ValueError(f"flaw is one of {FLAWS}, got {flaw!r}")
    model = TinyConvSER(normalise=flaw != "normalisation").eval()
    if flaw == "weight":
        with torch.no_grad():
            model.classifier.weight[0] += 3.0  # the first emotion's logit shifts with every hidden unit
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    graph = directory / "model.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note that the TorchScript exporter is the legacy one
        torch.onnx.export(
            _Graph(model),
            (torch.zeros(1, 16000),),
            str(graph),
            input_names=["signal"],
            output_names=["logits", "hidden_states"],
            dynamic_axes={"signal": {1: "samples"}},
            dynamo=False,
        )
    if not audonnx_folder:
        return graph
    (directory / "model.yaml").write_text(_model_yaml(TinyConvSER.labels))
    return directory


def _model_yaml(labels: list[str]) -> str:
    """model.yaml as `audonnx.Model(path, labels={"logits": labels}).to_yaml(...)` writes it (audonnx 1.0)."""
    lines = ["$audonnx.core.model.Model==1.0.1:", "  path: model.onnx", "  labels:", "    logits:"]
    return "\n".join([*lines, *(f"    - {label}" for label in labels), "  transform: null", ""])
