"""Utility: UAR, accuracy and the rest over the folds' test predictions."""

from __future__ import annotations

from trustser.gates.declaration import declare_metric
from trustser.gates.measurement import Measurement
from trustser.pillars.utility import UtilityResult, evaluate_utility
from trustser.run.backbone_run import BackboneRun
from trustser.run.memo import memoised

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
