"""A finished model (`--model`) beside its export (`--export-parity`): the two runs the export-parity gates
compare, on the same corpus, utterances and folds.

A `ParityRun` answers what the parity evaluations read: the two models' posteriors over the audit's emotions
on every utterance of the corpus (each finished model has one head for every fold, so each utterance is
answered once), and each fold's end-to-end model of either, for the attacks crafted on one and played to the
other. It is named after the reference (`backbone`), so its rows sit beside the reference's other gates.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from trustser.compute.memory import release_free_memory
from trustser.corpora.base import Corpus
from trustser.models.training import TrainConfig, predict_logits
from trustser.run.backbone_run import BackboneRun
from trustser.run.memo import Memo


class ParityRun:
    def __init__(self, reference: BackboneRun, exported: BackboneRun, *, exported_spec: str):
        self.reference, self.exported, self.exported_spec = reference, exported, exported_spec
        self.backbone = reference.backbone
        self.memo = Memo()  # its own: the parity evaluations are not the reference's

    @property
    def corpus(self) -> Corpus:
        return self.reference.corpus

    @property
    def train_config(self) -> TrainConfig:
        return self.reference.train_config

    @cached_property
    def rows(self) -> np.ndarray:
        return np.arange(len(self.corpus), dtype=np.int64)

    def posteriors(self, run: BackboneRun) -> np.ndarray:
        """`run`'s posteriors [utterances, emotions] over the audit's emotions, every utterance once."""
        probabilities = predict_logits(run.heads[0], run.features, self.rows).exp().numpy()
        release_free_memory()
        return probabilities

    @property
    def ids(self) -> list[str]:
        return [self.corpus.utterances[i].id for i in self.rows]
