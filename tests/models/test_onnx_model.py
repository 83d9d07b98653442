"""`--model onnx:PATH`: an export of a tiny torch model, as a file and as an audonnx folder (read through
audonnx, and without it through model.yaml), computes what the torch model computes; what is missing is
named with the file; the CUDA provider is asked for under --device cuda."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime", reason="--model onnx: needs trustser[onnx]")
pytest.importorskip("onnx", reason="--model onnx: needs trustser[onnx]")

from trustser.errors import SpecError  # noqa: E402
from trustser.models.finished import onnx_model  # noqa: E402
from trustser.models.finished.formats import load_finished_model  # noqa: E402
from trustser.models.finished.onnx_files import read_files  # noqa: E402
from trustser.models.finished.tiny_onnx import TinyConvSER, export_tiny_model  # noqa: E402
from trustser.models.head import WaveformClassifier  # noqa: E402
from trustser.pytest_plugin.settings import split_models  # noqa: E402

EMOTIONS = ("neutral", "happy", "sad", "angry")
LABELS = ",labels=neu:hap:sad:ang"


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx")
    return export_tiny_model(root / "file"), export_tiny_model(root / "folder", audonnx_folder=True)


def batch():
    lengths = torch.tensor([16000, 9000, 4000])
    waves = 0.1 * torch.randn(3, 16000, generator=torch.Generator().manual_seed(0))
    return waves * (torch.arange(16000)[None, :] < lengths[:, None]), lengths


def log_probabilities(spec: str) -> torch.Tensor:
    finished = load_finished_model(spec, EMOTIONS, {})
    with torch.no_grad():
        return WaveformClassifier(finished.encoder, finished.head).eval()(*batch())


@pytest.mark.parametrize("with_audonnx", [True, False])
def test_the_export_computes_the_torch_models_log_probabilities(exports, monkeypatch, with_audonnx):
    file, folder = exports
    if not with_audonnx:
        monkeypatch.setattr(onnx_model, "_audonnx", lambda: None)  # model.yaml read as YAML
    with torch.no_grad():
        reference = torch.log_softmax(TinyConvSER()(*batch()), -1)
    for spec in (f"onnx:{file}{LABELS}", f"onnx:{folder}"):
        torch.testing.assert_close(log_probabilities(spec), reference, atol=1e-5, rtol=0)


def test_the_hidden_output_is_a_layer_and_the_initialisers_are_the_parameters(exports):
    finished = load_finished_model(f"onnx:{exports[1]}", EMOTIONS, {})
    assert finished.encoder.num_layers == 2 and not finished.encoder.differentiable  # hidden_states, then logits
    assert "ONNX" in finished.encoder.non_differentiable_reason
    assert read_files(f"onnx:{exports[1]}").parameters == sum(p.numel() for p in TinyConvSER().parameters())
    without = load_finished_model(f"onnx:{exports[1]},hidden=-", EMOTIONS, {})
    assert without.encoder.num_layers == 1


@pytest.mark.parametrize(
    "options, message",
    [
        (",logits=scores", r"model.onnx has no output 'scores'; its outputs: 'logits', 'hidden_states'"),
        (",hidden=pooled", r"model.onnx has no output 'pooled' besides the logits"),
        (",input=wave", r"model.onnx has no input 'wave'; its inputs: 'signal'"),
        (",labels=neu:hap", r"2 labels \['neu', 'hap'\] for output 'logits' of width 4"),
        (",rate=fast", r"rate= is the sample rate in Hz"),
        (",colour=red", r"options are key=value with a key among input, logits, hidden, labels, rate"),
        ("", r"its labels are \{0: '0', 1: '1', 2: '2', 3: '3'\}. Say which do with --model-labels"),
    ],
)
def test_what_is_missing_is_named_with_the_file(exports, options, message):
    spec = f"onnx:{exports[0]}{options}"
    with pytest.raises(SpecError, match=message) as raised:
        load_finished_model(spec, EMOTIONS, {})
    assert str(raised.value).startswith(spec)


def test_a_folder_without_a_model_or_a_transform_without_audonnx_is_named(exports, tmp_path, monkeypatch):
    with pytest.raises(SpecError, match="holds neither model.yaml"):
        load_finished_model(f"onnx:{tmp_path}", EMOTIONS, {})
    folder = tmp_path / "transformed"
    folder.mkdir()
    (folder / "model.onnx").write_bytes((exports[1] / "model.onnx").read_bytes())
    yaml_text = (exports[1] / "model.yaml").read_text().replace("transform: null", "transform:\n    signal: {}")
    (folder / "model.yaml").write_text(yaml_text)
    monkeypatch.setattr(onnx_model, "_audonnx", lambda: None)
    with pytest.raises(SpecError, match=r"model.yaml declares an input transform, which only audonnx applies"):
        load_finished_model(f"onnx:{folder}", EMOTIONS, {})


def test_under_cuda_the_cuda_provider_is_asked_for(exports, monkeypatch):
    import onnxruntime

    runner = onnx_model.OnnxRunner(read_files(f"onnx:{exports[0]}{LABELS}"))
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(RuntimeError, match="no CUDAExecutionProvider .* install onnxruntime-gpu or use --device cpu"):
        runner.session(torch.device("cuda:1"))
    asked = {}
    monkeypatch.setattr(
        onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    monkeypatch.setattr(
        onnxruntime, "InferenceSession", lambda path, sess_options, providers: asked.update(p=providers)
    )
    runner.session(torch.device("cuda:1"))
    assert asked["p"] == [("CUDAExecutionProvider", {"device_id": 1}), "CPUExecutionProvider"]
    monkeypatch.undo()
    assert runner(np.zeros(800, np.float32), torch.device("cpu"))[0].shape == (1, 4)  # the CPU session is its own


def test_a_models_options_stay_with_its_spec():
    assert split_models(f"onnx:/m.onnx{LABELS},hidden=-,hf:/ckpt, torch:a.b:c") == [
        f"onnx:/m.onnx{LABELS},hidden=-",
        "hf:/ckpt",
        "torch:a.b:c",
    ]
