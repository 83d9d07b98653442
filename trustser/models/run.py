"""Auditing a finished model: its own encoder and head, as they are, in place of our trained heads.

A `FinishedModelRun` is a `BackboneRun` whose every fold has the same head, the model's own, so the
folds' test sets cover each utterance once and the pillars need no special case: utility and
fairness judge the model's predictions, privacy attacks its hidden layers, penultimate
representation and posteriors (attackers still train and test on disjoint speakers of the folds),
safety attacks the model end to end, sustainability measures it. What needs the training recipe
(membership inference against a head trained on known members, DP retraining, training energy) is
not applicable: a finished model's training data and recipe are not ours to know.
"""

from __future__ import annotations

from functools import cached_property

from trustser.cache import Cache, content_key
from trustser.corpora.base import Corpus
from trustser.corpora.folds import Fold
from trustser.errors import NotApplicable
from trustser.heads import EmotionHead
from trustser.models import MODEL_PREFIX
from trustser.models.huggingface import FinishedModel, load_finished_model
from trustser.pipeline import BackboneRun


class FinishedModelRun(BackboneRun):
    trains_heads = False

    def __init__(self, spec: str, corpus: Corpus, folds: list[Fold], cache: Cache, seed: int = 0,
                 label_overrides: dict[str, str] | None = None, on_predictions=None, **run_options):
        super().__init__(MODEL_PREFIX + spec, corpus, folds, cache, seed, on_predictions=on_predictions, **run_options)
        self.spec = spec
        self.label_overrides = label_overrides or {}

    @cached_property
    def model(self) -> FinishedModel:
        return load_finished_model(self.spec, self.corpus.emotions, self.label_overrides)

    @cached_property
    def encoder(self):
        return self.model.encoder

    def head_key(self, fold: Fold) -> str:
        return content_key(step="finished-model", encoder=self.encoder.fingerprint(), head=self.model.head_fingerprint,
                           groups=self.model.head.classifier.groups)

    def head(self, fold: Fold) -> EmotionHead:
        return self.model.head.eval()

    def cached_head(self, key, train, audio_seconds=None):
        self.require_training_recipe("retraining its head")

    def require_training_recipe(self, what: str) -> None:
        raise NotApplicable(f"{what}: it takes the finished model's training data and recipe, which the audit does not have")

    def training_energy(self, fold: Fold) -> dict:
        self.require_training_recipe("training energy and its measurement")

    def deployment(self) -> dict:
        return {"model": self.spec, "labels": self.label_overrides, "emotions": list(self.corpus.emotions)}
