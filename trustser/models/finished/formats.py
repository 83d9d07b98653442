"""A finished model by its spec: `hf:<checkpoint>` (trustser.models.finished.huggingface) or
`torch:package.module:factory` (trustser.models.finished.torch_model)."""

from __future__ import annotations

from trustser.errors import SpecError, spec_errors
from trustser.models.finished.model import FinishedModel

KINDS = "hf:<checkpoint directory or cached model id> or torch:<package.module>:<factory>"


def load_finished_model(spec: str, emotions: tuple[str, ...], label_overrides: dict[str, str]) -> FinishedModel:
    """The model `spec` names, its outputs mapped to `emotions`; `SpecError` when it cannot be loaded (a
    missing checkpoint or optional package, a broken protocol, labels that do not map), naming why."""
    kind, _, source = spec.partition(":")
    with spec_errors():
        if kind == "hf" and source:
            from trustser.models.finished.huggingface import load_finished_model as load_hf_model

            return load_hf_model(spec, emotions, label_overrides)
        if kind == "torch" and source:
            from trustser.models.finished.torch_model import load_torch_model

            return load_torch_model(spec, emotions, label_overrides)
    raise SpecError(f"--model takes {KINDS}, got {spec!r}")
