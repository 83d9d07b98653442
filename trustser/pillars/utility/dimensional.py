"""Utility of a dimensional model: the concordance of its attribute predictions with the ratings, on the
speaker-independent folds' test speakers (docs/metrics.md, Utility)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trustser.corpora.attributes import ATTRIBUTES
from trustser.errors import NotApplicable
from trustser.gates.declaration import declare_metric
from trustser.gates.measurement import Measurement
from trustser.pillars.concordance import ccc
from trustser.run.backbone_run import BackboneRun
from trustser.run.memo import memoised

CCC_REFERENCE = (
    "Lin 1989, A Concordance Correlation Coefficient to Evaluate Reproducibility; the attribute track of the "
    "Odyssey 2024 MSP-Podcast challenge (CCC per attribute); `audmetric.concordance_cc`"
)
CCC_BY_ATTRIBUTE = {
    name: declare_metric(
        f"utility.ccc_{name}",
        label=f"CCC of {name}",
        bound="min",
        default=0.4,
        definition=f"Concordance correlation coefficient between the predicted and the rated {name} of a fold's "
        "test speakers (population moments; the same in the corpus's units and normalised), averaged over the "
        "speaker-independent folds. A SKIP where the corpus does not rate it.",
        chance="0 (predictions uncorrelated with the ratings, or constant)",
        reference=CCC_REFERENCE,
        tasks=("dimensional",),
    )
    for name in ATTRIBUTES
}
CCC_MEAN = declare_metric(
    "utility.ccc_mean",
    label="mean CCC",
    bound="min",
    default=0.4,
    definition="The mean over the corpus's rated attributes of each one's CCC (averaged over the folds): the "
    "attribute track's overall score.",
    chance="0",
    reference=CCC_REFERENCE,
    tasks=("dimensional",),
)


@dataclass(frozen=True)
class AttributeUtility:
    ccc: dict[str, float]  # attribute -> mean over folds
    ccc_by_fold: dict[str, tuple[float, ...]]
    mean_ccc: float
    n: int
    n_folds: int


def evaluate_attributes(
    y_true: np.ndarray, y_pred: np.ndarray, folds: np.ndarray, *, attributes: tuple[str, ...]
) -> AttributeUtility:
    """Per-attribute CCC of each fold's test rows ([rows, attributes] arrays), averaged over the folds."""
    fold_ids = np.unique(folds)
    by_fold = np.stack([ccc(y_pred[folds == f], y_true[folds == f]) for f in fold_ids])  # [folds, attributes]
    means = np.nanmean(by_fold, axis=0)
    return AttributeUtility(
        ccc={name: float(means[i]) for i, name in enumerate(attributes)},
        ccc_by_fold={name: tuple(float(v) for v in by_fold[:, i]) for i, name in enumerate(attributes)},
        mean_ccc=float(np.mean(means)),
        n=len(y_true),
        n_folds=len(fold_ids),
    )


@memoised
def attribute_utility(run: BackboneRun) -> AttributeUtility:
    p = run.predictions
    return evaluate_attributes(p.y_true, p.y_pred, p.fold, attributes=run.split.attribute_names)


def ccc_of(run: BackboneRun, attribute: str) -> Measurement:
    """The CCC of one attribute; NotApplicable where the corpus does not rate it."""
    if attribute not in run.split.attribute_names:
        raise NotApplicable(f"corpus {run.corpus.name} does not rate {attribute}")
    result = attribute_utility(run)
    return Measurement(result.ccc[attribute], n=result.n, details=result)


def ccc_arousal(run: BackboneRun) -> Measurement:
    return ccc_of(run, "arousal")


def ccc_dominance(run: BackboneRun) -> Measurement:
    return ccc_of(run, "dominance")


def ccc_valence(run: BackboneRun) -> Measurement:
    return ccc_of(run, "valence")


def ccc_mean(run: BackboneRun) -> Measurement:
    result = attribute_utility(run)
    return Measurement(result.mean_ccc, n=result.n, details=result)
