"""The calibration gates fail on planted miscalibration that leaves every prediction as it was, and pass on
the clean control.

The audits run as users run them (`pytest trust_tests ...` in a fresh interpreter) on
`tones:mislabelled=20,...` (tests/planted/tones.py), where one utterance in five is labelled with another
emotion than its tone's: a model that hears the tone is right four times in five, and a calibrated one
says 0.8. Two audits share one cache, so the planted one reuses the clean one's trained heads:

- clean: our head on mfcc, trained by the recipe, and the tone reader (tests/planted/tone_reader.py), whose
  posterior is 0.8 by construction;
- planted: the same heads with their logits ×10 (`-p tests.planted.overconfident`), and the tone reader
  overconfident (×10) or underconfident (×0.3) for women only. A positive factor moves no argmax, so every
  UAR is the clean one, to the last digit.
"""

from __future__ import annotations

import pytest

from tests.suite_runs import ROOT, report_records, run_suite

CORPUS = "tones:mislabelled=20,per_emotion=20,gender_cue=1"
SPEC = "torch:tests.planted.tone_reader:build"
READER = f"model:{SPEC}"  # as the report names a finished model
CALIBRATION = {"utility.ece", "utility.brier", "fairness.ece_difference_gender", "fairness.brier_difference_gender"}
RUN = CALIBRATION | {"utility.uar", "fairness.uar_difference_gender"}  # what `-k` selects


def _audit(tmp_path_factory, *options: str) -> tuple[int, dict[tuple[str, str], dict], str]:
    report = tmp_path_factory.mktemp("report")
    done = run_suite(
        ROOT / "trust_tests" / "test_utility.py",
        ROOT / "trust_tests" / "test_fairness.py",
        cwd=report,
        report=report,
        cache=tmp_path_factory.getbasetemp() / "calibration-cache",
        options=(
            *("-p", "tests.planted.tones", "-p", "tests.planted.overconfident", "--corpus", CORPUS),
            *("--thresholds", str(ROOT / "thresholds.toml"), "-k", "ece or brier or test_uar"),
            *options,
        ),
    )
    records = {(r["backbone"], r["metric"]): r for r in report_records(report)}
    return done.returncode, records, done.stdout + done.stderr


@pytest.fixture(scope="module")
def audits(tmp_path_factory):
    clean = _audit(tmp_path_factory, "--backbone", "mfcc", "--model", f"{SPEC}:1")
    planted = _audit(
        tmp_path_factory,
        *("--backbone", "mfcc", "--model", f"{SPEC}:10,{SPEC}:0.3", "--planted-logit-scale", "10"),
    )
    return clean, planted


def _failing(records: dict, backbone: str) -> set[str]:
    return {metric for (b, metric), r in records.items() if b == backbone and r["verdict"] == "FAIL"}


def test_the_clean_control_passes_every_calibration_gate(audits):
    (code, records, output), _ = audits
    for backbone in ("mfcc", f"{READER}:1"):
        assert {m for b, m in records if b == backbone} == RUN, output
        assert {records[backbone, m]["verdict"] for m in RUN} == {"PASS"}, output
        assert records[backbone, "utility.uar"]["value"] == pytest.approx(0.8, abs=0.02), output
    assert code == 0, output


def test_logits_times_ten_fail_the_ece_gate_with_the_same_uar(audits):
    (_, clean, _), (code, planted, output) = audits
    assert _failing(planted, "mfcc") == {"utility.ece"}, output
    assert planted["mfcc", "utility.uar"]["value"] == clean["mfcc", "utility.uar"]["value"], output
    ece = planted["mfcc", "utility.ece"]
    assert ece["details"]["mean_confidence"] > 0.99 and ece["value"] > 0.15, ece  # certain, and right 4 times in 5
    assert ece["details"]["accuracy"] == clean["mfcc", "utility.ece"]["details"]["accuracy"]
    assert code == 1, output


@pytest.mark.parametrize(
    "scale, failing",
    [
        ("10", {"fairness.ece_difference_gender"}),  # women's Brier 0.40, men's 0.35: within the Brier gap's gate
        ("0.3", {"fairness.ece_difference_gender", "fairness.brier_difference_gender"}),
    ],
    ids=["overconfident-for-women", "underconfident-for-women"],
)
def test_a_model_miscalibrated_for_one_gender_fails_the_gender_gap(audits, scale, failing):
    (_, clean, _), (_, planted, output) = audits
    backbone = f"{READER}:{scale}"
    assert {m for m in _failing(planted, backbone) if m.startswith("fairness.")} == failing, output
    assert planted[backbone, "fairness.uar_difference_gender"]["value"] == 0, output  # recognised alike
    assert planted[backbone, "utility.uar"]["value"] == clean[f"{READER}:1", "utility.uar"]["value"], output
    gap = planted[backbone, "fairness.ece_difference_gender"]["details"]
    assert abs(gap["overconfidence_by_group"]["male"]) < 0.01 < abs(gap["overconfidence_by_group"]["female"]), gap
