"""Fairness: group gaps across gender and across speakers, with bootstrap intervals."""

from __future__ import annotations

from trustser.gates.declaration import declare_metric
from trustser.gates.measurement import Measurement
from trustser.pillars.fairness import GroupFairness, group_fairness
from trustser.pillars.genders import require_two_genders
from trustser.pillars.utility.calibration import GroupCalibration, group_calibration
from trustser.pillars.utility.checks import CALIBRATION_REFERENCE, CalibrationSettings
from trustser.run.backbone_run import BackboneRun
from trustser.run.memo import memoised

_BOOTSTRAP = " The 95% interval resamples speakers within each group."
STATISTICAL_PARITY_GENDER = declare_metric(
    "fairness.statistical_parity_gender",
    label="statistical parity difference (gender)",
    bound="max",
    default=0.1,
    definition="With s_g[c] = P(predicted emotion c | gender g): the largest, over pairs of genders, total-variation "
    "distance ½ Σ_c |s_k[c] − s_j[c]| between their predicted-emotion distributions." + _BOOTSTRAP,
    chance="0 (equal prediction rates)",
    reference="holisticai `multiclass_statistical_parity(aggregation_fun='max')`",
)
EQUALITY_OF_OPPORTUNITY_GENDER = declare_metric(
    "fairness.equality_of_opportunity_gender",
    label="equality of opportunity difference (gender)",
    bound="max",
    default=0.1,
    definition="With M_g[i, j] = P(predicted i | true j, gender g), the confusion matrix normalised per true emotion: "
    "the largest, over pairs of genders, Σ_{i,j} |M_k[i, j] − M_j[i, j]| / (2C)." + _BOOTSTRAP,
    chance="0 (equal error profiles)",
    reference="holisticai `multiclass_equality_of_opp(aggregation_fun='max')`",
)
UAR_DIFFERENCE_GENDER = declare_metric(
    "fairness.uar_difference_gender",
    label="UAR difference between genders",
    bound="max",
    default=0.1,
    definition="The largest minus the smallest UAR of the genders' test utterances." + _BOOTSTRAP,
    chance="0",
    reference="fairlearn `MetricFrame(...).difference()`",
)
STATISTICAL_PARITY_SPEAKER = declare_metric(
    "fairness.statistical_parity_speaker",
    label="statistical parity difference (speakers)",
    bound="max",
    default=0.3,
    definition="Statistical parity difference with each test speaker as a group (see the gender metric).",
    chance="0",
    reference="holisticai `multiclass_statistical_parity(aggregation_fun='max')`",
)
EQUALITY_OF_OPPORTUNITY_SPEAKER = declare_metric(
    "fairness.equality_of_opportunity_speaker",
    label="equality of opportunity difference (speakers)",
    bound="max",
    default=0.3,
    definition="Equality of opportunity difference with each test speaker as a group (see the gender metric).",
    chance="0",
    reference="holisticai `multiclass_equality_of_opp(aggregation_fun='max')`",
)
WORST_SPEAKER_UAR = declare_metric(
    "fairness.worst_speaker_uar",
    label="worst-speaker UAR",
    bound="min",
    default=0.45,
    definition="The smallest UAR of any test speaker's utterances: the user the model serves worst.",
    chance="1 / number of emotions",
    reference="fairlearn `MetricFrame(...).group_min()`",
)


@memoised
def gender_fairness(run: BackboneRun) -> GroupFairness:
    require_two_genders(run.corpus.column("gender"))
    p = run.predictions
    gender, speaker = run.split.column("gender", p.utterance_index), run.split.column("speaker", p.utterance_index)
    require_two_genders(gender, where="the test utterances")  # a split of its own may test one gender only
    return group_fairness(
        p.y_true,
        p.y_pred,
        groups=gender,
        speakers=speaker,
        num_classes=len(run.corpus.emotions),
        attribute="gender",
        seed=run.train_config.seed,
    )


@memoised
def speaker_fairness(run: BackboneRun) -> GroupFairness:
    p = run.predictions
    speaker = run.split.column("speaker", p.utterance_index)
    return group_fairness(
        p.y_true,
        p.y_pred,
        groups=speaker,
        speakers=speaker,
        num_classes=len(run.corpus.emotions),
        attribute="speaker",
        seed=run.train_config.seed,
    )


