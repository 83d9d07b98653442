"""What an ONNX model's files say (`--model onnx:PATH[,key=value,...]`): the graph's inputs and outputs, which
of them carry the waveform, the logits and a hidden state, the labels, the sample rate, and the parameters
stored in the graph's initialisers. A helper module: it registers no format (onnx_model.py does).

PATH is a `.onnx` file, or an `audonnx` folder: `model.yaml` (written by `audonnx.Model.to_yaml`, naming the
graph file, the labels of each output and any input transform) beside the graph. The spec's keys override
what the files say: `input=` (the waveform input), `logits=`, `hidden=` (a hidden-state or embedding output;
`hidden=-` for none), `labels=neu:hap:sad:ang` (the logits' labels, in order), `rate=` (Hz, default 16000).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

INSTALL = "pip install 'trustser[onnx]'"
DEFAULT_RATE = 16000  # what audeering's and nkululeko's exports take; a graph does not say its rate
HIDDEN_NAMES = ("hidden_states", "hidden", "embeddings", "embedding")  # read as the hidden-state output
KEYS = ("input", "logits", "hidden", "labels", "rate")
NONE = "-"


@dataclass(frozen=True)
class OnnxFiles:
    """An ONNX model as its files describe it, with the spec's overrides applied."""

    graph: Path  # the .onnx file
    folder: Path | None  # the audonnx folder, if PATH was one
    input: str
    logits: str
    hidden: str | None
    labels: tuple[str, ...]  # of the logits; index names ("0", "1", ...) where nothing names them
    sample_rate: int
    input_rank: int  # 1: [samples]; 2: [1, samples]
    parameters: int  # elements of the graph's initialisers
    digest: str  # sha256 of the graph and model.yaml: the model's content in cache keys
    transformed: bool  # model.yaml declares an input transform (applied by audonnx)


def import_onnx():
    """onnx and onnxruntime, or ImportError naming the install."""
    try:
        import onnx
        import onnxruntime
    except ImportError as error:
        raise ImportError(f"--model onnx: needs onnx and onnxruntime ({error}); install them with: {INSTALL}") from None
    return onnx, onnxruntime


def parse_spec(spec: str) -> tuple[Path, dict[str, str]]:
    """`onnx:PATH,key=value,...` as (PATH, {key: value}); ValueError naming the spec for an unknown key."""
    path, *items = spec.removeprefix("onnx:").split(",")
    options = {}
    for item in filter(None, (part.strip() for part in items)):
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in KEYS or not value.strip():
            raise ValueError(f"{spec}: options are key=value with a key among {', '.join(KEYS)}, got {item!r}")
        options[key.strip()] = value.strip()
    return Path(path).expanduser(), options


def read_model_yaml(folder: Path) -> dict:
    """The audonnx object's arguments in `folder/model.yaml` (path, labels, transform)."""
    import yaml

    path = folder / "model.yaml"
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not YAML ({error})") from None
    entries = [value for key, value in (document or {}).items() if str(key).startswith("$audonnx")]
    if len(entries) != 1 or not isinstance(entries[0], dict) or "path" not in entries[0]:
        raise ValueError(
            f"{path}: expected one `$audonnx.core.model.Model==...` entry with a `path`, as audonnx writes it"
        )
    return entries[0]


def read_files(spec: str) -> OnnxFiles:
    """What `spec`'s files and options say; FileNotFoundError or ValueError naming the file and what is missing."""
    onnx, _ = import_onnx()
    path, options = parse_spec(spec)
    folder, described = None, {}
    if path.is_dir():
        folder = path
        if (path / "model.yaml").is_file():
            described = read_model_yaml(path)
            graph = (path / str(described["path"])).resolve()
        elif (path / "model.onnx").is_file():
            graph = path / "model.onnx"
        else:
            raise FileNotFoundError(f"{spec}: {path} holds neither model.yaml (an audonnx folder) nor model.onnx")
    elif path.is_file():
        graph = path
    else:
        raise FileNotFoundError(f"{spec}: no ONNX file or audonnx folder at {path}")
    if not graph.is_file():
        raise FileNotFoundError(f"{spec}: {folder / 'model.yaml'} names the graph {graph}, which is not there")
    try:
        proto = onnx.load(str(graph), load_external_data=False)  # shapes and names; weights stay on disk
    except Exception as error:  # noqa: BLE001 (protobuf raises its own DecodeError)
        raise ValueError(f"{spec}: {graph} is not an ONNX graph ({type(error).__name__}: {error})") from None
    initialisers = {item.name for item in proto.graph.initializer}
    inputs = {item.name: item for item in proto.graph.input if item.name not in initialisers}
    outputs = {item.name: item for item in proto.graph.output}
    where = f"{spec}: {graph.name}"
    input_name = _pick_input(options.get("input"), inputs, where)
    labelled = {str(k): v for k, v in (described.get("labels") or {}).items() if v}
    logits = _pick_logits(options.get("logits"), outputs, labelled, where)
    hidden = _pick_hidden(options.get("hidden"), outputs, logits, where)
    labels = _labels(options.get("labels"), labelled.get(logits), _last_dim(outputs[logits]), where, logits)
    transforms = described.get("transform") or {}
    transformed = bool(transforms) and any(value is not None for value in dict(transforms).values())
    digest = hashlib.sha256(graph.read_bytes())
    if folder is not None and (folder / "model.yaml").is_file():
        digest.update((folder / "model.yaml").read_bytes())
    return OnnxFiles(
        graph=graph,
        folder=folder if described else None,
        input=input_name,
        logits=logits,
        hidden=hidden,
        labels=labels,
        sample_rate=_rate(options.get("rate"), where),
        input_rank=_rank(inputs[input_name], where),
        parameters=sum(int(np.prod(item.dims, dtype=np.int64)) for item in proto.graph.initializer),
        digest=digest.hexdigest(),
        transformed=transformed,
    )


