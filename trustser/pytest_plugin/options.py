"""The plugin's command-line options, each declared once: its `--trust-` name, and its short name
(`--backbone`, `--model`, `--seed`, ...) wherever nothing else in the run has claimed that name.

Installed, the plugin is loaded into every pytest run of the environment. A team's conftest that
defines its own `--model` or `--seed` would then meet ours, and pytest refuses two options with one
name or destination: every test run of that team would stop before collecting anything. So each option
has a `--trust-` name, always there, with its own destination (`trust_backbone`, ...), and a short name
added only after the rootdir's conftests have declared their options, and only where it is free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

DEFAULT_BACKBONES = "mfcc,egemaps,ge2e"
PREFIX = "trust-"
_SHORT_NAMES_TAKEN = pytest.StashKey[list]()  # short option names a conftest had already claimed


@dataclass(frozen=True)
class Option:
    name: str  # without dashes and prefix, e.g. "backbone"; the destination is trust_<name>
    help: str
    settings: dict = field(default_factory=dict)  # argparse keywords: default, type, choices, metavar, action
    short: bool = True  # also --<name> where free; the ones named trust-... already read as ours

    @property
    def dest(self) -> str:
        return "trust_" + self.name.replace("-", "_")

    @property
    def flags(self) -> tuple[str, ...]:
        return (f"--{PREFIX}{self.name}",)

    @property
    def arguments(self) -> dict:
        """argparse keywords, with a metavar named after the option rather than its destination."""
        if self.settings.get("action") == "store_true":
            return dict(self.settings)
        return {"metavar": self.name.upper().replace("-", "_"), **self.settings}


OPTIONS = (
    Option(
        "backbone",
        f"comma-separated encoders to audit, each with our trained head (default {DEFAULT_BACKBONES}, "
        "or none when --model is given); also torch:package.module:factory or a plugin's entry-point name",
        {"default": None},
    ),
    Option(
        "model",
        "comma-separated finished models to audit as they are: hf:/path/to/checkpoint (a Hugging Face "
        "audio-classification checkpoint), torch:package.module:factory (any PyTorch model; docs/plugins.md) "
        "or onnx:/path/model.onnx (an ONNX export or audonnx folder; docs/models.md)",
        {"default": None},
    ),
    Option(
        "export-parity",
        "comma-separated exports of the --model models, in the same order (e.g. --model torch:team:build "
        "--export-parity onnx:model.onnx): both answer every utterance and the export-parity gates judge their "
        "agreement; without it those gates are deselected",
        {"default": None, "metavar": "SPEC,..."},
    ),
    Option(
        "model-labels",
        "how the model's labels (id2label names or ids) map to the audit's emotions; "
        "default: read from the names (ang, Anger, hap, ...); LABEL=- leaves one out",
        {"default": None, "metavar": "LABEL=EMOTION,..."},
    ),
    Option(
        "corpus",
        "corpus spec, e.g. synthetic or synthetic:speakers=8,sentences=20,seed=0",
        {"default": "synthetic"},
    ),
    Option(
        "test-corpus",
        "a corpus the heads trained on --corpus are also evaluated on, as a whole, for cross-corpus transfer "
        "(repeatable; the emotions both corpora share); without it the transfer gate SKIPs",
        {"default": None, "action": "append", "metavar": "SPEC"},
    ),
    Option(
        "task",
        "what the audited models predict: categorical (emotion classes) or dimensional (arousal, dominance, "
        "valence, on a corpus that rates them); default categorical, dimensional for a corpus that rates "
        "attributes and has no categories. Gates of the other task SKIP",
        {"default": None, "choices": ("categorical", "dimensional")},
    ),
    Option("thresholds", "release gates (default: thresholds.toml in the rootdir)", {"default": None}),
    Option("report", "directory for the trust report (default trust-report/)", {"default": "trust-report"}, False),
    Option("seed", "seed for folds, training and attacks (default 0)", {"type": int, "default": 0}),
    Option(
        "folds",
        "speaker-independent folds (default 4); corpora with their own scheme (IEMOCAP sessions, "
        "MSP-Podcast partitions) use theirs",
        {"type": int, "default": 4},
    ),
    Option(
        "folds-disjoint",
        "what the folds keep apart: speaker (default: no speaker is both trained on and tested) or sentence "
        "(speakers and sentences: a fold trains on none of the sentences it tests; refused, saying why, where the "
        "corpus has no sentences or transcripts)",
        {"default": "speaker", "choices": ("speaker", "sentence")},
    ),
    Option("cache", "cache directory (default $TRUSTSER_CACHE or ~/.cache/trustser)", {"default": None}, False),
    Option(
        "on-bad-audio",
        "a missing, undecodable, empty or NaN corpus file: skip it (counted, named) or fail (default skip)",
        {"default": "skip", "choices": ("skip", "fail")},
    ),
    Option(
        "device",
        "where extraction, head training, attacks and noise run (default auto: a GPU when torch sees one)",
        {"default": "auto", "metavar": "auto|cpu|cuda|cuda:N"},
    ),
    Option(
        "precision",
        "extraction precision on a GPU (autocast); always fp32 on the CPU (default fp32)",
        {"default": "fp32", "choices": ("fp32", "fp16", "bf16")},
    ),
    Option(
        "feature-dtype",
        "how stored features are kept on disk; float16 halves disk and I/O (default float32)",
        {"default": "float32", "choices": ("float32", "float16")},
    ),
    Option(
        "batch-seconds",
        "padded audio per extraction batch, seconds (default 60); halved automatically on CUDA OOM",
        {"type": float, "default": 60.0},
    ),
    Option(
        "executor",
        "where extraction, the attacks and noise robustness run: local (this process, default), ray (a "
        "Ray runtime started on this machine) or ray:ADDRESS (a running cluster: ray:auto, ray:ray://head:10001); "
        "needs trustser[ray]",
        {"default": "local", "metavar": "local|ray|ray:ADDRESS"},
    ),
    Option(
        "head-max-epochs",
        "most epochs an emotion head trains; early stopping on dev UAR may end it sooner (default: the recipe's 40)",
        {"type": int, "default": None},
    ),
    Option(
        "feature-memory",
        "GiB of float32 features head training may hold in memory (on the GPU when it trains there): below it "
        "they are read once and kept, above it streamed in blocks; results are the same either way "
        "(default: half the memory free at the start)",
        {"type": float, "default": None, "metavar": "GIB"},
    ),
    Option(
        "deep",
        "also run the extended battery (PGD-L2, APGD, targeted PGD, invariance search): slower",
        {"action": "store_true", "default": False},
        False,
    ),
    Option(
        "baseline",
        "a previous trust_report.json: every metric also fails when it regressed beyond its tolerance",
        {"default": None, "metavar": "JSON"},
        False,
    ),
)
DEFAULTS = {option.dest: option.settings.get("default") for option in OPTIONS}  # which ones a run changed


def _group(parser: pytest.Parser):
    return parser.getgroup("trustser", "TrustSER trust audit")


def add_options(parser: pytest.Parser) -> None:
    """Every option under its `--trust-` name."""
    group = _group(parser)
    for option in OPTIONS:
        group.addoption(*option.flags, dest=option.dest, help=option.help, **option.arguments)


def _claimed(parser: pytest.Parser) -> set[str]:
    """The option names declared so far by every plugin and conftest."""
    # pytest has no public listing of declared options; its groups have held them since pytest 2
    declared = [*parser._anonymous.options, *(o for group in parser._groups for o in group.options)]
    return {name for o in declared for name in o.names()}


def add_short_names_where_free(config: pytest.Config, parser: pytest.Parser) -> None:
    """The short names, once the rootdir's conftests have declared theirs; the ones taken are kept for
    `warn_about_taken_short_names`."""
    config.stash[_SHORT_NAMES_TAKEN] = add_short_names(parser)


def warn_about_taken_short_names(config: pytest.Config, asks_for_the_audit: bool) -> None:
    taken = config.stash.get(_SHORT_NAMES_TAKEN, [])
    if taken and asks_for_the_audit:
        long_names = ", ".join(name.replace("--", "--" + PREFIX, 1) for name in taken)
        config.issue_config_time_warning(
            pytest.PytestConfigWarning(
                f"trustser: {', '.join(taken)} belong to this repository's conftest here; use {long_names}"
            ),
            stacklevel=2,
        )


def add_short_names(parser: pytest.Parser) -> list[str]:
    """`--backbone` for `--trust-backbone` etc., for every short name no one else has; the ones left out."""
    names = _claimed(parser)
    group, taken = _group(parser), []
    for option in OPTIONS:
        if not option.short:
            continue
        short = f"--{option.name}"
        if short in names:
            taken.append(short)
            continue
        # the same destination and settings (default included): whichever of the two is declared first
        # sets the default, and both agree
        group.addoption(short, dest=option.dest, help=f"short for --{PREFIX}{option.name}", **option.arguments)
    return taken
