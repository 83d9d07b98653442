"""Utility: UAR, accuracy and the rest over the folds' test predictions."""

from __future__ import annotations

from dataclasses import dataclass

from trustser.gates.declaration import declare_metric, positive, setting
from trustser.gates.measurement import Measurement
from trustser.pillars.utility import UtilityResult, evaluate_utility
from trustser.pillars.utility.calibration import DEFAULT_BINS, CalibrationResult, evaluate_calibration
from trustser.pillars.utility.parity import ParityResult, evaluate_parity
from trustser.pillars.utility.transfer import TransferResult, evaluate_transfer
from trustser.run.backbone_run import BackboneRun
from trustser.run.memo import memoised
from trustser.run.parity import ParityRun
from trustser.run.transfer import TransferRun

UAR = declare_metric(
    "utility.uar",
    label="UAR",
    bound="min",
    default=0.60,
    definition="Unweighted average recall: the mean over emotions of each emotion's recall on a fold's test "
    "speakers, averaged over the speaker-independent folds.",
    chance="1 / number of emotions (0.25 for four)",
    reference="sklearn `balanced_accuracy_score`",
)
ACCURACY = declare_metric(
    "utility.accuracy",
    label="accuracy",
    bound="min",
    default=0.60,
    definition="Weighted accuracy (WA): the share of a fold's test utterances whose emotion is predicted right, "
    "averaged over the folds.",
    chance="the largest emotion's share of the test utterances",
    reference="sklearn `accuracy_score`",
)

CROSS_CORPUS_UAR_DROP = declare_metric(
    "utility.cross_corpus_uar_drop",
    label="in-corpus → cross-corpus UAR drop",
    bound="max",
    default=0.15,
    definition="With heads trained on the `--corpus` folds: their in-corpus UAR (held-out speakers, mean over the "
    "folds' heads) minus their UAR on a `--test-corpus` as a whole (every fold's head on every utterance, argmax "
    "over the emotions both corpora share, mean over the heads; the test corpus's utterances of an emotion the "
    "training corpus lacks are left out and counted). UAR, accuracy and the fairness gates are also measured on "
    "each test corpus, as rows whose corpus is the test corpus.",
    chance="in-corpus UAR − 1 / number of shared emotions (a head no better than chance on the test corpus)",
    reference="the cross-corpus track of EmoBox (Ma et al., Interspeech 2024: train on one corpus, test on another "
    "over their common emotions) and nkululeko's train-on-A/test-on-B experiments (Burkhardt et al., LREC 2022)",
)

_PARITY = (
    "With `--export-parity SPEC` beside `--model` (e.g. `--model torch:team:build --export-parity onnx:m.onnx`): both "
    "models answer every utterance of the corpus, and their posteriors over the audit's emotions are compared. "
)
EXPORT_AGREEMENT = declare_metric(
    "utility.export_agreement",
    label="export agreement (same predicted emotion)",
    bound="min",
    default=0.99,
    definition=_PARITY + "The share of utterances on which the export predicts the same emotion as the model.",
    chance="1 = the export answers as the model does",
    reference="export parity checks (e.g. onnxruntime against PyTorch outputs, as `torch.onnx.verification` does)",
)
EXPORT_MAX_POSTERIOR_DELTA = declare_metric(
    "utility.export_max_posterior_delta",
    label="export max |Δ posterior|",
    bound="max",
    default=0.01,
    definition=_PARITY + "The largest absolute difference of a posterior, over utterances and emotions.",
    chance="0 = the same posteriors",
    reference="`max |p_model − p_export|`",
)
EXPORT_P99_POSTERIOR_DELTA = declare_metric(
    "utility.export_p99_posterior_delta",
    label="export p99 |Δ posterior|",
    bound="max",
    default=0.001,
    definition=_PARITY + "The 99th percentile, over utterances, of each utterance's largest |Δ posterior|.",
    chance="0 = the same posteriors",
    reference="`numpy.percentile(max_k |p_model − p_export|, 99)`",
)


@memoised
def utility(run: BackboneRun) -> UtilityResult:
    p = run.predictions
    return evaluate_utility(p.y_true, p.y_pred, p.fold, num_classes=len(run.corpus.emotions))


def uar(run: BackboneRun) -> Measurement:
    result = utility(run)
    return Measurement(result.uar, n=result.n, details=result)


def accuracy(run: BackboneRun) -> Measurement:
    result = utility(run)
    return Measurement(result.accuracy, n=result.n, details=result)


