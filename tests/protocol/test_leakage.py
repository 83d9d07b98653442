"""The protocol pillar's evaluators judged by the shipped gates: each planted leak fails (or warns) its
gate naming what leaked, and a clean split passes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trustser.corpora.base import Corpus, Utterance
from trustser.corpora.folds import Fold, speaker_folds
from trustser.corpora.split import CorpusSplit
from trustser.gates.thresholds import load_gates
from trustser.pillars import declared_metrics
from trustser.pillars.protocol import (
    classify_duplicates,
    find_lexical_overlap,
    find_speaker_overlap,
    seen_sentence_gap,
    why_unmeasurable,
)
from trustser.vocabulary import Verdict

ROOT = Path(__file__).resolve().parents[2]
SPEAKERS = {"f1": "female", "f2": "female", "m1": "male", "m2": "male"}


@pytest.fixture(scope="module")
def gates():
    return load_gates(ROOT / "thresholds.toml", declared_metrics())


def judged(gates, metric: str, value: float, note: str = "", group_size: int | None = None):
    return gates[metric].judge(value, "test on tiny", group_size=group_size, note=note)


def tiny_split(sentences_of=lambda speaker: ("s1", "s2"), folds=None) -> CorpusSplit:
    """Four speakers, each saying their sentences in two emotions; two speaker-independent folds."""
    utterances = [
        Utterance(f"{speaker}_{sentence}_{emotion}", speaker, gender, emotion, sentence)
        for speaker, gender in SPEAKERS.items()
        for sentence in sentences_of(speaker)
        for emotion in ("neutral", "angry")
    ]
    corpus = Corpus(utterances)
    return CorpusSplit(corpus, folds or speaker_folds(utterances, 2, seed=0))


def test_a_test_speaker_also_trained_on_fails_the_speaker_overlap_gate_naming_them(gates):
    leaking = [Fold(0, ("f1", "m1"), ("f2",), ("f2", "m2")), Fold(1, ("f2", "m2"), (), ("f1", "m1"))]
    result = find_speaker_overlap(leaking)
    assert (result.leaked_speakers, result.test_speakers) == (1, 4)
    judgement = judged(gates, "protocol.speaker_overlap", result.leaked_speakers, result.note)
    assert judgement.verdict is Verdict.FAIL and "f2 (fold 0: test and dev)" in judgement.message

    clean = find_speaker_overlap(tiny_split().folds)
    assert judged(gates, "protocol.speaker_overlap", clean.leaked_speakers).verdict is Verdict.PASS


def test_one_recording_across_train_and_test_fails_and_within_a_split_warns_both_named(gates):
    split = tiny_split()
    ids = [u.id for u in split.corpus.utterances]
    fold = split.folds[0]
    tested, trained = split.test_rows(fold), split.train_rows(fold)
    speaker = split.corpus.utterances[tested[0]].speaker
    same_speaker = [int(i) for i in tested if split.corpus.utterances[i].speaker == speaker]
    crossing = (int(min(tested[0], trained[0])), int(max(tested[0], trained[0])), 0.03)
    pairs = [crossing, (same_speaker[0], same_speaker[1], 0.0)]
    audit = classify_duplicates(pairs, split, fingerprinted=len(ids), too_short=0)
    [across], [within] = audit.across, audit.within
    assert {across.first, across.second} == {ids[tested[0]], ids[trained[0]]} and across.fold == 0
    assert {within.first, within.second} == {ids[same_speaker[0]], ids[same_speaker[1]]} and within.fold is None

    failing = judged(gates, "protocol.duplicates_across_splits", len(audit.across), audit.note(audit.across, ""))
    assert failing.verdict is Verdict.FAIL and ids[tested[0]] in failing.message and ids[trained[0]] in failing.message
    warning = judged(gates, "protocol.duplicates_within_split", len(audit.within), audit.note(audit.within, ""))
    assert warning.verdict is Verdict.WARN and ids[same_speaker[0]] in warning.message

    clean = classify_duplicates([], split, fingerprinted=len(ids), too_short=0)
    assert clean.across == clean.within == ()
    for metric in ("protocol.duplicates_across_splits", "protocol.duplicates_within_split"):
        assert judged(gates, metric, 0).verdict is Verdict.PASS


def test_every_sentence_said_by_every_speaker_is_full_lexical_overlap_and_own_sentences_none(gates):
    shared = find_lexical_overlap(tiny_split())
    assert (shared.share, shared.seen, shared.unseen) == (1.0, 16, 0)
    assert judged(gates, "protocol.lexical_overlap", shared.share).verdict is Verdict.WARN  # a warn-level gate

    own = find_lexical_overlap(tiny_split(lambda speaker: (f"{speaker} says one", f"{speaker} says two")))
    assert (own.share, own.unseen) == (0.0, 16)
    assert judged(gates, "protocol.lexical_overlap", own.share).verdict is Verdict.PASS

    half = find_lexical_overlap(tiny_split(lambda speaker: ("s1", f"{speaker} alone")))
    assert half.share == 0.5
    assert find_lexical_overlap(tiny_split(lambda speaker: ("",))) is None  # no sentences: not applicable


def test_a_head_better_on_sentences_it_heard_fails_the_gap_gate_and_one_alike_on_both_passes(gates):
    rng = np.random.default_rng(0)
    y_true = np.repeat(np.arange(4), 30)
    seen = np.tile([True, False], 60)
    memorising = np.where(seen, y_true, rng.integers(0, 4, len(y_true)))  # right when heard, chance otherwise
    gap = seen_sentence_gap(y_true, memorising, seen)
    assert gap.gap > 0.5
    judgement = judged(gates, "protocol.seen_sentence_uar_gap", gap.gap, gap.note, min(gap.seen, gap.unseen))
    assert judgement.verdict is Verdict.FAIL and "60 utterances of sentences heard in training" in judgement.message

    alike = np.where(rng.random(len(y_true)) < 0.8, y_true, (y_true + 1) % 4)  # 80% right whatever was heard
    control = seen_sentence_gap(y_true, alike, seen)
    assert abs(control.gap) < 0.1
    assert judged(gates, "protocol.seen_sentence_uar_gap", control.gap, group_size=60).verdict is Verdict.PASS
    # too few utterances on a side: a WARN, not a verdict
    assert judged(gates, "protocol.seen_sentence_uar_gap", gap.gap, group_size=10).verdict is Verdict.WARN


def test_the_gap_is_unmeasurable_when_every_or_no_test_sentence_was_heard():
    y = np.arange(8) % 4
    assert "--folds-disjoint sentence" in why_unmeasurable(np.ones(8, bool))
    assert "no test utterance" in why_unmeasurable(np.zeros(8, bool))
    assert why_unmeasurable(np.arange(8) % 2 == 0) == ""
    with pytest.raises(ValueError, match="lexical overlap 100%"):
        seen_sentence_gap(y, y, np.ones(8, bool))
