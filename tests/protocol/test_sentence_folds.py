"""--folds-disjoint sentence: folds disjoint in speakers and sentences where the corpus allows, saying
what it costs, and refused saying why where it does not."""

from __future__ import annotations

import pytest

from trustser.corpora.base import Corpus, Utterance
from trustser.corpora.folds import sentence_disjoint, sentence_disjoint_cost, sentence_key, speaker_folds
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


def test_a_fold_left_without_utterances_on_a_side_is_refused():
    # two speakers say only "a", two only "b": where a fold tests both "a" speakers on "b", it has no test
    # utterances (which seeds give that depends on how speakers and sentences are dealt)
    said = {"m0": "a", "f0": "a", "m1": "b", "f1": "b"}
    made = [Utterance(s, s, "male" if s[0] == "m" else "female", "neutral", said[s]) for s in said]
    refusals = []
    for seed in range(8):
        try:
            sentence_disjoint(speaker_folds(made, 2, seed=seed), made, seed=seed)
        except ValueError as error:
            refusals.append(str(error))
    assert refusals and all(" would have no " in r and "utterances" in r for r in refusals), refusals
