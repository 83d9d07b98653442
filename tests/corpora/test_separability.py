"""The default synthetic corpus is learnable but not trivially separable (issue: well below 0.9)."""

from trustser.cache.store import Cache
from trustser.corpora import create, speaker_folds
from trustser.pillars.utility.separability import functional_baseline


def test_default_corpus_is_learnable_but_not_trivially_separable(tmp_path_factory):
    cache_root = tmp_path_factory.mktemp("cache")
    corpus = create("synthetic", cache_root)
    result = functional_baseline(corpus, speaker_folds(corpus.utterances, 4, seed=0), Cache(cache_root))
    print(f"eGeMAPS + logistic regression, speaker-independent 4-fold UAR: {result.uar:.3f}")
    assert 0.40 < result.uar < 0.80