@memoised
def transfer(run: TransferRun) -> TransferResult:
    return evaluate_transfer(
        utility(run.home),
        utility(run),
        train_corpus=run.train_corpus,
        test_corpus=run.test_corpus,
        shared_emotions=run.reconciled.shared,
        left_out=run.reconciled.n_left_out,
        n=len(run.corpus),
    )


def cross_corpus_uar_drop(run: TransferRun) -> Measurement:
    result = transfer(run)
    return Measurement(result.drop, n=result.n, details=result)


@dataclass(frozen=True)
class CalibrationSettings:
    bins: int = setting(DEFAULT_BINS, rule=positive)  # equal-mass bins of the expected calibration error


CALIBRATION_REFERENCE = (
    "top-label ECE of Guo et al. (ICML 2017, On Calibration of Modern Neural Networks) with the equal-mass "
    "(adaptive) bins of Nixon et al. (CVPR Workshops 2019, Measuring Calibration in Deep Learning) and Roelofs "
    "et al. (AISTATS 2022, Mitigating Bias in Calibration Error Estimation)"
)
_POSTERIORS = (
    "Measured on each fold's test posteriors (the softmax of its head's logits; a finished model's own "
    "probabilities, over the audit's emotions), pooled over the folds. The 95% interval resamples speakers."
)
ECE = declare_metric(
    "utility.ece",
    label="expected calibration error",
    bound="max",
    default=0.10,
    definition="Top-label expected calibration error: each utterance's confidence is the posterior of the emotion "
    "it is predicted as; the utterances, sorted by confidence, are cut into `bins` equal-mass bins (sizes differing "
    "by at most one; ties in row order), and ECE = Σ_b (n_b / N) · |accuracy_b − mean confidence_b|. 0 for "
    "probabilities that are right as often as they claim; a model that is always certain scores 1 − accuracy. "
    "Finite samples bias it upward: a calibrated model scores about 0.8 · sqrt(acc · (1 − acc) · bins / N). "
    + _POSTERIORS,
    chance="0 for any model whose confidence equals its accuracy, including one that always answers the emotions' "
    "shares",
    reference=CALIBRATION_REFERENCE,
    settings=CalibrationSettings(),
)
BRIER = declare_metric(
    "utility.brier",
    label="Brier score",
    bound="max",
    default=0.60,
    definition="Multi-class Brier score: the mean over utterances of Σ_c (p_c − 1[y = c])², in [0, 2]. A proper "
    "score: it rewards recognising the emotion and saying how sure one is. A model whose four-emotion posteriors "
    "are calibrated at the UAR gate's accuracy (0.6, the rest spread evenly) scores about 0.59; one that is always "
    "certain scores 2 · (1 − accuracy). " + _POSTERIORS,
    chance="1 − 1 / number of emotions (0.75 for four), the uniform answer",
    reference="Brier (1950), Verification of Forecasts Expressed in Terms of Probability (the multi-class form); "
    "sklearn `brier_score_loss(y, posteriors, labels=...)`",
)


@memoised
def calibration(run: BackboneRun, settings: CalibrationSettings) -> CalibrationResult:
    p = run.predictions
    return evaluate_calibration(
        p.posteriors,
        p.y_true,
        p.y_pred,
        speakers=run.split.column("speaker", p.utterance_index),
        bins=settings.bins,
        seed=run.train_config.seed,
    )


def ece(run: BackboneRun, settings: CalibrationSettings) -> Measurement:
    result = calibration(run, settings)
    return Measurement(result.ece, n=result.n, interval=result.ci["ece"], details=result)


def brier(run: BackboneRun) -> Measurement:
    """Binning does not enter the Brier score: the default bins only shape the details' reliability diagram."""
    result = calibration(run, CalibrationSettings())
    return Measurement(result.brier, n=result.n, interval=result.ci["brier"], details=result)


@memoised
def export_parity(run: ParityRun) -> ParityResult:
    return evaluate_parity(
        run.posteriors(run.reference),
        run.posteriors(run.exported),
        run.ids,
        reference_name=run.reference.backbone,
        exported_name=run.exported_spec,
    )


def export_agreement(run: ParityRun) -> Measurement:
    result = export_parity(run)
    return Measurement(result.same_class_share, n=result.n, details=result, note=result.note)


def export_max_posterior_delta(run: ParityRun) -> Measurement:
    result = export_parity(run)
    return Measurement(result.max_delta, n=result.n, details=result, note=result.note)


def export_p99_posterior_delta(run: ParityRun) -> Measurement:
    result = export_parity(run)
    return Measurement(result.p99_delta, n=result.n, details=result, note=result.note)
