"""An exported SER model, audited as it ships: `--model onnx:PATH[,input=,logits=,hidden=,labels=,rate=]`.

PATH is a `.onnx` file or an `audonnx` folder (onnx_files.py says what is read from them). The graph runs in
onnxruntime, on its CPU provider, or its CUDA provider when the audit runs on a GPU (`--device cuda`); an
audonnx folder runs through `audonnx` when it is installed (its input transform applied), else through
onnxruntime with model.yaml read as YAML (a folder that declares a transform then needs audonnx).

The graph is wrapped in the `torch:` protocol (torch_model.py) and audited like any torch model: each
utterance is fed alone, at its own length (a graph sees no padding, whatever its batch axis), its logits are
the model's answer and its hidden-state output (`hidden_states`, or the one `hidden=` names), pooled over
frames if it has them, the representation privacy attacks. Gradients cannot reach the waveform through
onnxruntime: `differentiable` is False, so the white-box attacks and the FLOP count SKIP naming ONNX, and the
safety pillar runs the black-box search and the transfer attack from a differentiable surrogate instead. The
parameter count is that of the graph's initialisers (`external_parameters`, read by the sustainability pillar).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from trustser.models.finished.formats import register_format
from trustser.models.finished.onnx_files import INSTALL, OnnxFiles, import_onnx, read_files
from trustser.models.finished.torch_model import as_finished_model
from trustser.specs.registrations import Example, Unavailable

NOT_DIFFERENTIABLE = "an ONNX graph run by onnxruntime, outside torch: no gradient reaches the waveform"


class OnnxRunner:
    """The graph's sessions, made on first use: (logits, hidden) of one waveform.

    One per device and torch thread count: a session keeps the threads it was made with, and the audit runs
    inference on as many threads as torch is given (one while the sustainability pillar measures)."""

    def __init__(self, files: OnnxFiles):
        self.files = files
        self._sessions: dict[tuple[str, int], object] = {}

    def session(self, device: torch.device):
        key = (str(device), torch.get_num_threads())
        if key not in self._sessions:
            self._sessions[key] = self._open(device)
        return self._sessions[key]

    def _open(self, device: torch.device):
        _, onnxruntime = import_onnx()
        providers = ["CPUExecutionProvider"]
        if device.type == "cuda":
            if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
                raise RuntimeError(
                    f"{self.files.graph}: --device cuda, but this onnxruntime has no CUDAExecutionProvider "
                    f"({', '.join(onnxruntime.get_available_providers())}); install onnxruntime-gpu or use --device cpu"
                )
            providers = [("CUDAExecutionProvider", {"device_id": device.index or 0}), "CPUExecutionProvider"]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = torch.get_num_threads()
        if self.files.folder is not None and _audonnx() is not None:
            return _audonnx().load(str(self.files.folder), device=providers, session_options=options)
        if self.files.transformed:
            raise ImportError(
                f"{self.files.folder / 'model.yaml'} declares an input transform, which only audonnx applies: "
                f"{INSTALL} (or pip install audonnx)"
            )
        return onnxruntime.InferenceSession(str(self.files.graph), sess_options=options, providers=providers)

    def __call__(self, wave: np.ndarray, device: torch.device) -> list[np.ndarray]:
        """The outputs [logits, hidden?] for one waveform [samples] (float32)."""
        files, session = self.files, self.session(device)
        names = [files.logits] + ([files.hidden] if files.hidden else [])
        signal = wave[None, :] if files.input_rank == 2 else wave
        if hasattr(session, "sess"):  # an audonnx model: it applies the input's transform
            answer = session(signal, files.sample_rate, outputs=names)  # the signal as its transform takes it
            return [np.asarray(answer[name]) for name in names]
        return session.run(names, {files.input: signal})


class OnnxSER(nn.Module):
    """An ONNX graph behind the `torch:` protocol (`sample_rate`, `labels`, `forward(waveforms, lengths,
    output_hidden_states=...)`), one utterance at a time."""

    differentiable = False
    non_differentiable_reason = NOT_DIFFERENTIABLE

    def __init__(self, files: OnnxFiles):
        super().__init__()
        self.files, self.runner = files, OnnxRunner(files)
        self.sample_rate, self.labels = files.sample_rate, list(files.labels)
        self.external_parameters = files.parameters  # the weights live in the graph, not in torch parameters
        # the graph's content in the encoder's fingerprint (its state_dict): a re-exported model is not served stale
        self.register_buffer("graph_digest", torch.tensor(list(bytes.fromhex(files.digest)), dtype=torch.uint8))

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor, output_hidden_states: bool = False):
        device = waveforms.device
        logits, hidden = [], []
        for wave, length in zip(waveforms.detach().float().cpu().numpy(), lengths.tolist()):
            outputs = self.runner(np.ascontiguousarray(wave[: int(length)]), device)
            logits.append(_utterance_level(outputs[0], self.files.logits, self.files))
            if len(outputs) > 1:
                hidden.append(_utterance_level(outputs[1], self.files.hidden, self.files, pool=True))
        as_tensor = lambda rows: torch.from_numpy(np.stack(rows)).float().to(device)  # noqa: E731
        if not output_hidden_states:
            return as_tensor(logits)
        return as_tensor(logits), ((as_tensor(hidden),) if hidden else ())


def _utterance_level(output: np.ndarray, name: str, files: OnnxFiles, *, pool: bool = False) -> np.ndarray:
    """One utterance's output as a vector: [1, width] or [width]; a hidden output [1, frames, width] is averaged
    over its frames (the graph saw no padding)."""
    array = np.asarray(output, dtype=np.float32)
    if array.ndim >= 2 and array.shape[0] == 1:
        array = array[0]
    if pool and array.ndim == 2:
        array = array.mean(0)
    if array.ndim != 1:
        raise ValueError(
            f"{files.graph.name}: output {name!r} has shape {tuple(np.shape(output))} for one utterance; expected "
            f"[1, width]{' or [1, frames, width]' if pool else ''}"
        )
    return array


def _audonnx():
    try:
        import audonnx
    except ImportError:
        return None
    return audonnx


def load_onnx_model(spec: str, emotions: tuple[str, ...], label_overrides: dict[str, str]):
    """The model `spec` names, its logits mapped to `emotions`, checked like a `torch:` model."""
    return as_finished_model(OnnxSER(read_files(spec)), spec, emotions, label_overrides)


def _example(kind: str) -> Example:
    def build(scratch):
        try:
            import_onnx()
        except ImportError as error:
            raise Unavailable(str(error)) from None
        from trustser.models.finished.tiny_onnx import export_tiny_model

        if kind == "audonnx":  # model.yaml names the labels
            return f"onnx:{export_tiny_model(scratch, audonnx_folder=True)}"
        return f"onnx:{export_tiny_model(scratch)},labels=neu:hap:sad:ang"  # a bare graph names none

    return Example(f"onnx-{kind}", build)


register_format(
    "onnx",
    load_onnx_model,
    usage="onnx:<.onnx file or audonnx folder>",
    # a tiny torch SER model exported with torch.onnx.export, as a file and as an audonnx folder
    checked_as=[_example("file"), _example("audonnx")],
)
