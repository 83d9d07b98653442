"""Emotional speech corpora behind one interface (`Corpus`), found by name in the registry."""

from trustser.corpora.base import EMOTIONS, Corpus, Dropped, Utterance
from trustser.corpora.folds import Fold, speaker_folds
from trustser.corpora.registry import available, create, register

__all__ = ["EMOTIONS", "Corpus", "Dropped", "Fold", "Utterance", "available", "create", "register", "speaker_folds"]
