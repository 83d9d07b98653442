"""--folds-disjoint sentence: folds disjoint in speakers and sentences where the corpus allows, saying
what it costs, and refused saying why where it does not."""

from __future__ import annotations

import pytest

from trustser.corpora.base import Corpus, Utterance
from trustser.corpora.folds import Fold, sentence_disjoint, sentence_disjoint_cost, sentence_key, speaker_folds
from trustser.corpora.split import CorpusSplit


def utterances(sentences=("One.", "Two!", "three", "Four?"), speakers=8):
    return [
        Utterance(f"s{n}_{i}", f"s{n}", "female" if n % 2 else "male", "neutral", sentence)
        for n in range(speakers)
        for i, sentence in enumerate(sentences)
    ]


def test_sentence_keys_ignore_case_punctuation_and_spacing():
    assert sentence_key("It's  eleven o'clock.") == sentence_key("it's eleven O'CLOCK") == "it s eleven o clock"
    assert sentence_key("  ") == ""


def test_folds_disjoint_in_sentences_train_on_none_they_test_and_say_what_was_left_out():
    corpus = Corpus(utterances())
    folds = sentence_disjoint(speaker_folds(corpus.utterances, 2, seed=0), corpus.utterances, seed=0)
    split = CorpusSplit(corpus, folds)
    assert sorted(s for f in folds for s in f.held_out_sentences) == ["four", "one", "three", "two"]
    for fold in folds:
        tested = {split.sentence_keys[i] for i in split.test_rows(fold)}
        trained = {split.sentence_keys[i] for i in (*split.train_rows(fold), *split.dev_rows(fold))}
        assert tested == set(fold.held_out_sentences) and not tested & trained
        assert {corpus.utterances[i].speaker for i in split.test_rows(fold)} == set(fold.test_speakers)
    cost = sentence_disjoint_cost(folds, corpus.utterances)
    assert cost.startswith("sentence-disjoint (4 sentences in 2 groups): 16 of 32 training utterances left out")
    assert "16 of 32 test utterances tested" in cost
    assert sentence_disjoint_cost(speaker_folds(corpus.utterances, 2), corpus.utterances) == ""


@pytest.mark.parametrize(
    "made, reason",
    [
        (utterances(sentences=("", "Two")), "4 of 8 utterances have no sentence or transcript"),
        (utterances(sentences=("Only one",)), "1 distinct sentences cannot be dealt into 2 folds"),
    ],
)
def test_folds_disjoint_in_sentences_are_refused_saying_why_where_the_corpus_cannot_have_them(made, reason):
    made = [u for u in made if u.speaker in ("s0", "s1", "s2", "s3")]
    with pytest.raises(ValueError, match="--folds-disjoint sentence is not possible on this corpus: " + reason):
        sentence_disjoint(speaker_folds(made, 2, seed=0), made, seed=0)


def test_a_fold_left_without_test_utterances_is_refused():
    # everyone says "a" and f1 also "b": a fold holding out "b" whose test speakers never say it has no test
    # utterances (whether fold 0 or fold 1 gets "b" depends on the seed)
    made = [Utterance(s, s, "male" if s[0] == "m" else "female", "neutral", "a") for s in ("m0", "f0", "m1", "f1")]
    made.append(Utterance("f1_b", "f1", "female", "neutral", "b"))
    folds = [Fold(0, ("f1", "m1"), (), ("f0", "m0")), Fold(1, ("f0", "m0"), (), ("f1", "m1"))]
    outcomes = []
    for seed in range(8):
        try:
            outcomes.append(sentence_disjoint(folds, made, seed=seed)[0].held_out_sentences)
        except ValueError as error:
            outcomes.append(str(error))
    assert ("a",) in outcomes  # fold 0 holds out "a": possible
    assert any("fold 0 would have no test utterances" in str(outcome) for outcome in outcomes), outcomes
