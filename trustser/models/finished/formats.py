"""A finished model by its spec, `PREFIX:SOURCE` (`--model hf:/models/ser`, `--model torch:team_model:build`).

Each format registers in its own module of this package, with
`register_format(prefix, load, usage=..., checked_as=[...])`: `hf:` (huggingface.py), `torch:` (torch_model.py).
Every module here is imported before the registry answers (trustser.specs.registrations); a helper module
registers nothing. `load(spec, emotions, label_overrides)` returns the `FinishedModel` (encoder, head
mapped to the audit's emotions); `usage` is how `--model` help and errors name the format; `checked_as`
the tiny test models the contract test (tests/models/test_model_format_contract.py) loads through
`load_finished_model`, as users' models are (a format registered without them fails that test).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from trustser.errors import SpecError, spec_errors
from trustser.models.finished.model import FinishedModel
from trustser.specs.registrations import Example, as_examples, discover

Loader = Callable[[str, tuple[str, ...], dict[str, str]], FinishedModel]


@dataclass(frozen=True)
class Format:
    prefix: str  # the spec's text before the first colon
    load: Loader
    usage: str  # e.g. "hf:<checkpoint directory or cached model id>"
    checked_as: tuple[Example, ...]  # how the contract test builds a tiny model of this format


_REGISTERED: dict[str, Format] = {}


def register_format(
    prefix: str, load: Loader, *, usage: str, checked_as: Iterable[str | Example] | None = None
) -> Loader:
    """Make `--model PREFIX:...` load through `load(spec, emotions, label_overrides)`; returns `load`."""
    if not prefix or ":" in prefix:
        raise ValueError(f"a model format's prefix is a non-empty word without ':', got {prefix!r}")
    _REGISTERED[prefix] = Format(prefix, load, usage, as_examples(checked_as))
    return load


def registered() -> dict[str, Format]:
    """The registered formats by prefix, in prefix order."""
    discover(__package__, Path(__file__).parent)
    return dict(sorted(_REGISTERED.items()))


def usage() -> str:
    """What `--model` takes, e.g. `hf:<...> or torch:<...>`: every registered format's usage."""
    usages = [entry.usage for entry in registered().values()]
    return " or ".join(usages) if len(usages) < 3 else f"{', '.join(usages[:-1])} or {usages[-1]}"


def load_finished_model(
    spec: str, emotions: tuple[str, ...], label_overrides: dict[str, str], *, attributes: tuple[str, ...] = ()
) -> FinishedModel:
    """The finished model `spec` names, its outputs mapped to `emotions`, or for a dimensional audit
    (`attributes`, the corpus's) a regression model's outputs picked in that order; `SpecError` when it
    cannot be loaded (an unknown prefix lists the known ones; a missing checkpoint or optional package, a
    broken protocol, labels that do not map, a classifier where attributes are audited or the reverse),
    naming why.

    A format's loader returns a regression model (`FinishedModel.attributes` set) without emotion mapping."""
    prefix, _, source = spec.partition(":")
    with spec_errors():
        entry = registered().get(prefix)
        if entry is None or not source:
            raise SpecError(f"--model takes {usage()}, got {spec!r}")
        model = entry.load(spec, emotions, label_overrides)
        if model.attributes and not attributes:
            raise SpecError(
                f"{spec} predicts attributes ({', '.join(model.attributes)}), not emotion categories: audit it "
                "with --task dimensional on a corpus that rates them"
            )
        if attributes and not model.attributes:
            raise SpecError(
                f"{spec} is a classifier (labels {list(model.id2label.values())}); --task dimensional audits "
                "regression models (a Hugging Face problem_type='regression', a torch model's `attributes`)"
            )
        return model.predicting(attributes) if attributes else model
