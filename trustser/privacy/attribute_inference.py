"""Attribute inference: how well an attacker recovers a demographic (gender) from representations.

The attacker is a standardised logistic regression trained on some speakers and tested on others
(the audit's speaker-independent folds), so it must generalise to unseen voices rather than
memorise speakers. Higher attacker UAR = more leakage; chance is 1 / number of groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from trustser.corpora.folds import Fold


@dataclass(frozen=True)
class AttributeInferenceResult:
    attribute: str
    uar: float  # of the most revealing representation
    worst_representation: str
    chance: float
    n: int
    n_speakers: int
    uar_by_representation: dict[str, float] = field(default_factory=dict)


def _attacker_uar(x: np.ndarray, target: np.ndarray, speakers: np.ndarray, folds: list[Fold], seed: int) -> float:
    predicted = np.empty(len(target), dtype=target.dtype)
    for fold in folds:
        test = np.isin(speakers, fold.test_speakers)
        train = ~test
        if len(np.unique(target[train])) < 2:
            raise ValueError(f"fold {fold.index}: training speakers cover only one {target[train][0]!r} group")
        attacker = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed))
        attacker.fit(x[train], target[train])
        predicted[test] = attacker.predict(x[test])
    covered = np.isin(speakers, [s for f in folds for s in f.test_speakers])
    return float(balanced_accuracy_score(target[covered], predicted[covered]))


def attribute_inference(
    representations: dict[str, np.ndarray],
    attribute_values: np.ndarray,
    speakers: np.ndarray,
    folds: list[Fold],
    attribute: str = "gender",
    seed: int = 0,
) -> AttributeInferenceResult:
    """Attacker UAR per representation ([n, dim] arrays); the result gates on the most revealing one."""
    scores = {
        name: _attacker_uar(np.asarray(x, dtype=np.float64), attribute_values, speakers, folds, seed)
        for name, x in representations.items()
    }
    worst = max(scores, key=scores.get)
    return AttributeInferenceResult(
        attribute=attribute,
        uar=scores[worst],
        worst_representation=worst,
        chance=1.0 / len(np.unique(attribute_values)),
        n=len(attribute_values),
        n_speakers=len(np.unique(speakers)),
        uar_by_representation=scores,
    )
