"""The corpus as a run sees it: its utterances, their labels and demographics, and the folds."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from trustser.corpora.base import Corpus
from trustser.corpora.folds import Fold, sentence_key
from trustser.vocabulary import TASKS


def require_task(corpus: Corpus, task: str) -> None:
    """ValueError, saying why, unless `corpus` can be audited for `task` (dimensional: it rates attributes)."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if task == "dimensional" and not corpus.attribute_names:
        raise ValueError(
            f"corpus {corpus.name} rates no attribute (arousal, dominance, valence) on every utterance: "
            "a dimensional audit needs them (docs/corpora.md, Attributes)"
        )
    if task == "categorical" and not corpus.emotions:
        raise ValueError(
            f"corpus {corpus.name} has no emotion categories, only attribute ratings: audit it with --task dimensional"
        )


class CorpusSplit:
    """Row access to a corpus split into speaker-independent folds; rows are utterance indices.

    A fold's training, dev and test rows are its speakers' utterances; for a sentence-disjoint fold
    (`Fold.held_out_sentences`), training and dev leave out the held-out sentences and test keeps only them.
    `task` says what heads learn (`targets`): the emotion class (categorical) or the corpus's attributes,
    normalised to [0, 1] (dimensional).
    """

    def __init__(self, corpus: Corpus, folds: list[Fold], *, task: str = "categorical"):
        require_task(corpus, task)
        self.corpus = corpus
        self.folds = folds
        self.task = task

    @cached_property
    def labels(self) -> np.ndarray:
        """Emotion class index of every utterance."""
        return self.corpus.labels()

    @cached_property
    def attributes(self) -> np.ndarray:
        """[utterances, attributes] normalised to [0, 1] by the corpus's scale, in `attribute_names` order."""
        return self.corpus.attribute_values(normalised=True).astype(np.float32)

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return self.corpus.attribute_names

    @property
    def dimensional(self) -> bool:
        return self.task == "dimensional"

    @property
    def targets(self) -> np.ndarray:
        """What heads learn, per utterance: class indices [n] (categorical) or attributes [n, attributes]."""
        return self.attributes if self.dimensional else self.labels

    @property
    def num_outputs(self) -> int:
        """A head's outputs: one logit per emotion, or one value per attribute."""
        return len(self.attribute_names) if self.dimensional else self.num_classes

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
