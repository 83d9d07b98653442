"""Protocol evaluators: does test data reach training? Speakers on both sides of a fold, one recording
under two ids (audio fingerprints), sentences heard in training and their effect on UAR, and training
data the model declares."""

from trustser.pillars.protocol.fingerprints import Fingerprint, fingerprint, matching_pairs
from trustser.pillars.protocol.leakage import (
    DuplicateAudit,
    LexicalOverlap,
    SeenSentenceGap,
    SpeakerOverlap,
    classify_duplicates,
    find_lexical_overlap,
    find_speaker_overlap,
    seen_sentence_gap,
    why_unmeasurable,
)
from trustser.pillars.protocol.training_data import TrainingDataOverlap, names_corpus, training_data_overlap

__all__ = [
    "DuplicateAudit",
    "Fingerprint",
    "LexicalOverlap",
    "SeenSentenceGap",
    "SpeakerOverlap",
    "TrainingDataOverlap",
    "classify_duplicates",
    "fingerprint",
    "find_lexical_overlap",
    "matching_pairs",
    "names_corpus",
    "seen_sentence_gap",
    "find_speaker_overlap",
    "training_data_overlap",
    "why_unmeasurable",
]
