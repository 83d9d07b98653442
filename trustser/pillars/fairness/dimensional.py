"""Fairness of a dimensional model: does it rate genders and speakers alike? (docs/metrics.md, Fairness)

Per gender, the concordance of its predictions with the ratings, and its mean signed error (prediction
minus rating, in the corpus's units): a model that rates one gender's speech as more aroused than it
was rated shows as a difference in signed error even where both genders' CCC is the same. Per speaker,
the worst speaker's CCC. Intervals are speaker-bootstrap ones, as for the categorical gates: speakers
resampled within gender for the gender gaps, utterances within speaker for the worst speaker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trustser.gates.declaration import declare_metric
from trustser.gates.measurement import Measurement
from trustser.pillars.concordance import ccc
from trustser.pillars.genders import require_two_genders
from trustser.pillars.speaker_bootstrap import N_RESAMPLES, speaker_intervals
from trustser.run.backbone_run import BackboneRun
from trustser.run.memo import memoised

CCC_DIFFERENCE_GENDER = declare_metric(
    "fairness.ccc_difference_gender",
    label="CCC difference between genders",
    bound="max",
    default=0.10,
    definition="For each rated attribute, the CCC of the test predictions of each gender's utterances (all folds' "
    "test speakers pooled) and the difference max − min over genders; the gate judges the attribute with the "
    "largest. Interval: speakers resampled within gender.",
    chance="0 (both genders served alike)",
    reference="fairlearn `MetricFrame(...).difference()` with CCC as the metric (Lin 1989)",
    tasks=("dimensional",),
)
SIGNED_ERROR_DIFFERENCE_GENDER = declare_metric(
    "fairness.signed_error_difference_gender",
    label="signed-error difference between genders",
    bound="max",
    default=0.5,
    definition="For each rated attribute, the mean signed error (prediction − rating, in the corpus's units, e.g. "
    "MSP-Podcast's 1-7 points) of each gender's test utterances and the difference max − min over genders: how "
    "much more aroused (or pleasant, dominant) the model rates one gender's speech than its raters did; the gate "
    "judges the attribute with the largest. Interval: speakers resampled within gender.",
    chance="0 (no gender rated systematically higher)",
    reference="mean bias error per group (fairlearn `MetricFrame(...).difference()` of the mean of y_pred − y_true)",
    tasks=("dimensional",),
)
WORST_SPEAKER_CCC = declare_metric(
    "fairness.worst_speaker_ccc",
    label="worst-speaker CCC",
    bound="min",
    default=0.2,
    definition="The smallest, over test speakers, of the speaker's mean CCC over the rated attributes (each "
    "speaker's test utterances): the user the model serves worst. Interval: utterances resampled within speaker.",
    chance="0",
    reference="fairlearn `MetricFrame(...).group_min()` with CCC as the metric",
    tasks=("dimensional",),
)


@dataclass(frozen=True)
class AttributeFairness:
    attribute: str  # "gender" or "speaker"
    attributes: tuple[str, ...]  # the rated attributes, in order
    ccc_by_group: dict[str, dict[str, float]]  # group -> attribute -> CCC
    signed_error_by_group: dict[str, dict[str, float]]  # group -> attribute -> mean signed error, corpus units
    ccc_difference: float  # the largest over attributes of max − min over groups
    ccc_difference_attribute: str
    signed_error_difference: float
    signed_error_difference_attribute: str
    worst_group: str  # the group with the lowest mean CCC
    worst_group_ccc: float
    n: int
    n_speakers: int
    min_speakers_per_group: int
    min_group_size: int  # utterances of the smallest group
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    n_resamples: int = N_RESAMPLES


def _statistics(
    error: np.ndarray, true: np.ndarray, predicted: np.ndarray, index: np.ndarray, n_groups: int
) -> dict[str, np.ndarray]:
    """[groups, attributes] CCC and mean signed error of rows grouped by `index`."""
    cccs = np.stack([ccc(predicted[index == g], true[index == g]) for g in range(n_groups)])
    signed = np.stack([error[index == g].mean(0) for g in range(n_groups)])
    return {"ccc": cccs, "signed": signed}


def attribute_fairness(
    true: np.ndarray,
    predicted: np.ndarray,
    *,
    groups: np.ndarray,
    speakers: np.ndarray,
    attributes: tuple[str, ...],
    span: float,
    attribute: str,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> AttributeFairness:
    """The gaps between groups of normalised `true` and `predicted` [rows, attributes]; signed errors are
    multiplied by `span` (the scale's high − low), into the corpus's units."""
    true, predicted = np.asarray(true, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    groups, speakers = np.asarray(groups).astype(str), np.asarray(speakers).astype(str)
    labels, index = np.unique(groups, return_inverse=True)
    error = (predicted - true) * span

    def summary(rows: np.ndarray) -> dict[str, float]:
        stats = _statistics(error[rows], true[rows], predicted[rows], index[rows], len(labels))
        ccc_gap = np.nanmax(stats["ccc"], 0) - np.nanmin(stats["ccc"], 0)
        signed_gap = stats["signed"].max(0) - stats["signed"].min(0)
        return {
            "ccc_difference": float(np.nanmax(ccc_gap)),
            "signed_error_difference": float(np.nanmax(signed_gap)),
            "worst_group_ccc": float(np.nanmin(np.nanmean(stats["ccc"], 1))),
        }

    stats = _statistics(error, true, predicted, index, len(labels))
    ccc_gap = np.nanmax(stats["ccc"], 0) - np.nanmin(stats["ccc"], 0)
    signed_gap = stats["signed"].max(0) - stats["signed"].min(0)
    mean_ccc = np.nanmean(stats["ccc"], 1)
    by_speaker = len(labels) == len(np.unique(speakers))
    units = np.arange(len(true)) if by_speaker else speakers
    ci = speaker_intervals(lambda resample: summary(resample.rows), units, groups, n_resamples=n_resamples, seed=seed)
    return AttributeFairness(
        attribute=attribute,
        attributes=tuple(attributes),
        ccc_by_group={g: dict(zip(attributes, map(float, stats["ccc"][i]))) for i, g in enumerate(labels)},
        signed_error_by_group={g: dict(zip(attributes, map(float, stats["signed"][i]))) for i, g in enumerate(labels)},
        ccc_difference=float(np.nanmax(ccc_gap)),
        ccc_difference_attribute=attributes[int(np.nanargmax(ccc_gap))],
        signed_error_difference=float(signed_gap.max()),
        signed_error_difference_attribute=attributes[int(signed_gap.argmax())],
        worst_group=str(labels[int(np.nanargmin(mean_ccc))]),
        worst_group_ccc=float(np.nanmin(mean_ccc)),
        n=len(true),
        n_speakers=len(np.unique(speakers)),
        min_speakers_per_group=int(min(len(np.unique(speakers[groups == g])) for g in labels)),
        min_group_size=int(np.bincount(index).min()),
        ci=ci,
        n_resamples=n_resamples,
    )


def _fairness(run: BackboneRun, by: str) -> AttributeFairness:
    p = run.predictions
    groups, speakers = run.split.column(by, p.utterance_index), run.split.column("speaker", p.utterance_index)
    if by == "gender":
        require_two_genders(run.corpus.column("gender"))
        require_two_genders(groups, where="the test utterances")
    return attribute_fairness(
        p.y_true,
        p.y_pred,
        groups=groups,
        speakers=speakers,
        attributes=run.split.attribute_names,
        span=run.corpus.attribute_scale.span,
        attribute=by,
        seed=run.train_config.seed,
    )


@memoised
def gender_attribute_fairness(run: BackboneRun) -> AttributeFairness:
    return _fairness(run, "gender")


@memoised
def speaker_attribute_fairness(run: BackboneRun) -> AttributeFairness:
    return _fairness(run, "speaker")


def _by_gender(gap: str, result: AttributeFairness) -> Measurement:
    return Measurement(
        getattr(result, gap),
        n=result.n,
        interval=result.ci[gap],
        group_size=result.min_speakers_per_group,
        speakers=result.n_speakers,
        details=result,
        note=f"largest for {getattr(result, gap + '_attribute')}",
    )


def ccc_difference_gender(run: BackboneRun) -> Measurement:
    return _by_gender("ccc_difference", gender_attribute_fairness(run))


def signed_error_difference_gender(run: BackboneRun) -> Measurement:
    return _by_gender("signed_error_difference", gender_attribute_fairness(run))


def worst_speaker_ccc(run: BackboneRun) -> Measurement:
    result = speaker_attribute_fairness(run)
    return Measurement(
        result.worst_group_ccc,
        n=result.n,
        interval=result.ci["worst_group_ccc"],
        group_size=result.min_group_size,
        speakers=result.n_speakers,
        details=result,
        note=f"speaker {result.worst_group}",
    )
