"""Every trust test can fail: each pillar's gate fails on a planted flaw and passes on a clean control.

The audit runs as users run it (`pytest trust_tests ...` in a fresh interpreter), on the `tones`
corpus of `tests/planted/tones.py`, where the flaw is the only thing that changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.suite_runs import ROOT, audit_thresholds, report_records, run_suite
from trustser.gates.thresholds import load_gates
from trustser.pillars import declared_metrics

CLEAN = "tones"


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    shipped = audit_thresholds(tmp_path_factory.mktemp("thresholds"))

    def run(corpus: str, *modules: str, thresholds: Path | None = None) -> tuple[int, dict[str, str], str]:
        report = tmp_path_factory.mktemp("report")
        done = run_suite(
            *(ROOT / "trust_tests" / f"test_{m}.py" for m in modules),
            cwd=report,
            report=report,
            cache=cache,
            options=(
                *("-p", "tests.planted.tones", "--corpus", corpus, "--backbone", "mfcc", "--trust-deep"),
                *("--thresholds", str(thresholds or shipped)),
            ),
        )
        return done.returncode, {r["metric"]: r["verdict"] for r in report_records(report)}, done.stdout

    return run


WHITE_BOX_GATES = {f"safety.{name}_success_rate" for name in ("fgsm", "pgd", "pgd_l2", "apgd", "targeted_pgd")}
ALL_PILLARS = ("utility", "privacy", "fairness", "safety", "sustainability")


def test_clean_control_passes_every_gate(audit):
    code, verdicts, output = audit(CLEAN, *ALL_PILLARS)
    # transfer and black-box attacks are for backbones gradients cannot reach: mfcc gets the white-box attacks
    assert verdicts.pop("safety.transfer_success_rate") == "SKIP", output
    assert verdicts.pop("safety.blackbox_success_rate") == "SKIP", output
    # the gates of dimensional models SKIP in this categorical audit (tests/dimensional plants their flaws)
    dimensional = {m for m, metric in declared_metrics().items() if "categorical" not in metric.tasks}
    assert {verdicts.pop(m) for m in dimensional & set(verdicts)} == {"SKIP"}, output
    assert set(verdicts.values()) == {"PASS"}, output
    assert {m for m in verdicts if m.startswith(("privacy.", "fairness."))} == {
        m
        for m in load_gates(ROOT / "thresholds.toml", declared_metrics())
        if m.startswith(("privacy.", "fairness.")) and m not in dimensional
    }, output
    assert code == 0, output


@pytest.mark.parametrize(
    "corpus, pillar, failing",
    [
        # at chance, the head's posteriors stay near 1/4 (ECE passes), and the Brier score sits at the uniform 0.75
        ("tones:shuffled=1", "utility", {"utility.uar", "utility.accuracy", "utility.brier"}),
        # A leaked gender is a partial voiceprint for the informed verifiers (see test_planted_privacy: EER
        # 0.33, Cllr_min 0.69); the speaker tone, too faint for cosine scoring, is a whole one (EER 0.08).
        ("tones:gender_cue=1", "privacy", {"privacy.gender_inference_uar", "privacy.speaker_verification_cllr_min"}),
        (
            "tones:speaker_cue=1",
            "privacy",
            {
                "privacy.speaker_id_accuracy",
                "privacy.speaker_verification_eer",
                "privacy.speaker_verification_cllr_min",
            },
        ),
        (
            "tones:gender_cue=1,biased=1",
            "fairness",
            {"fairness.statistical_parity_gender", "fairness.equality_of_opportunity_gender"},
        ),
        ("tones:emotion_db=-50,noise_db=-70", "safety", {*WHITE_BOX_GATES, "safety.noise_uar_drop"}),
        ("tones:level_cue=1", "safety", {*WHITE_BOX_GATES, "safety.noise_uar_drop", "safety.invariance_flip_rate"}),
    ],
    ids=["shuffled-labels", "gender-leak", "speaker-leak", "biased-labels", "tiny-margin", "loudness-as-emotion"],
)
def test_planted_flaw_fails_its_gate(audit, corpus, pillar, failing):
    code, verdicts, output = audit(corpus, pillar)
    assert {m for m, v in verdicts.items() if v == "FAIL"} == failing, output
    assert code == 1, output


def test_one_parameter_budget_fails_sustainability(audit, tmp_path):
    strict = audit_thresholds(tmp_path, {"sustainability.parameters": {"max": 1}})
    code, verdicts, output = audit(CLEAN, "sustainability", thresholds=strict)
    assert verdicts.pop("sustainability.parameters") == "FAIL", output
    assert len(verdicts) >= 4 and set(verdicts.values()) == {"PASS"}, output  # FLOPs, energy, latency, memory
    assert code == 1, output


def test_warn_level_gate_is_reported_without_failing_the_run(audit, tmp_path):
    strict = audit_thresholds(tmp_path, {"fairness.worst_speaker_uar": {"min": 1.01, "level": "warn"}})
    code, verdicts, output = audit(CLEAN, "fairness", thresholds=strict)
    assert verdicts["fairness.worst_speaker_uar"] == "WARN", output
    assert code == 0, output


def test_dp_target_above_the_budget_fails_the_epsilon_gate(audit, tmp_path):
    strict = audit_thresholds(tmp_path, {"privacy.dp_epsilon": {"max": 1.0}})
    code, verdicts, output = audit(CLEAN, "privacy", thresholds=strict)
    assert verdicts["privacy.dp_epsilon"] == "FAIL" and verdicts["privacy.dp_uar_cost"] == "PASS", output
    assert code == 1, output
