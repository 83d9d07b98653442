"""Protocol: does test data reach training? Speakers, recordings, sentences and declared training data.

These gates judge the evaluation under every other gate, so `pytest trust_tests` runs them first. Each
is measured for every audited backbone (the split is the same for all; what a model was trained on,
and how much the seen sentences help it, are its own). The fingerprints of a corpus are computed once
and stored in the cache under the corpus's content key.
"""

from __future__ import annotations

import numpy as np

from trustser.cache.store import content_key
from trustser.errors import NotApplicable
from trustser.gates.declaration import declare_metric
from trustser.gates.measurement import Measurement
from trustser.models.training import predict_logits
from trustser.pillars.protocol import fingerprints
from trustser.pillars.protocol.leakage import (
    DuplicateAudit,
    LexicalOverlap,
    SeenSentenceGap,
    SpeakerOverlap,
    classify_duplicates,
    find_lexical_overlap,
    find_speaker_overlap,
    held_back_rows,
    seen_in_training,
    seen_sentence_gap,
    why_unmeasurable,
)
from trustser.pillars.protocol.training_data import TrainingDataOverlap, training_data_overlap
from trustser.run.backbone_run import BackboneRun
from trustser.run.memo import memoised
from trustser.vocabulary import TASKS

SPEAKER_OVERLAP = declare_metric(
    "protocol.speaker_overlap",
    tasks=TASKS,  # a dimensional audit's models too
    label="test speakers seen in training",
    bound="max",
    default=0,
    definition="The number of distinct speakers who, in some fold, are both tested and trained on (or used "
    "for early stopping). 0 for speaker-independent folds; the audit trains no head on folds that break it.",
    chance="0 for any speaker-independent split",
    reference="speaker-independent evaluation, scikit-learn `GroupKFold` semantics with speakers as groups",
)
_FINGERPRINT = (
    " Two utterances are one recording when their audio fingerprints match: at 64 positions spread over "
    "the trimmed 16 kHz audio, the signs of the differences between neighbouring mel-band log energies "
    "(100-3800 Hz) and of their change over 16 ms; at most 18% of the bits may differ, and the trimmed "
    "lengths agree within 2%. Robust to container, sample rate, gain and lossy re-encoding."
)
_FINGERPRINT_REFERENCE = (
    "Haitsma & Kalker (2002), A Highly Robust Audio Fingerprinting System (sign-of-difference bits); "
    "Allamanis (2019), The Adverse Effects of Code Duplication in Machine Learning Models of Code "
    "(duplicates across splits inflate test scores)"
)
DUPLICATES_ACROSS_SPLITS = declare_metric(
    "protocol.duplicates_across_splits",
    tasks=TASKS,  # a dimensional audit's models too
    label="duplicate recordings across train/test",
    bound="max",
    default=0,
    definition="The number of pairs of utterances that are one recording, one trained on (or used for early "
    "stopping) and the other tested in the same fold; each pair is named." + _FINGERPRINT,
    chance="0 for a corpus without duplicates",
    reference=_FINGERPRINT_REFERENCE,
)
DUPLICATES_WITHIN_SPLIT = declare_metric(
    "protocol.duplicates_within_split",
    tasks=TASKS,  # a dimensional audit's models too
    label="duplicate recordings within a split",
    bound="max",
    default=0,
    definition="The number of pairs of utterances that are one recording but never on opposite sides of a "
    "fold (both trained on, both tested, or one unused): they weigh one recording twice; each pair is "
    "named." + _FINGERPRINT,
    chance="0 for a corpus without duplicates",
    reference=_FINGERPRINT_REFERENCE,
)
LEXICAL_OVERLAP = declare_metric(
    "protocol.lexical_overlap",
    tasks=TASKS,  # a dimensional audit's models too
    label="lexical overlap",
    bound="max",
    default=0,
    definition="The share of test utterances whose sentence or transcript (compared casefolded, punctuation "
    "ignored) is also said by an utterance their fold trains on or stops early on, pooled over the folds. "
    "Test utterances without a sentence are left out; a corpus without any is not applicable.",
    chance="1 for corpora whose every speaker says every sentence (the synthetic default, CREMA-D, RAVDESS, "
    "EmoDB, IEMOCAP's scripted sessions); 0 for sentence-disjoint folds (--folds-disjoint sentence)",
    reference="text-independent evaluation of acted corpora with fixed sentences; IEMOCAP (Busso et al., 2008): "
    "scripted sessions repeat their lines across speakers, improvised ones do not",
)
SEEN_SENTENCE_UAR_GAP = declare_metric(
    "protocol.seen_sentence_uar_gap",
    label="UAR gain on sentences seen in training",
    bound="max",
    default=0.10,
    definition="UAR on test speakers' utterances of sentences heard in training minus UAR on their utterances "
    "of unheard sentences, pooled over folds, each fold's own head. Under --folds-disjoint sentence the "
    "seen side is the test speakers' utterances outside their fold's test set (the fold trains on those "
    "sentences). Not applicable when one side is empty, or to a finished model (not trained on these folds).",
    chance="0 (the words heard in training do not help)",
    reference="UAR as in `utility.uar` (sklearn `balanced_accuracy_score`) on each side",
)
DECLARED_TRAINING_DATA = declare_metric(
    "protocol.declared_training_data",
    tasks=TASKS,  # a dimensional audit's models too
    label="declared training data overlapping the corpus",
    bound="max",
    default=0,
    definition="The number of datasets the encoder or finished model declares it was trained on that name "
    "the audited corpus (a Hugging Face dataset id's name, e.g. AbstractTTS/IEMOCAP for iemocap). Declared "
    "by the encoder's registration (`trained_on`), a checkpoint's model card (`datasets` in README.md's "
    "front matter) or a team module's `trained_on` attribute.",
    chance="0 for a model declared to be trained elsewhere",
    reference="Hugging Face model cards' `datasets` metadata; emotion2vec+ was fine-tuned on EmoBox's corpora "
    "(ddlBoJack/emotion2vec issues 46 and 77)",
)

