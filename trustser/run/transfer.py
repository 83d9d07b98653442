"""A backbone's heads, trained on the `--corpus` folds, evaluated on another corpus as a whole
(`--test-corpus`): cross-corpus transfer.

A `TransferRun` answers what the utility and fairness evaluations read of a run (`predictions`, `corpus`,
`split`, `train_config`, `memo`), so the same metric functions measure it as they measure the in-corpus
run (`home`). Every fold's head predicts every utterance of the test corpus, restricted to the emotions
the two corpora share (trustser.corpora.reconcile); the rows are stacked per fold as in-corpus, so UAR is
the mean over the folds' heads, as it is in-corpus: the in-corpus -> cross-corpus drop compares the
same heads on the two corpora. (Averaging the folds' posteriors instead would judge an ensemble that
is never audited in-corpus, and understate the drop.) A finished model has one head: it predicts once.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property

import numpy as np

from trustser.compute.memory import release_free_memory
from trustser.corpora.base import Corpus
from trustser.corpora.reconcile import Reconciled
from trustser.corpora.split import CorpusSplit
from trustser.features.store import StoredFeatures
from trustser.models.head import EmotionHead
from trustser.models.training import TrainConfig, predict_logits
from trustser.run.backbone_run import BackboneRun, Predictions
from trustser.run.memo import Memo


class TransferRun:
    def __init__(self, home: BackboneRun, reconciled: Reconciled, *, train_corpus: str, test_corpus: str):
        self.home, self.reconciled = home, reconciled
        self.train_corpus, self.test_corpus = train_corpus, test_corpus  # the specs, as the report names them
        self.backbone = home.backbone
        self.memo = Memo()  # its own: a memoised evaluation of this run is not the in-corpus one
        self.split = CorpusSplit(reconciled.corpus, folds=[])  # the whole corpus is test data
        self.context = dataclasses.replace(home.context, split=self.split)  # same cache and extraction settings

    @property
    def corpus(self) -> Corpus:
        return self.split.corpus

    @property
    def train_config(self) -> TrainConfig:
        return self.home.train_config

    @cached_property
    def features(self) -> StoredFeatures:
        """The test corpus's features through the home run's encoder, extracted once and cached."""
        return self.context.extract(self.home.encoder)

    @property
    def heads(self) -> list[EmotionHead]:
        """Each fold's head; a finished model's one head once (its folds all share it)."""
        return self.home.heads if self.home.can_retrain else self.home.heads[:1]

    @cached_property
    def predictions(self) -> Predictions:
        """Every fold's head on every test utterance, argmax over the shared emotions, stacked by fold."""
        rows = np.arange(len(self.corpus), dtype=np.int64)
        columns = list(self.reconciled.columns)
        folds, predicted = [], []
        for fold, head in zip(self.home.folds, self.heads):
            logits = predict_logits(head, self.features, rows)[:, columns]
            folds.append(np.full(len(rows), fold.index))
            predicted.append(logits.argmax(1).numpy())
        release_free_memory()
        index = np.tile(rows, len(predicted))
        return Predictions(index, np.concatenate(folds), self.split.labels[index], np.concatenate(predicted))
