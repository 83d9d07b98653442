"""Fairness: group gaps across gender and across speakers, with bootstrap intervals."""

from __future__ import annotations

from trustser.fairness import GroupFairness, group_fairness
from trustser.pipeline import BackboneRun
from trustser.audit.memo import memoised


@memoised
def gender_fairness(run: BackboneRun) -> GroupFairness:
    p = run.predictions
    gender, speaker = run.column("gender", p.utterance_index), run.column("speaker", p.utterance_index)
    return group_fairness(p.y_true, p.y_pred, gender, speaker, len(run.corpus.emotions), "gender", seed=run.train_config.seed)


@memoised
def speaker_fairness(run: BackboneRun) -> GroupFairness:
    p = run.predictions
    speaker = run.column("speaker", p.utterance_index)
    return group_fairness(p.y_true, p.y_pred, speaker, speaker, len(run.corpus.emotions), "speaker", seed=run.train_config.seed)