def _names(items) -> str:
    return ", ".join(repr(name) for name in items) or "none"


def _is_float(value_info) -> bool:
    from onnx import TensorProto

    return value_info.type.tensor_type.elem_type in (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE)


def _pick_input(asked: str | None, inputs: dict, where: str) -> str:
    if asked is not None:
        if asked not in inputs:
            raise ValueError(f"{where} has no input {asked!r}; its inputs: {_names(inputs)}")
        return asked
    floats = [name for name, item in inputs.items() if _is_float(item)]
    if len(inputs) != 1 or len(floats) != 1:
        raise ValueError(
            f"{where}: the waveform input is the graph's one floating-point input, but it has inputs {_names(inputs)}; "
            "name the waveform's with input=NAME (the audit feeds one input)"
        )
    return floats[0]


def _pick_logits(asked: str | None, outputs: dict, labelled: dict, where: str) -> str:
    if asked is not None:
        if asked not in outputs:
            raise ValueError(f"{where} has no output {asked!r}; its outputs: {_names(outputs)}")
        return asked
    if "logits" in outputs:
        return "logits"
    if len(labelled) == 1 and next(iter(labelled)) in outputs:
        return next(iter(labelled))  # the one output model.yaml gives labels to
    if len(outputs) == 1:
        return next(iter(outputs))
    raise ValueError(f"{where}: which output holds the logits? Its outputs: {_names(outputs)}; say logits=NAME")


def _pick_hidden(asked: str | None, outputs: dict, logits: str, where: str) -> str | None:
    if asked == NONE:
        return None
    if asked is not None:
        if asked not in outputs or asked == logits:
            raise ValueError(f"{where} has no output {asked!r} besides the logits; its outputs: {_names(outputs)}")
        return asked
    return next((name for name in HIDDEN_NAMES if name in outputs and name != logits), None)


def _last_dim(value_info) -> int | None:
    dims = value_info.type.tensor_type.shape.dim
    return int(dims[-1].dim_value) if dims and dims[-1].HasField("dim_value") else None


def _rank(value_info, where: str) -> int:
    rank = len(value_info.type.tensor_type.shape.dim)
    if rank not in (1, 2):
        raise ValueError(
            f"{where}: input {value_info.name!r} has rank {rank}; a waveform goes in as [samples] or [1, samples]"
        )
    return rank


def _labels(asked: str | None, described: list | None, width: int | None, where: str, logits: str) -> tuple[str, ...]:
    labels = [part.strip() for part in asked.split(":")] if asked is not None else described
    if labels is None:
        if width is None:
            raise ValueError(
                f"{where}: output {logits!r} has no static width and nothing names its labels; "
                "say labels=neu:hap:sad:ang in the spec"
            )
        return tuple(str(index) for index in range(width))  # read by index: --model-labels 0=neutral,...
    labels = [str(label) for label in labels]
    if width is not None and len(labels) != width:
        raise ValueError(f"{where}: {len(labels)} labels {labels} for output {logits!r} of width {width}")
    return tuple(labels)


def _rate(asked: str | None, where: str) -> int:
    if asked is None:
        return DEFAULT_RATE
    if not asked.isdigit() or int(asked) <= 0:
        raise ValueError(f"{where}: rate= is the sample rate in Hz, a positive integer, got {asked!r}")
    return int(asked)
