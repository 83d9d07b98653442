"""Cross-corpus transfer: how much UAR the heads lose on a corpus they were not trained on (docs/metrics.md,
Utility)."""

from __future__ import annotations

from dataclasses import dataclass

from trustser.pillars.utility.recognition import UtilityResult


@dataclass(frozen=True)
class TransferResult:
    drop: float  # in-corpus UAR minus cross-corpus UAR (positive: the heads lose UAR on the test corpus)
    in_corpus_uar: float
    cross_corpus_uar: float
    train_corpus: str
    test_corpus: str
    shared_emotions: tuple[str, ...]
    left_out: int  # test-corpus utterances of an emotion the training corpus lacks, not evaluated
    drop_by_fold: tuple[float, ...]  # each fold's head: its in-corpus UAR minus its UAR on the test corpus
    n: int  # test-corpus utterances evaluated


def evaluate_transfer(
    in_corpus: UtilityResult,
    cross_corpus: UtilityResult,
    *,
    train_corpus: str,
    test_corpus: str,
    shared_emotions: tuple[str, ...],
    left_out: int,
    n: int,
) -> TransferResult:
    """The drop of the mean over folds' heads, and per fold where both evaluations have every fold."""
    by_fold = ()
    if len(in_corpus.uar_by_fold) == len(cross_corpus.uar_by_fold):
        by_fold = tuple(a - b for a, b in zip(in_corpus.uar_by_fold, cross_corpus.uar_by_fold))
    return TransferResult(
        drop=in_corpus.uar - cross_corpus.uar,
        in_corpus_uar=in_corpus.uar,
        cross_corpus_uar=cross_corpus.uar,
        train_corpus=train_corpus,
        test_corpus=test_corpus,
        shared_emotions=shared_emotions,
        left_out=left_out,
        drop_by_fold=by_fold,
        n=n,
    )
