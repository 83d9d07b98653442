"""The corpus as a run sees it: its utterances, their labels and demographics, and the folds."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from trustser.corpora.base import Corpus
from trustser.corpora.folds import Fold, sentence_key


class CorpusSplit:
    """Row access to a corpus split into speaker-independent folds; rows are utterance indices.

    A fold's training, dev and test rows are its speakers' utterances; for a sentence-disjoint fold
    (`Fold.held_out_sentences`), training and dev leave out the held-out sentences and test keeps only them.
    """

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

    @cached_property
    def sentence_keys(self) -> np.ndarray:
        """Every utterance's sentence as compared across utterances (`sentence_key`; "" for none)."""
        return np.array([sentence_key(u.sentence) for u in self.corpus.utterances], dtype=object)

    def train_rows(self, fold: Fold) -> np.ndarray:
        """The rows a fold's head is trained on."""
        return self._sentences(self.indices(fold.train_speakers), fold, held_out=False)

    def dev_rows(self, fold: Fold) -> np.ndarray:
        """The rows a fold's training stops early on."""
        return self._sentences(self.indices(fold.dev_speakers), fold, held_out=False)

    def test_rows(self, fold: Fold) -> np.ndarray:
        """The rows a fold is tested on."""
        return self._sentences(self.indices(fold.test_speakers), fold, held_out=True)

    def _sentences(self, rows: np.ndarray, fold: Fold, *, held_out: bool) -> np.ndarray:
        if not fold.held_out_sentences:
            return rows
        held = set(fold.held_out_sentences)
        return rows[np.array([(key in held) == held_out for key in self.sentence_keys[rows]], dtype=bool)]

    def column(self, field: str, rows: np.ndarray) -> np.ndarray:
        """An utterance field (speaker, gender, ...) of these rows."""
        return self.corpus.column(field)[rows]

    @property
    def num_classes(self) -> int:
        return len(self.corpus.emotions)
