"""One audited model's trip through the audit: a corpus split, a source of per-fold models, their
predictions on each fold's test speakers, and a memo of what evaluators computed from them.

The pieces each have one job: `CorpusSplit` (trustser.corpora.split) gives rows, labels and columns;
a model source (trustser.models.sources: our heads trained on an encoder's features, or a finished
model, trustser.run.backbone_run) gives the encoder, the stored features and each fold's head; `BackboneRun`
assembles them into end-to-end models and predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trustser.cache.store import Cache, content_key
from trustser.compute.executor import Executor
from trustser.compute.memory import release_free_memory
from trustser.corpora.base import Corpus
from trustser.corpora.folds import Fold
from trustser.corpora.split import CorpusSplit
from trustser.encoders.base import Encoder
from trustser.features.extraction import ExtractionSettings, Progress, stderr_progress
from trustser.features.store import StoredFeatures
from trustser.models import MODEL_PREFIX
from trustser.models.head import EmotionHead, HeadConfig, WaveformClassifier
from trustser.models.sources import FinishedModelSource, ModelSource, TrainedHeads, finite_weights
from trustser.models.training import TrainConfig, predict_logits

__all__ = ["BackboneRun", "Predictions", "finished_model_run", "finite_weights", "trained_run"]


@dataclass(frozen=True)
class Predictions:
    """Test-set predictions of every fold, aligned row by row."""

    utterance_index: np.ndarray
    fold: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray

    def for_fold(self, fold: int) -> "Predictions":
        keep = self.fold == fold
        return Predictions(self.utterance_index[keep], self.fold[keep], self.y_true[keep], self.y_pred[keep])


class BackboneRun:
    def __init__(
        self,
        backbone: str,
        split: CorpusSplit,
        source: ModelSource,
        cache: Cache,
        *,
        train_config: TrainConfig,
        head_config: HeadConfig = HeadConfig(),
        extraction: ExtractionSettings = ExtractionSettings(),
        progress: Progress = stderr_progress,
    ):
        self.backbone, self.split, self.source, self.cache = backbone, split, source, cache
        self.train_config, self.head_config = train_config, head_config  # the recipe of heads trained for evaluations
        self.extraction, self.progress = extraction, progress
        self.memo: dict[tuple, object] = {}  # evaluations already computed for this run (trustser.run.memo)
        self.waveforms: dict[int, np.ndarray] = {}  # utterances loaded once for the safety evaluations
        self._heads: list[EmotionHead] | None = None
        self._predictions: Predictions | None = None

    @property
    def corpus(self) -> Corpus:
        return self.split.corpus

    @property
    def folds(self) -> list[Fold]:
        return self.split.folds

    @property
    def encoder(self) -> Encoder:
        return self.source.encoder

    @property
    def features(self) -> StoredFeatures:
        return self.source.features

    @property
    def can_retrain(self) -> bool:
        """Whether evaluations may train heads with the recipe (a finished model's recipe is not ours)."""
        return self.source.can_retrain

    @property
    def executor(self) -> Executor:
        """Where per-utterance work runs (--executor): extraction's shards and the attacks' folds."""
        return self.extraction.executor

    @property
    def device(self):
        """Where extraction, head training, attacks and noise run (--device)."""
        return self.extraction.compute.device

    @property
    def fingerprint(self) -> str:
        """Content key of the whole run (encoder, corpus, folds, heads): what its evaluations depend on."""
        return content_key(
            heads=[self.source.head_key(fold) for fold in self.folds], test=[f.test_speakers for f in self.folds]
        )

    @property
    def heads(self) -> list[EmotionHead]:
        if self._heads is None:
            self._heads = [self.source.head(fold) for fold in self.folds]
            release_free_memory()  # training's freed batches would otherwise add to the next step's peak
        return self._heads

    @property
    def predictions(self) -> Predictions:
        """Each fold's head on its test speakers, all folds stacked."""
        if self._predictions is None:
            rows, folds, predicted = [], [], []
            for fold, head in zip(self.folds, self.heads):
                test = self.split.indices(fold.test_speakers)
                rows.append(test)
                folds.append(np.full(len(test), fold.index))
                predicted.append(predict_logits(head, self.features, test).argmax(1).numpy())
            index = np.concatenate(rows)
            self._predictions = Predictions(
                index, np.concatenate(folds), self.split.labels[index], np.concatenate(predicted)
            )
            release_free_memory()
        return self._predictions

    @property
    def computed_predictions(self) -> Predictions | None:
        """The predictions if an evaluation has asked for them, else None (nothing is computed)."""
        return self._predictions

    def waveform_model(self, fold: Fold) -> WaveformClassifier:
        """Encoder and the fold's head as one model from waveforms to logits."""
        model = WaveformClassifier(self.encoder, self.heads[fold.index]).to(self.device).eval()
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        return model

    def deployment(self) -> dict:
        """What a fresh process needs to rebuild the released model (the first fold's)."""
        return self.source.deployment(self.folds[0])

    def sibling(self, backbone: str) -> "BackboneRun":
        """The same split, cache, seed and head recipe with another backbone (e.g. an attack surrogate)."""
        return trained_run(
            backbone,
            self.split,
            self.cache,
            train_config=self.train_config,
            head_config=self.head_config,
            extraction=self.extraction,
            progress=self.progress,
        )


def trained_run(
    backbone: str,
    split: CorpusSplit,
    cache: Cache,
    *,
    train_config: TrainConfig,
    head_config: HeadConfig = HeadConfig(),
    encoder: Encoder | None = None,
    extraction: ExtractionSettings = ExtractionSettings(),
    progress: Progress = stderr_progress,
) -> BackboneRun:
    """The run of an encoder spec with our emotion head trained on its features, per fold."""
    source = TrainedHeads(
        backbone,
        split,
        cache,
        train_config=train_config,
        head_config=head_config,
        encoder=encoder,
        extraction=extraction,
        progress=progress,
    )
    return BackboneRun(
        backbone,
        split,
        source,
        cache,
        train_config=train_config,
        head_config=head_config,
        extraction=extraction,
        progress=progress,
    )


def finished_model_run(
    spec: str,
    split: CorpusSplit,
    cache: Cache,
    *,
    train_config: TrainConfig,
    label_overrides: dict[str, str] | None = None,
    extraction: ExtractionSettings = ExtractionSettings(),
    progress: Progress = stderr_progress,
) -> BackboneRun:
    """The run of a finished model spec (e.g. `hf:/path/to/checkpoint`), audited as it is."""
    source = FinishedModelSource(
        spec, split, cache, label_overrides=label_overrides or {}, extraction=extraction, progress=progress
    )
    return BackboneRun(
        MODEL_PREFIX + spec, split, source, cache, train_config=train_config, extraction=extraction, progress=progress
    )
