"""Auditing a finished model: its own encoder and head, as they are, in place of our trained heads.

Its run has every fold use the same head, the model's own, so the folds' test sets cover each
utterance once and the pillars need no special case: utility and fairness judge the model's
predictions, privacy attacks its hidden layers, penultimate representation and posteriors (attackers
still train and test on disjoint speakers of the folds), safety attacks the model end to end,
sustainability measures it. What needs the training recipe (membership inference against a head
trained on known members, DP retraining, training energy) is not applicable: the source says it
cannot retrain, and those evaluations skip.
"""

from __future__ import annotations

from functools import cached_property

from trustser.cache import Cache, content_key
from trustser.corpora.folds import Fold
from trustser.corpus_split import CorpusSplit
from trustser.extraction import ExtractionSettings, Progress, extract_features, stderr_progress
from trustser.feature_store import StoredFeatures
from trustser.heads import EmotionHead
from trustser.models import MODEL_PREFIX
from trustser.models.head import FinishedModel
from trustser.models.loading import load_finished_model
from trustser.pipeline import BackboneRun
from trustser.training import TrainConfig


class FinishedModelSource:
    """A finished model's encoder and head; the same head for every fold."""

    can_retrain = False

    def __init__(
        self,
        spec: str,
        split: CorpusSplit,
        cache: Cache,
        *,
        label_overrides: dict[str, str],
        extraction: ExtractionSettings,
        progress: Progress,
    ):
        self.spec, self.split, self.cache = spec, split, cache
        self.label_overrides = label_overrides
        self.extraction, self.progress = extraction, progress

    @cached_property
    def model(self) -> FinishedModel:
        return load_finished_model(self.spec, self.split.corpus.emotions, self.label_overrides)

    @property
    def encoder(self):
        return self.model.encoder

    @cached_property
    def features(self) -> StoredFeatures:
        return extract_features(self.encoder, self.split.corpus, self.cache, self.extraction, progress=self.progress)

    def head_key(self, fold: Fold) -> str:
        return content_key(
            step="finished-model",
            encoder=self.encoder.fingerprint(),
            head=self.model.head_fingerprint,
            groups=self.model.head.classifier.groups,
        )

    def head(self, fold: Fold) -> EmotionHead:
        return self.model.head.eval()

    def deployment(self, fold: Fold) -> dict:
        return {"model": self.spec, "labels": self.label_overrides, "emotions": list(self.split.corpus.emotions)}


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
