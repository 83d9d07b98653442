"""The audit's command line, read once into one typed, frozen `AuditOptions` that the rest of the plugin
reads and the audit session's settings derive from (instead of each hook asking pytest for its options).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from trustser.compute.executor import Executor, ExecutorError
from trustser.models import MODEL_PREFIX
from trustser.pytest_plugin import options, packaged

if TYPE_CHECKING:
    from trustser.run.session import AuditSettings

MIN_FEATURE_MEMORY_GIB = 0.5  # trustser.models.head_group.MIN_FEATURE_MEMORY (not imported here: torch)
_OPTIONS = pytest.StashKey["AuditOptions"]()


@dataclass(frozen=True)
class AuditOptions:
    """Every trust option as given (pytest_plugin.options declares them; one field per option, named as
    its destination without `trust_`), and what the command line's arguments say of the audit."""

    backbone: str | None
    model: str | None
    model_labels: str | None
    export_parity: str | None  # --export-parity: the exports of the --model models, in their order
    corpus: str
    test_corpus: list[str] | None  # --test-corpus, repeatable
    task: str | None  # --task: categorical | dimensional; None: as the corpus implies
    thresholds: str | None
    report: str
    seed: int
    folds: int
    folds_disjoint: str
    cache: str | None
    on_bad_audio: str
    device: str
    precision: str
    feature_dtype: str
    batch_seconds: float
    executor: str
    head_max_epochs: int | None
    feature_memory: float | None
    deep: bool
    baseline: str | None
    names_a_trust_suite: bool = False  # an argument inside a trust suite (see `asks_for_the_audit`)

    @classmethod
    def read(cls, config: pytest.Config) -> AuditOptions:
        given = {option.dest.removeprefix("trust_"): config.getoption(option.dest) for option in options.OPTIONS}
        in_suite = any(packaged.SUITE_DIR_NAME in re.split(r"[/\\.:]", arg) for arg in config.args)
        return cls(**given, names_a_trust_suite=in_suite)

    @property
    def asks_for_the_audit(self) -> bool:
        """Whether the command line asks for the audit before anything is collected: a trust option, or an
        argument inside a trust suite (a `trust_tests` directory, as here and as `trustser init` names it,
        or `trustser.trust_tests`). Only the pytest-xdist controller has to tell this in advance: it collects
        nothing, yet chooses the scheduling and is the one place a bad thresholds file is reported once.
        """
        if any(getattr(self, dest.removeprefix("trust_")) != default for dest, default in options.DEFAULTS.items()):
            return True
        return self.names_a_trust_suite

    @property
    def backbones(self) -> list[str]:
        """What the trust tests are parametrised over: backbones, then finished models as `model:<spec>`."""
        models = [MODEL_PREFIX + spec for spec in split_models(self.model)]
        backbone = options.DEFAULT_BACKBONES if self.backbone is None and not models else self.backbone
        return _split(backbone) + models

    @property
    def export_pairs(self) -> dict[str, str]:
        """Each finished model's run (`model:<spec>`) -> the spec of its export (--export-parity), paired in order;
        UsageError unless there are as many exports as models."""
        models, exports = split_models(self.model), split_models(self.export_parity)
        if exports and len(exports) != len(models):
            raise pytest.UsageError(
                f"--export-parity names {len(exports)} export(s) for {len(models)} --model model(s): give one export "
                f"per model, in the same order (got --model {self.model!r} --export-parity {self.export_parity!r})"
            )
        return {MODEL_PREFIX + model: export for model, export in zip(models, exports)}

    @property
    def test_corpora(self) -> list[str]:
        """The --test-corpus specs, in the order given, each once."""
        return list(dict.fromkeys(self.test_corpus or ()))

    @property
    def report_dir(self) -> Path:
        return Path(self.report)

    def cache_root(self) -> Path:
        """--cache, else $TRUSTSER_CACHE or ~/.cache/trustser (finding it imports the cache module: torch)."""
        from trustser.cache.store import default_root

        return Path(self.cache or default_root())

    def audit_settings(self) -> AuditSettings:
        """The audit session's settings."""
        from trustser.run.session import AuditSettings

        settings = AuditSettings(
            backbones=tuple(self.backbones),
            corpus=self.corpus,
            report_dir=self.report_dir,
            cache_root=self.cache_root(),
            seed=self.seed,
            folds=self.folds,
            folds_disjoint=self.folds_disjoint,
            on_bad_audio=self.on_bad_audio,
            model_labels=self.model_labels,
            device=self.device,
            precision=self.precision,
            feature_dtype=self.feature_dtype,
            batch_seconds=self.batch_seconds,
            executor=self.executor,
            test_corpora=tuple(self.test_corpora),
            export_parity=tuple(self.export_pairs.items()),
            task=self.task,
            feature_memory_gib=self.feature_memory,
        )
        if self.head_max_epochs is not None:
            settings = dataclasses.replace(settings, head_max_epochs=self.head_max_epochs)
        return settings


def _split(option: str | None) -> list[str]:
    return [part.strip() for part in (option or "").split(",") if part.strip()]


def split_models(option: str | None) -> list[str]:
    """--model's specs: comma-separated, where a part `key=value` is an option of the spec before it
    (`onnx:m.onnx,logits=out,hf:/ckpt` is two models)."""
    specs: list[str] = []
    for part in _split(option):
        if specs and re.match(r"^\w+=", part):
            specs[-1] += f",{part}"
        else:
            specs.append(part)
    return specs


def audit_options(config: pytest.Config) -> AuditOptions:
    """The run's trust options, read on first use and kept."""
    if _OPTIONS not in config.stash:
        config.stash[_OPTIONS] = AuditOptions.read(config)
    return config.stash[_OPTIONS]


def check_compute_options(audit: AuditOptions) -> None:
    """A --device the machine lacks, a bad --batch-seconds, --head-max-epochs or --executor (or Ray not
    installed for it) stops the run before any test."""
    _ = audit.export_pairs  # as many exports as models
    batch_seconds, epochs = audit.batch_seconds, audit.head_max_epochs
    if not batch_seconds > 0:
        raise pytest.UsageError(f"--batch-seconds must be positive, got {batch_seconds}")
    if epochs is not None and not epochs >= 1:
        raise pytest.UsageError(f"--head-max-epochs must be at least 1, got {epochs}")
    if audit.feature_memory is not None and not audit.feature_memory >= MIN_FEATURE_MEMORY_GIB:
        raise pytest.UsageError(
            f"--feature-memory must be at least {MIN_FEATURE_MEMORY_GIB} GiB (two blocks of streamed "
            f"features), got {audit.feature_memory}"
        )
    try:
        Executor.parse(audit.executor)
    except ExecutorError as error:
        raise pytest.UsageError(str(error)) from None
    if audit.device not in ("auto", "cpu"):  # only then is torch worth importing here
        from trustser.compute.devices import DeviceError, resolve_device

        try:
            resolve_device(audit.device)
        except DeviceError as error:
            raise pytest.UsageError(str(error)) from None
