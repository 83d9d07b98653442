"""The audit session: settings from the command line, the corpus, its folds and one run per backbone.

Shared by all trust tests of a pytest process (a session fixture); everything expensive underneath is
cached on disk, so pytest-xdist workers that build their own session reuse each other's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from trustser.cache.store import Cache, CacheWriteError, sweep_abandoned
from trustser.compute.devices import Compute
from trustser.compute.executor import Executor
from trustser.corpora import create as create_corpus
from trustser.corpora.audio import MIN_SECONDS, BadAudio
from trustser.corpora.base import BadData, Corpus
from trustser.corpora.folds import Fold, sentence_disjoint
from trustser.corpora.reconcile import Reconciled, reconcile
from trustser.corpora.split import CorpusSplit, require_task
from trustser.corpora.summary import CorpusSummary, summarise
from trustser.encoders import create as create_encoder
from trustser.encoders.base import Encoder
from trustser.errors import SpecError, spec_errors
from trustser.features.extraction import ExtractionSettings, Progress, stderr_progress
from trustser.models import MODEL_PREFIX
from trustser.models.context import RunContext
from trustser.models.finished.formats import load_finished_model
from trustser.models.finished.labels import parse_overrides
from trustser.models.finished.model import FinishedModel
from trustser.models.sources import FinishedModelSource
from trustser.models.training import TrainConfig
from trustser.run.backbone_run import BackboneRun, finished_model_run, trained_run
from trustser.run.parity import ParityRun
from trustser.run.transfer import TransferRun


@dataclass(frozen=True)
class AuditSettings:
    backbones: tuple[str, ...]
    corpus: str
    report_dir: Path
    cache_root: Path
    seed: int = 0
    folds: int = 4
    folds_disjoint: str = "speaker"  # --folds-disjoint: speaker | sentence (speakers and sentences)
    on_bad_audio: str = "skip"  # skip | fail: what a bad corpus file (missing, undecodable, NaN, ...) does
    model_labels: str | None = None  # --model-labels: a finished model's labels -> the audit's emotions
    device: str = "auto"  # --device: auto | cpu | cuda | cuda:N
    precision: str = "fp32"  # --precision of extraction on a GPU: fp32 | fp16 | bf16
    feature_dtype: str = "float32"  # --feature-dtype of the stored features
    batch_seconds: float = 60.0  # --batch-seconds: padded audio per extraction batch
    head_max_epochs: int = TrainConfig.max_epochs  # --head-max-epochs
    executor: str = "local"  # --executor: local | ray | ray:ADDRESS
    test_corpora: tuple[str, ...] = ()  # --test-corpus: corpora the heads are also evaluated on, each whole
    export_parity: tuple[tuple[str, str], ...] = ()  # --export-parity: (a model's run, the spec of its export)
    task: str | None = None  # --task: categorical | dimensional; None: dimensional only for a corpus rating
    # attributes without categories
    feature_memory_gib: float | None = None  # --feature-memory: resident training features' most (None: half free)

    def extraction(self) -> ExtractionSettings:
        return ExtractionSettings(
            compute=Compute.resolve(self.device, self.precision),
            feature_dtype=self.feature_dtype,
            batch_seconds=self.batch_seconds,
            executor=Executor.parse(self.executor),
        )


class ConfigurationError(ValueError):
    """A corpus, backbone or model spec that cannot be audited; the message names the spec and why."""


def _cache_problem(error: CacheWriteError) -> str:
    return f"the cache cannot be used (--trust-cache, or $TRUSTSER_CACHE): {error}"


class AuditSession:
    def __init__(self, settings: AuditSettings, *, progress: Progress = stderr_progress):
        self.settings = settings
        self.extraction = settings.extraction()
        self.progress = progress
        try:
            self.cache = Cache(settings.cache_root)
            self.cache.probe_writable()
        except CacheWriteError as error:
            raise ConfigurationError(_cache_problem(error)) from None
        self._runs: dict[str, BackboneRun] = {}
        self._encoders: dict[str, Encoder] = {}
        self._models: dict[str, FinishedModel] = {}  # loaded to read their min_seconds, before the corpus is final
        self._test_corpora: dict[str, Reconciled] = {}
        self._attributes: tuple[str, ...] = ()  # a dimensional audit's attributes, once the corpus is read
        self._transfers: dict[tuple[str, str], TransferRun] = {}
        self._parities: dict[str, ParityRun] = {}
        abandoned = sweep_abandoned(self.cache.root)
        if abandoned:
            progress(f"removed {len(abandoned)} temporary files left in {self.cache.root} by interrupted runs")
        if exposure := self.cache.exposure():
            progress(exposure)

    def check(self) -> None:
        """Build what every trust test needs first (the corpus, its folds, each backbone's encoder or
        model), so that a bad spec stops the audit once, before any test, naming what is wrong.

        Raises ConfigurationError. Bad audio is not one: it is skipped and named, unless
        `--on-bad-audio fail` asked for it to stop the run.
        """
        try:
            _ = self.corpus_summary  # builds the corpus and its folds
        except CacheWriteError as error:  # e.g. the disk filled while the corpus was decoded into the cache
            raise ConfigurationError(_cache_problem(error)) from None
        except (BadAudio, BadData) as error:
            raise ConfigurationError(f"--corpus {self.settings.corpus}: {error}") from None
        except SpecError as error:
            raise ConfigurationError(f"--corpus {self.settings.corpus}: {error}") from None
        try:
            require_task(self.corpus, self.task)  # a dimensional audit of a corpus without attributes
        except ValueError as error:
            raise ConfigurationError(f"--task {self.task}: {error}") from None
        for spec in self.settings.test_corpora:
            try:
                self.test_corpus(spec)  # a bad spec, or label sets sharing fewer than two emotions
            except (BadAudio, BadData, SpecError) as error:
                message = str(error)
                named = message if "--test-corpus" in message else f"--test-corpus {spec}: {message}"
                raise ConfigurationError(named) from None
        for backbone in self._audited_models():
            try:
                _ = self.run(backbone).encoder
            except SpecError as error:
                raise ConfigurationError(f"{backbone}: {error}") from None

    @cached_property
    def corpus(self) -> Corpus:
        """The corpus, without the utterances too short for the strictest audited encoder or model (dropped
        as bad audio, and named)."""
        corpus = create_corpus(self.settings.corpus, self.settings.cache_root, self.settings.on_bad_audio)
        self._attributes = corpus.attribute_names if self._task_of(corpus) == "dimensional" else ()
        seconds, backbone = self._strictest_minimum(corpus.emotions)
        if seconds > MIN_SECONDS:
            corpus = corpus.without_shorter_than(seconds, backbone, self.settings.on_bad_audio)
        return corpus

    def _task_of(self, corpus: Corpus) -> str:
        """--task, else dimensional for a corpus that rates attributes and has no categories."""
        if self.settings.task is not None:
            return self.settings.task
        return "dimensional" if corpus.attribute_names and not corpus.emotions else "categorical"

    @property
    def task(self) -> str:
        """What the audited models predict: categorical (emotions) or dimensional (attributes)."""
        return self._task_of(self.corpus)

    def test_corpus(self, spec: str) -> Reconciled:
        """A --test-corpus, without the utterances too short for the audited encoders and those of an emotion
        the training corpus lacks (counted), its emotions the shared ones."""
        if spec not in self._test_corpora:
            corpus = create_corpus(spec, self.settings.cache_root, self.settings.on_bad_audio)
            seconds, backbone = self._strictest_minimum(self.corpus.emotions)
            if seconds > MIN_SECONDS:
                corpus = corpus.without_shorter_than(seconds, backbone, self.settings.on_bad_audio)
            self._test_corpora[spec] = reconcile(
                self.corpus.emotions, corpus, train_spec=self.settings.corpus, test_spec=spec
            )
        return self._test_corpora[spec]

    def transfer_run(self, backbone: str, test_corpus: str) -> TransferRun:
        """The backbone's heads (trained on the --corpus folds) evaluated on a --test-corpus."""
        key = (backbone, test_corpus)
        if key not in self._transfers:
            self._transfers[key] = TransferRun(
                self.run(backbone),
                self.test_corpus(test_corpus),
                train_corpus=self.settings.corpus,
                test_corpus=test_corpus,
            )
        return self._transfers[key]

    def _audited_models(self) -> list[str]:
        """The backbones, then the runs of the --export-parity exports (`model:<spec>`)."""
        exports = [MODEL_PREFIX + spec for _, spec in self.settings.export_parity]
        return list(dict.fromkeys([*self.settings.backbones, *exports]))

    def parity_run(self, backbone: str) -> ParityRun:
        """A finished model's run beside the run of its export (--export-parity), for the export-parity gates."""
        if backbone not in self._parities:
            spec = dict(self.settings.export_parity)[backbone]
            self._parities[backbone] = ParityRun(self.run(backbone), self.run(MODEL_PREFIX + spec), exported_spec=spec)
        return self._parities[backbone]

    def _strictest_minimum(self, emotions: tuple[str, ...]) -> tuple[float, str]:
        """The longest `min_seconds` of the audited encoders and finished models (loaded for `emotions`, the
        corpus's), and whose it is."""
        strictest = (0.0, "")
        for backbone in self._audited_models():
            try:
                if backbone.startswith(MODEL_PREFIX):
                    encoder = self._finished_model(backbone, emotions).encoder
                else:
                    encoder = self._encoders.setdefault(backbone, create_encoder(backbone))
            except SpecError:
                continue  # its run reports the problem, in one line (trustser.pytest_plugin.fixtures.backbone_run)
            strictest = max(strictest, (encoder.min_seconds, backbone))
        return strictest

    def _finished_model(self, backbone: str, emotions: tuple[str, ...]) -> FinishedModel:
        if backbone not in self._models:
            overrides = parse_overrides(self.settings.model_labels)
            self._models[backbone] = load_finished_model(
                backbone.removeprefix(MODEL_PREFIX), emotions, overrides, attributes=self._attributes
            )
        return self._models[backbone]

    @cached_property
    def folds(self) -> list[Fold]:
        """The corpus's customary folds (k speaker-independent folds unless it has its own), disjoint in
        sentences too under `--folds-disjoint sentence`.

        Folds that put a speaker on both sides (a team corpus's own) are kept as they are: the protocol
        pillar's speaker-overlap gate fails naming the speakers, and no head is trained on them
        (`BackboneRun.heads`)."""
        # too few speakers, sessions or sentences for the folds asked for, or a team corpus's own refusal
        with spec_errors():
            folds = self.corpus.folds(self.settings.folds, self.settings.seed)
            if self.settings.folds_disjoint == "sentence":
                folds = sentence_disjoint(folds, self.corpus.utterances, self.settings.seed)
        return folds

    @cached_property
    def split(self) -> CorpusSplit:
        return CorpusSplit(self.corpus, self.folds, task=self.task)

    @cached_property
    def corpus_summary(self) -> CorpusSummary:
        return summarise(self.corpus, self.folds, self.settings.corpus, self.settings.folds)

    @cached_property
    def context(self) -> RunContext:
        """What every run of the session shares: the split, the cache, the head recipe, extraction, progress."""
        recipe = TrainConfig(seed=self.settings.seed, max_epochs=self.settings.head_max_epochs)
        memory = self.settings.feature_memory_gib
        return RunContext(
            self.split,
            self.cache,
            recipe,
            extraction=self.extraction,
            progress=self.progress,
            feature_memory=None if memory is None else int(memory * 2**30),
        )

    def run(self, backbone: str) -> BackboneRun:
        """The run of a backbone spec (`mfcc`, `hf:/models/wavlm`) or of a finished model (`model:hf:/ckpt`)."""
        if backbone not in self._runs:
            if backbone.startswith(MODEL_PREFIX):
                self._runs[backbone] = finished_model_run(
                    backbone.removeprefix(MODEL_PREFIX),
                    self.context,
                    label_overrides=parse_overrides(self.settings.model_labels),
                    model=self._models.get(backbone),
                )
            else:
                self._runs[backbone] = trained_run(backbone, self.context, encoder=self._encoders.get(backbone))
        return self._runs[backbone]

    def prediction_rows(self) -> dict[str, list[dict]]:
        """Backbone -> one row per test utterance (its fold, speaker, true and predicted emotion), for every
        run whose predictions were computed (the report writes them: predictions.csv)."""
        return {
            run.backbone: self._prediction_rows(run, run.computed_predictions)
            for run in self._runs.values()
            if run.computed_predictions is not None
        }

    def model_adjustments(self) -> dict[str, list[str]]:
        """Backbone -> what the audit changed to judge each finished model it loaded (eval mode, labels left out
        or merged), counted on the utterances predicted where predictions were computed (the report shows them)."""
        found = {}
        for run in self._runs.values():
            if isinstance(run.source, FinishedModelSource) and run.source.loaded:
                predictions = run.computed_predictions
                lines = run.source.adjustments(None if predictions is None else predictions.utterance_index)
                if lines:
                    found[run.backbone] = lines
        return found

    @staticmethod
    def _prediction_rows(run: BackboneRun, predictions) -> list[dict]:
        if run.split.dimensional:
            return AuditSession._attribute_rows(run, predictions)
        emotions = run.corpus.emotions
        rows = []
        for index, fold, true, predicted in zip(
            predictions.utterance_index, predictions.fold, predictions.y_true, predictions.y_pred
        ):
            utterance = run.corpus.utterances[index]
            rows.append(
                {
                    "backbone": run.backbone,
                    "fold": int(fold),
                    "utterance_id": utterance.id,
                    "speaker": utterance.speaker,
                    "gender": utterance.gender,
                    "true_emotion": emotions[true],
                    "predicted_emotion": emotions[predicted],
                }
            )
        return rows

    @staticmethod
    def _attribute_rows(run: BackboneRun, predictions) -> list[dict]:
        """One row per test utterance with each attribute's rating and prediction, in the corpus's units."""
        scale, names = run.corpus.attribute_scale, run.split.attribute_names
        true, predicted = scale.in_units(predictions.y_true), scale.in_units(predictions.y_pred)
        rows = []
        for row, (index, fold) in enumerate(zip(predictions.utterance_index, predictions.fold)):
            utterance = run.corpus.utterances[index]
            rows.append(
                {
                    "backbone": run.backbone,
                    "fold": int(fold),
                    "utterance_id": utterance.id,
                    "speaker": utterance.speaker,
                    "gender": utterance.gender,
                    **{f"true_{name}": round(float(true[row, i]), 4) for i, name in enumerate(names)},
                    **{f"predicted_{name}": round(float(predicted[row, i]), 4) for i, name in enumerate(names)},
                }
            )
        return rows
