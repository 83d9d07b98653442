"""The corpus as a run sees it: its utterances, their labels and demographics, and the folds."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from trustser.corpora.base import Corpus
from trustser.corpora.folds import Fold


class CorpusSplit:
    """Row access to a corpus split into speaker-independent folds; rows are utterance indices."""

    def __init__(self, corpus: Corpus, folds: list[Fold]):
        self.corpus = corpus
        self.folds = folds

    @cached_property
    def labels(self) -> np.ndarray:
        """Emotion class index of every utterance."""
        return self.corpus.labels()

    def indices(self, speakers: tuple[str, ...]) -> np.ndarray:
        """The rows of these speakers' utterances, in corpus order."""
        wanted = set(speakers)
        return np.array([i for i, u in enumerate(self.corpus.utterances) if u.speaker in wanted], dtype=np.int64)

    def column(self, field: str, rows: np.ndarray) -> np.ndarray:
        """An utterance field (speaker, gender, ...) of these rows."""
        return self.corpus.column(field)[rows]

    @property
    def num_classes(self) -> int:
        return len(self.corpus.emotions)
