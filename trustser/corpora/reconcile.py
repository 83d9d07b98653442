"""Two corpora's label sets reconciled for cross-corpus evaluation (train on A, test on B): the emotions both
have, and B without the utterances of an emotion A lacks, each counted.

EmoBox's cross-corpus track and nkululeko's train-on-A/test-on-B grid evaluate on the classes the corpora
share; a head trained on A cannot be right on an emotion it was never taught, and scoring such
utterances would measure the label sets rather than the transfer.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass

from trustser.corpora.base import Corpus, Dropped
from trustser.errors import SpecError

MIN_SHARED = 2  # below two shared emotions there is nothing to recognise


class LabelSetError(SpecError):
    """The two corpora share fewer than two emotions; the message names both label sets."""


@dataclass(frozen=True)
class Reconciled:
    corpus: Corpus  # the test corpus, its emotions the shared ones (in the training corpus's order)
    shared: tuple[str, ...]
    columns: tuple[int, ...]  # the training corpus's class index of each shared emotion
    left_out: tuple[tuple[str, int], ...]  # (emotion, utterances) of the test corpus left out, emotion by emotion

    @property
    def n_left_out(self) -> int:
        return sum(count for _, count in self.left_out)


def reconcile(train_emotions: tuple[str, ...], test: Corpus, *, train_spec: str, test_spec: str) -> Reconciled:
    """`test` restricted to the emotions it shares with `train_emotions`; LabelSetError when fewer than two."""
    shared = tuple(emotion for emotion in train_emotions if emotion in test.emotions)
    if len(shared) < MIN_SHARED:
        raise LabelSetError(
            f"--corpus {train_spec} has emotions {', '.join(train_emotions)} and --test-corpus {test_spec} has "
            f"{', '.join(test.emotions)}: {len(shared)} shared ({', '.join(shared) or 'none'}), at least "
            f"{MIN_SHARED} are needed to evaluate a transfer"
        )
    kept = [u for u in test.utterances if u.emotion in shared]
    left_out = Counter(u.emotion for u in test.utterances if u.emotion not in shared)
    if not kept:
        raise LabelSetError(f"--test-corpus {test_spec}: no utterance has one of the shared emotions {shared}")
    subset = copy.copy(test)  # the audio and the fingerprint's rule are the corpus's own (as without_shorter_than)
    subset.utterances, subset._by_id = kept, {u.id: u for u in kept}
    subset.emotions = shared
    subset.dropped = (
        *test.dropped,
        *(
            Dropped(u.id, "emotion outside the training corpus", f"{u.emotion}; {train_spec} has {train_emotions}")
            for u in test.utterances
            if u.emotion not in shared
        ),
    )
    columns = tuple(train_emotions.index(emotion) for emotion in shared)
    return Reconciled(subset, shared, columns, tuple(sorted(left_out.items())))
