"""Attribute inference: how well an attacker recovers a demographic (gender) from representations.

The attacker is a standardised logistic regression trained on some speakers and tested on others
(the audit's speaker-independent folds), so it must generalise to unseen voices rather than
memorise speakers. Higher attacker UAR = more leakage; chance is 1 / number of groups.

A representation is an [n, dim] array (the same for every fold, e.g. an encoder layer) or an
[folds, n, dim] array (fold f's row is what fold f's trained head exposes: its layer mix, penultimate
layer or posteriors). The result gates on the most revealing representation and carries its 95%
interval from resampling speakers (within each attribute group) over the attacker's predictions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from trustser.corpora.folds import Fold
from trustser.pillars.speaker_bootstrap import N_RESAMPLES, Resample, speaker_intervals


@dataclass(frozen=True)
class AttributeInferenceResult:
    attribute: str
    uar: float  # of the most revealing representation
    worst_representation: str
    chance: float
    n: int
    n_speakers: int
    uar_by_representation: dict[str, float] = field(default_factory=dict)
    ci: tuple[float, float] = (float("nan"), float("nan"))  # 95% speaker-bootstrap interval of `uar`
    min_speakers_per_group: int = 0
    n_resamples: int = N_RESAMPLES


def _attacker_predictions(
    x: np.ndarray, target: np.ndarray, speakers: np.ndarray, folds: list[Fold], *, seed: int
) -> np.ndarray:
    """Cross-validated attacker predictions of every test utterance (speaker-disjoint from its training)."""
    predicted = np.empty(len(target), dtype=target.dtype)
    for fold in folds:
        test = np.isin(speakers, fold.test_speakers)
        train = ~test
        if len(np.unique(target[train])) < 2:
            raise ValueError(f"fold {fold.index}: training speakers cover only one {str(target[train][0])!r} group")
        attacker = make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed)
        )
        view = x[fold.index] if x.ndim == 3 else x
        attacker.fit(view[train], target[train])
        predicted[test] = attacker.predict(view[test])
    return predicted


def attribute_inference(
    representations: Mapping[str, np.ndarray],
    attribute_values: np.ndarray,
    speakers: np.ndarray,
    folds: list[Fold],
    *,
    attribute: str = "gender",
    seed: int = 0,
) -> AttributeInferenceResult:
    """Attacker UAR per representation; the result gates on the most revealing one, with its 95% interval."""
    covered = np.isin(speakers, [s for f in folds for s in f.test_speakers])
    target, who = attribute_values[covered], speakers[covered]
    predictions = {
        name: _attacker_predictions(np.asarray(x, dtype=np.float64), attribute_values, speakers, folds, seed=seed)[
            covered
        ]
        for name, x in representations.items()
    }
    scores = {name: float(balanced_accuracy_score(target, predicted)) for name, predicted in predictions.items()}
    worst = max(scores, key=scores.get)

    def statistics(resample: Resample) -> dict[str, float]:
        return {"uar": float(balanced_accuracy_score(target[resample.rows], predictions[worst][resample.rows]))}

    groups = np.unique(target)
    return AttributeInferenceResult(
        attribute=attribute,
        uar=scores[worst],
        worst_representation=worst,
        chance=1.0 / len(np.unique(attribute_values)),
        n=len(attribute_values),
        n_speakers=len(np.unique(speakers)),
        uar_by_representation=scores,
        ci=speaker_intervals(statistics, who, target, seed=seed)["uar"],
        min_speakers_per_group=int(min(len(np.unique(who[target == g])) for g in groups)),
    )


@dataclass(frozen=True)
class DemographicInferenceResult:
    """Attribute inference on each demographic a corpus carries; the gate judges the most inferable one."""

    attribute: str  # the most inferable attribute
    uar: float
    chance: float
    ci: tuple[float, float]
    n: int
    min_speakers_per_group: int
    worst_representation: str
    n_speakers: int  # of the most inferable attribute's attack
    uar_by_attribute: dict[str, float] = field(default_factory=dict)
    chance_by_attribute: dict[str, float] = field(default_factory=dict)
    not_attacked: dict[str, str] = field(default_factory=dict)  # attribute -> why no attacker could be trained


def most_inferable(results: list[AttributeInferenceResult], not_attacked: dict[str, str]) -> DemographicInferenceResult:
    """The attribute the attacker recovers best (highest UAR), with every attribute's UAR and chance."""
    worst = max(results, key=lambda r: r.uar)
    return DemographicInferenceResult(
        attribute=worst.attribute,
        uar=worst.uar,
        chance=worst.chance,
        ci=worst.ci,
        n=worst.n,
        min_speakers_per_group=worst.min_speakers_per_group,
        worst_representation=worst.worst_representation,
        n_speakers=worst.n_speakers,
        uar_by_attribute={r.attribute: r.uar for r in results},
        chance_by_attribute={r.attribute: r.chance for r in results},
        not_attacked=dict(not_attacked),
    )
