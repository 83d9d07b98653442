"""Utility: UAR, accuracy and the rest over the folds' test predictions."""

from __future__ import annotations

from trustser.gates.declaration import declare_metric
from trustser.gates.measurement import Measurement
from trustser.pillars.utility import UtilityResult, evaluate_utility
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
