"""Emotional speech corpora behind one interface (`Corpus`), found by name in the registry: each
dataset read as it ships (one module each), manifests, the synthetic default; audio decoding and
its cache (`audio`), speaker-independent folds (`folds`) and the rows, labels and columns of a split
(`split`).

May import: cache, compute, specs
"""

from trustser.corpora.base import EMOTIONS, Corpus, Dropped, Utterance
from trustser.corpora.folds import Fold, speaker_folds
from trustser.corpora.registry import available, create, register

__all__ = ["EMOTIONS", "Corpus", "Dropped", "Fold", "Utterance", "available", "create", "register", "speaker_folds"]
