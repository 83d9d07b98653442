"""A finished model by its spec: `hf:<checkpoint>` (trustser.models.finished.huggingface) or
`torch:package.module:factory` (trustser.models.finished.torch_model)."""

from __future__ import annotations

from trustser.models.finished.model import FinishedModel

KINDS = "hf:<checkpoint directory or cached model id> or torch:<package.module>:<factory>"


def load_finished_model(spec: str, emotions: tuple[str, ...], label_overrides: dict[str, str]) -> FinishedModel:
    kind, _, source = spec.partition(":")
    if kind == "hf" and source:
        from trustser.models.finished.huggingface import load_finished_model as load_hf_model

        return load_hf_model(spec, emotions, label_overrides)
    if kind == "torch" and source:
        from trustser.models.finished.torch_model import load_torch_model

        return load_torch_model(spec, emotions, label_overrides)
    raise ValueError(f"--model takes {KINDS}, got {spec!r}")
