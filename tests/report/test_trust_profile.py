"""The trust profile's definitions: a gate's margin, a pillar's score, a pillar's worst verdict."""

from __future__ import annotations

import math

import pytest

from trustser.report.profile import PILLARS, gate_margin, pillar_scores, profile_radius, worst_verdict, worst_verdicts
from trustser.report.records import TrustRecord


def gate(
    metric: str, value: float | None, threshold: float, bound: str, verdict: str = "PASS", backbone: str = "mfcc"
) -> TrustRecord:
    return TrustRecord(
        metric.split(".")[0], metric, metric, backbone, "synthetic", value, threshold, bound, verdict, 10, "m"
    )


def test_margin_is_the_distance_inside_the_bound_relative_to_the_threshold():
    assert gate_margin(gate("utility.uar", 0.75, 0.6, "min")) == pytest.approx(0.25)
    assert gate_margin(gate("utility.uar", 0.45, 0.6, "min", "FAIL")) == pytest.approx(-0.25)
    assert gate_margin(gate("safety.fgsm_success_rate", 0.15, 0.2, "max")) == pytest.approx(0.25)
    assert gate_margin(gate("safety.fgsm_success_rate", 0.3, 0.2, "max", "FAIL")) == pytest.approx(-0.5)
    assert gate_margin(gate("utility.uar", 0.6, 0.6, "min")) == 0.0  # on the gate
    assert gate_margin(gate("utility.uar", -0.3, -0.6, "min")) == pytest.approx(
        0.5
    )  # |threshold| scales a negative gate


def test_margin_is_clipped_to_one_either_way():
    assert gate_margin(gate("sustainability.parameters", 1e5, 1e8, "max")) == pytest.approx(0.999)
    assert gate_margin(gate("sustainability.parameters", 5e8, 1e8, "max", "FAIL")) == -1.0
    assert gate_margin(gate("safety.fgsm_success_rate", 0.0, 0.2, "max")) == 1.0
    assert gate_margin(gate("utility.uar", 3.0, 0.6, "min")) == 1.0
    # a gate at 0 cannot be divided by: any value off it is a full margin, on it none
    assert gate_margin(gate("privacy.membership_advantage", 0.01, 0.0, "max", "FAIL")) == -1.0
    assert gate_margin(gate("privacy.membership_advantage", 0.0, 0.0, "max")) == 0.0


def test_only_a_judged_value_has_a_margin():
    assert gate_margin(gate("utility.uar", None, 0.6, "min", "SKIP")) is None
    assert gate_margin(gate("utility.uar", None, 0.6, "min", "ERROR")) is None
    assert (
        gate_margin(gate("utility.uar", 0.9, 0.6, "min", "ERROR")) is None
    )  # an ERROR's value, if any, was not judged
    assert gate_margin(gate("utility.uar", math.nan, 0.6, "min", "FAIL")) is None
    assert gate_margin(gate("fairness.statistical_parity_speaker", 0.45, 0.3, "max", "WARN")) == pytest.approx(-0.5)


def test_pillar_score_is_the_worst_margin_of_its_measured_gates():
    records = [
        gate("utility.uar", 0.75, 0.6, "min"),
        gate("utility.accuracy", 0.54, 0.6, "min", "FAIL"),
        gate("privacy.gender_inference_uar", 0.6, 0.75, "max"),
        gate("privacy.speaker_id_accuracy", None, 0.5, "max", "ERROR"),  # ignored, not a zero
        gate("safety.fgsm_success_rate", None, 0.2, "max", "SKIP"),
        gate("safety.pgd_success_rate", None, 0.2, "max", "SKIP"),
        gate("utility.uar", 0.3, 0.6, "min", "FAIL", backbone="ge2e"),
    ]
    scores = pillar_scores(records, backbones=["mfcc", "egemaps"])
    assert list(scores) == ["mfcc", "egemaps", "ge2e"]  # listed first, then any other with records
    assert list(scores["mfcc"]) == list(PILLARS)
    assert scores["mfcc"]["utility"] == pytest.approx(-0.1)
    assert scores["mfcc"]["privacy"] == pytest.approx(0.2)
    assert scores["mfcc"]["safety"] is None  # every gate skipped: not measured
    assert scores["mfcc"]["fairness"] is None and scores["mfcc"]["sustainability"] is None
    assert set(scores["egemaps"].values()) == {None}
    assert scores["ge2e"]["utility"] == pytest.approx(-0.5)


def test_a_pillar_outside_the_six_is_kept_after_them():
    scores = pillar_scores([gate("latency.p99", 0.1, 0.2, "max")])
    assert list(scores["mfcc"]) == [*PILLARS, "latency"]


def test_radius_puts_the_gate_on_the_middle_ring():
    assert (profile_radius(-1.0), profile_radius(0.0), profile_radius(1.0)) == (0.0, 0.5, 1.0)


def test_worst_verdict_follows_fail_error_warn_pass_skip():
    assert worst_verdict(["PASS", "SKIP", "WARN"]) == "WARN"
    assert worst_verdict(["PASS", "ERROR", "WARN"]) == "ERROR"
    assert worst_verdict(["ERROR", "FAIL", "PASS"]) == "FAIL"
    assert worst_verdict(["SKIP", "PASS"]) == "PASS"
    assert worst_verdict(["SKIP", "SKIP"]) == "SKIP"
    assert worst_verdict([]) is None


def test_worst_verdicts_per_backbone_and_pillar():
    records = [
        gate("utility.uar", 0.75, 0.6, "min"),
        gate("utility.accuracy", None, 0.6, "min", "ERROR"),
        gate("safety.fgsm_success_rate", None, 0.2, "max", "SKIP"),
        gate("fairness.statistical_parity_speaker", 0.45, 0.3, "max", "WARN"),
        gate("fairness.worst_speaker_uar", 0.3, 0.45, "min", "FAIL"),
    ]
    cells = worst_verdicts(records, backbones=["mfcc", "ge2e"])
    assert cells["mfcc"] == {
        "protocol": None,
        "utility": "ERROR",
        "privacy": None,
        "fairness": "FAIL",
        "safety": "SKIP",
        "sustainability": None,
    }
    assert set(cells["ge2e"].values()) == {None}
