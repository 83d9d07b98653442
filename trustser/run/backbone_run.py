"""One audited model's trip through the audit: a corpus split, a source of per-fold models, their
predictions on each fold's test speakers, and a memo of what evaluators computed from them.

The pieces each have one job: `CorpusSplit` (trustser.corpora.split) gives rows, labels and columns;
a model source (trustser.models.sources: our heads trained on an encoder's features, or a finished
model) gives the encoder, the stored features and each fold's head; `BackboneRun` assembles them into
end-to-end models and predictions. What every run of an audit shares (split, cache, recipe, extraction,
progress) comes as one `RunContext` (trustser.models.context).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from trustser.cache.store import Cache, content_key
from trustser.compute.executor import Executor
from trustser.compute.memory import release_free_memory
from trustser.corpora.audio import load_waveform
from trustser.corpora.base import Corpus
from trustser.corpora.folds import Fold, check_speaker_independence
from trustser.corpora.split import CorpusSplit
from trustser.encoders.base import Encoder
from trustser.features.extraction import ExtractionSettings, Progress
from trustser.features.store import StoredFeatures
from trustser.models import MODEL_PREFIX
from trustser.models.context import RunContext
from trustser.models.finished.model import FinishedModel
from trustser.models.head import EmotionHead, HeadConfig, WaveformClassifier
from trustser.models.sources import FinishedModelSource, ModelSource, TrainedHeads, finite_weights
from trustser.models.training import TrainConfig, predict_logits
from trustser.run.memo import Memo

__all__ = ["BackboneRun", "Predictions", "Waveforms", "finished_model_run", "finite_weights", "trained_run"]


@dataclass(frozen=True)
class Predictions:
    """Test-set predictions of every fold, aligned row by row: class indices, or in a dimensional audit the
    normalised attributes [rows, attributes] (the corpus's scale maps them back to its units)."""

    utterance_index: np.ndarray
    fold: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    posteriors: np.ndarray | None = None  # [rows, emotions]: softmax of the logits, for calibration

    def for_fold(self, fold: int) -> "Predictions":
        keep = self.fold == fold
        posteriors = None if self.posteriors is None else self.posteriors[keep]
        return Predictions(
            self.utterance_index[keep], self.fold[keep], self.y_true[keep], self.y_pred[keep], posteriors
        )


class Waveforms:
    """Utterances loaded once per run, at the encoder's rate: every safety evaluation attacks the same
    chosen test utterances, several times over (attack curves, noise conditions)."""

    def __init__(self, corpus: Corpus, sample_rate: Callable[[], int]):
        self._corpus, self._sample_rate = corpus, sample_rate  # the rate asked for on first load: it builds the encoder
        self._loaded: dict[int, np.ndarray] = {}

    def load(self, index: int) -> np.ndarray:
        """Utterance `index` of the corpus, loaded on first use and kept."""
        if index not in self._loaded:
            utterance_id = self._corpus.utterances[index].id
            self._loaded[index] = load_waveform(self._corpus, utterance_id, self._sample_rate())
        return self._loaded[index]


class BackboneRun:
    def __init__(self, backbone: str, source: ModelSource, context: RunContext):
        self.backbone, self.source, self.context = backbone, source, context
        self.memo = Memo()  # evaluations already computed for this run (trustser.run.memo)
        self.waveforms = Waveforms(self.corpus, lambda: self.encoder.sample_rate)  # for the safety evaluations
        self._heads: list[EmotionHead] | None = None
        self._predictions: Predictions | None = None

    @property
    def split(self) -> CorpusSplit:
        return self.context.split

    @property
    def cache(self) -> Cache:
        return self.context.cache

    @property
    def train_config(self) -> TrainConfig:
        """The recipe of heads trained for evaluations (its seed seeds the evaluations too)."""
        return self.context.train_config

    @property
    def head_config(self) -> HeadConfig:
        return self.context.head_config

    @property
    def extraction(self) -> ExtractionSettings:
        return self.context.extraction

    @property
    def progress(self) -> Progress:
        return self.context.progress

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
        return self.context.device

    @property
    def fingerprint(self) -> str:
        """Content key of the whole run (encoder, corpus, folds, heads): what its evaluations depend on."""
        return content_key(
            heads=[self.head_key(fold) for fold in self.folds],
            # sentence-disjoint folds test on fewer utterances; others keep the key they always had
            test=[_tested(fold) for fold in self.folds],
        )

    def head_key(self, fold: Fold) -> str:
        """Content key of the fold's head."""
        return self.source.head_key(fold)

    @property
    def heads(self) -> list[EmotionHead]:
        """Each fold's head; refused (AssertionError naming them) for folds that put a speaker on both
        sides, which the protocol pillar's speaker-overlap gate reports."""
        if self._heads is None:
            check_speaker_independence(self.folds)
            self._heads = self.source.heads(self.folds)  # trained together where not cached
            release_free_memory()  # training's freed batches would otherwise add to the next step's peak
        return self._heads

    def cached_head(self, key: str, train: Callable[[], EmotionHead]) -> EmotionHead:
        """A head of the recipe trained by `train()` (e.g. on part of a fold's data), stored under `key`;
        only where `can_retrain`."""
        return self._trained_heads("train heads of its own").cached_head(key, train)

    def training_energy(self, fold: Fold) -> dict:
        """EnergyResult fields of training the fold's head, as measured when it was trained; only where
        `can_retrain`."""
        return self._trained_heads("measure training").training_energy(fold)

    def _trained_heads(self, what: str) -> TrainedHeads:
        if not isinstance(self.source, TrainedHeads):
            raise TypeError(f"{self.backbone}: a finished model's run cannot {what} (can_retrain is False)")
        return self.source

    @property
    def predictions(self) -> Predictions:
        """Each fold's head on its test speakers, all folds stacked."""
        if self._predictions is None:
            rows, folds, predicted, posteriors = [], [], [], []
            for fold, head in zip(self.folds, self.heads):
                test = self.split.test_rows(fold)
                rows.append(test)
                folds.append(np.full(len(test), fold.index))
                outputs = predict_logits(head, self.features, test)
                if self.split.dimensional:
                    predicted.append(outputs.double().numpy())
                else:
                    predicted.append(outputs.argmax(1).numpy())
                    posteriors.append(torch.softmax(outputs.double(), dim=1).numpy())
            index = np.concatenate(rows)
            self._predictions = Predictions(
                index,
                np.concatenate(folds),
                self.split.targets[index],
                np.concatenate(predicted),
                np.concatenate(posteriors) if posteriors else None,
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
        return trained_run(backbone, self.context)


def _tested(fold: Fold) -> object:
    return [fold.test_speakers, fold.held_out_sentences] if fold.held_out_sentences else fold.test_speakers


def trained_run(backbone: str, context: RunContext, *, encoder: Encoder | None = None) -> BackboneRun:
    """The run of an encoder spec with our emotion head trained on its features, per fold."""
    return BackboneRun(backbone, TrainedHeads(backbone, context, encoder=encoder), context)


def finished_model_run(
    spec: str,
    context: RunContext,
    *,
    label_overrides: dict[str, str] | None = None,
    model: FinishedModel | None = None,
) -> BackboneRun:
    """The run of a finished model spec (e.g. `hf:/path/to/checkpoint`), audited as it is (`model`: already
    loaded, for these label overrides and the corpus's emotions)."""
    source = FinishedModelSource(spec, context, label_overrides=label_overrides or {}, model=model)
    return BackboneRun(MODEL_PREFIX + spec, source, context)