def _by_gender(gap: str, result: GroupFairness) -> Measurement:
    """A gap between genders; the smallest group is counted in speakers (min_group_size, thresholds.toml)."""
    value = getattr(result.point, gap)
    return Measurement(
        value,
        n=result.point.n,
        interval=result.ci[gap],
        group_size=result.min_speakers_per_group,
        speakers=result.n_speakers,
        details=result,
    )


def _by_speaker(statistic: str, value: float, result: GroupFairness) -> Measurement:
    """A statistic over speakers; the smallest group is counted in utterances (min_group_size, thresholds.toml)."""
    return Measurement(
        value,
        n=result.point.n,
        interval=result.ci[statistic],
        group_size=result.point.min_group_size,
        speakers=result.n_speakers,
        details=result,
    )


def statistical_parity_gender(run: BackboneRun) -> Measurement:
    return _by_gender("statistical_parity", gender_fairness(run))


def equality_of_opportunity_gender(run: BackboneRun) -> Measurement:
    return _by_gender("equality_of_opportunity", gender_fairness(run))


def uar_difference_gender(run: BackboneRun) -> Measurement:
    return _by_gender("uar_difference", gender_fairness(run))


def statistical_parity_speaker(run: BackboneRun) -> Measurement:
    result = speaker_fairness(run)
    return _by_speaker("statistical_parity", result.point.statistical_parity, result)


def equality_of_opportunity_speaker(run: BackboneRun) -> Measurement:
    result = speaker_fairness(run)
    return _by_speaker("equality_of_opportunity", result.point.equality_of_opportunity, result)


def worst_speaker_uar(run: BackboneRun) -> Measurement:
    result = speaker_fairness(run)
    return _by_speaker("worst_group_uar", result.worst_group_uar, result)


_PER_GENDER = (
    " Each gender's test utterances are scored on their own (for ECE, binned on their own; see utility.ece and "
    "utility.brier):"
    " a model can recognise both genders alike and be overconfident for one." + _BOOTSTRAP
)
ECE_DIFFERENCE_GENDER = declare_metric(
    "fairness.ece_difference_gender",
    label="ECE difference between genders",
    bound="max",
    default=0.1,
    definition="The largest minus the smallest expected calibration error (equal-mass bins) of the genders' "
    "test utterances." + _PER_GENDER,
    chance="0, plus the finite-sample noise of two ECEs (each biased upward by about 0.8 · sqrt(acc · (1 − acc) · "
    "bins / N_gender))",
    reference=CALIBRATION_REFERENCE + "; the gap as fairlearn `MetricFrame(...).difference()`",
    settings=CalibrationSettings(),
)
BRIER_DIFFERENCE_GENDER = declare_metric(
    "fairness.brier_difference_gender",
    label="Brier score difference between genders",
    bound="max",
    default=0.1,
    definition="The largest minus the smallest multi-class Brier score of the genders' test utterances." + _PER_GENDER,
    chance="0",
    reference="Brier (1950); the gap as fairlearn `MetricFrame(...).difference()`",
)


@memoised
def gender_calibration(run: BackboneRun, settings: CalibrationSettings) -> GroupCalibration:
    require_two_genders(run.corpus.column("gender"))
    p = run.predictions
    gender, speaker = run.split.column("gender", p.utterance_index), run.split.column("speaker", p.utterance_index)
    require_two_genders(gender, where="the test utterances")
    return group_calibration(
        p.posteriors,
        p.y_true,
        p.y_pred,
        groups=gender,
        speakers=speaker,
        attribute="gender",
        bins=settings.bins,
        seed=run.train_config.seed,
    )


def _calibration_gap(gap: str, result: GroupCalibration) -> Measurement:
    """As `_by_gender`: the smallest group is counted in speakers (min_group_size, thresholds.toml)."""
    return Measurement(
        getattr(result, gap),
        n=result.n,
        interval=result.ci[gap],
        group_size=result.min_speakers_per_group,
        speakers=result.n_speakers,
        details=result,
    )


def ece_difference_gender(run: BackboneRun, settings: CalibrationSettings) -> Measurement:
    return _calibration_gap("ece_difference", gender_calibration(run, settings))


def brier_difference_gender(run: BackboneRun) -> Measurement:
    """Binning does not enter the Brier score: the default bins only shape the details' per-gender ECE."""
    return _calibration_gap("brier_difference", gender_calibration(run, CalibrationSettings()))