_FINISHED = (
    "a finished model was not trained on this audit's folds, so what its training heard is unknown here "
    "(protocol.declared_training_data gates what it declares)"
)


@memoised
def fold_speaker_overlap(run: BackboneRun) -> SpeakerOverlap:
    return find_speaker_overlap(run.folds)


def speaker_overlap(run: BackboneRun) -> Measurement:
    result = fold_speaker_overlap(run)
    return Measurement(result.leaked_speakers, n=result.test_speakers, details=result, note=result.note)


def corpus_scan(run: BackboneRun) -> fingerprints.CorpusScan:
    """The corpus's duplicate recordings, fingerprinted once per corpus and kept in the cache."""
    corpus = run.corpus
    settings = {
        name: getattr(fingerprints, name)
        for name in ("RATE", "FRAME", "HOP", "BANDS", "LOW_HZ", "HIGH_HZ", "FRAMES", "TRIM", "FLOOR", "ACTIVE_DB")
    }
    settings.update(match=fingerprints.MATCH_BIT_ERROR_RATE, length=fingerprints.LENGTH_TOLERANCE)
    key = content_key(
        step="duplicate-recordings", version=fingerprints.FINGERPRINT_VERSION, corpus=corpus.fingerprint(), **settings
    )
    path = run.cache.path("results", key, ".json")
    with run.cache.lock("results", key):
        if run.cache.intact(path):
            stored = run.cache.load_json(path)
            pairs = tuple((int(i), int(j), float(rate)) for i, j, rate in stored["pairs"])
            return fingerprints.CorpusScan(pairs, stored["fingerprinted"], stored["too_short"])
        run.progress(f"fingerprinting {len(corpus)} utterances of {corpus.name} for duplicate recordings")
        found = fingerprints.scan(corpus)
        run.cache.save_json(
            path,
            {
                "pairs": [list(p) for p in found.pairs],
                "fingerprinted": found.fingerprinted,
                "too_short": found.too_short,
            },
        )
    return found


@memoised
def duplicate_recordings(run: BackboneRun) -> DuplicateAudit:
    found = corpus_scan(run)
    return classify_duplicates(
        list(found.pairs), run.split, fingerprinted=found.fingerprinted, too_short=found.too_short
    )


def duplicates_across_splits(run: BackboneRun) -> Measurement:
    result = duplicate_recordings(run)
    note = result.note(result.across, "no recording is both trained on and tested")
    return Measurement(len(result.across), n=result.fingerprinted, details=result, note=note)


def duplicates_within_split(run: BackboneRun) -> Measurement:
    result = duplicate_recordings(run)
    note = result.note(result.within, "no recording appears twice within a split")
    return Measurement(len(result.within), n=result.fingerprinted, details=result, note=note)


@memoised
def sentence_overlap(run: BackboneRun) -> LexicalOverlap:
    if not run.can_retrain:
        raise NotApplicable(_FINISHED)
    result = find_lexical_overlap(run.split)
    if result is None:
        raise NotApplicable(f"{run.corpus.name} gives no sentence or transcript for its test utterances")
    return result


def lexical_overlap(run: BackboneRun) -> Measurement:
    result = sentence_overlap(run)
    return Measurement(result.share, n=result.seen + result.unseen, details=result, note=result.note)


@memoised
def seen_sentence_effect(run: BackboneRun) -> SeenSentenceGap:
    """Each fold's head on its test speakers' utterances that have a sentence: its test set (the run's
    predictions) and, for sentence-disjoint folds, those held back from it, whose sentences it trains on.
    Whether both sides exist is known before any head is asked for."""
    sentence_overlap(run)  # not applicable without sentences, or to a finished model
    keys = run.split.sentence_keys
    sides = []
    for fold in run.folds:
        tested, rest = run.split.test_rows(fold), held_back_rows(run.split, fold)
        keep = keys[tested] != ""
        sides.append((keep, rest, seen_in_training(run.split, fold, np.concatenate([tested[keep], rest]))))
    seen = np.concatenate([heard for _, _, heard in sides])
    reason = why_unmeasurable(seen)
    if reason:
        raise NotApplicable(reason)
    truths, predicted = [], []
    for fold, head, (keep, rest, _) in zip(run.folds, run.heads, sides):
        tested = run.predictions.for_fold(fold.index)
        extra = predict_logits(head, run.features, rest).argmax(1).numpy() if len(rest) else np.zeros(0, np.int64)
        truths.append(run.split.labels[np.concatenate([tested.utterance_index[keep], rest])])
        predicted.append(np.concatenate([tested.y_pred[keep], extra]))
    return seen_sentence_gap(
        np.concatenate(truths), np.concatenate(predicted), seen, from_held_back=sum(len(rest) for _, rest, _ in sides)
    )


def seen_sentence_uar_gap(run: BackboneRun) -> Measurement:
    result = seen_sentence_effect(run)
    return Measurement(
        result.gap,
        n=result.seen + result.unseen,
        group_size=min(result.seen, result.unseen),
        details=result,
        note=result.note,
    )


@memoised
def training_data(run: BackboneRun) -> TrainingDataOverlap:
    return training_data_overlap(tuple(run.encoder.trained_on), run.corpus.name)


def declared_training_data(run: BackboneRun) -> Measurement:
    result = training_data(run)
    return Measurement(len(result.overlapping), n=len(result.declared), details=result, note=result.note)
