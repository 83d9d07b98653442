"""How separable a corpus's emotions are for a plain functional baseline.

eGeMAPS functionals + standardisation + logistic regression, trained and tested on disjoint speakers
over the corpus's folds. Used to show the synthetic corpus is not trivially separable (it should
land well below 0.9 UAR) and as a reference point for learned heads.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from trustser.cache.store import Cache
from trustser.corpora.base import Corpus
from trustser.corpora.folds import Fold
from trustser.encoders import create as create_encoder
from trustser.features.extraction import extract_features
from trustser.pillars.utility.recognition import UtilityResult, evaluate_utility


def functional_baseline(corpus: Corpus, folds: list[Fold], cache: Cache) -> UtilityResult:
    features = extract_features(create_encoder("egemaps"), corpus, cache).pooled()[:, 0].numpy()
    labels, speakers = corpus.labels(), corpus.column("speaker")
    predicted = np.full_like(labels, -1)
    fold_of = np.full_like(labels, -1)
    for fold in folds:
        test = np.isin(speakers, fold.test_speakers)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(features[~test], labels[~test])
        predicted[test], fold_of[test] = model.predict(features[test]), fold.index
    tested = fold_of >= 0
    return evaluate_utility(labels[tested], predicted[tested], fold_of[tested], num_classes=len(corpus.emotions))
