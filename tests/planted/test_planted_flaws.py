"""Every trust test can fail: each pillar's gate fails on a planted flaw and passes on a clean control.

The audit runs as users run it (`pytest trust_tests ...` in a fresh interpreter), on the `tones`
corpus of `tests/planted/tones.py`, where the flaw is the only thing that changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLEAN = "tones"


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")

    def run(corpus: str, *modules: str, thresholds: Path | None = None) -> tuple[int, dict[str, str], str]:
        report = tmp_path_factory.mktemp("report")
        command = [
            sys.executable, "-m", "pytest", *(str(ROOT / "trust_tests" / f"test_{m}.py") for m in modules),
            "-p", "tests.planted.tones", "-p", "no:cacheprovider", "-q",
            "--corpus", corpus, "--backbone", "mfcc", "--trust-cache", str(cache), "--trust-report", str(report),
            "--thresholds", str(thresholds or ROOT / "thresholds.toml"),
        ]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run(command, cwd=report, env=env, capture_output=True, text=True, timeout=600)
        records = json.loads((report / "trust_report.json").read_text())["records"]
        return done.returncode, {r["metric"]: r["verdict"] for r in records}, done.stdout

    return run


ALL_PILLARS = ("utility", "privacy", "fairness", "safety", "sustainability")


def test_clean_control_passes_every_gate(audit):
    code, verdicts, output = audit(CLEAN, *ALL_PILLARS)
    assert set(verdicts.values()) == {"PASS"}, output
    assert len(verdicts) == 9 and code == 0, output


@pytest.mark.parametrize(
    "corpus, pillar, failing",
    [
        ("tones:shuffled=1", "utility", {"utility.uar", "utility.accuracy"}),
        ("tones:gender_cue=1", "privacy", {"privacy.gender_inference_uar"}),
        ("tones:gender_cue=1,biased=1", "fairness",
         {"fairness.statistical_parity_gender", "fairness.equality_of_opportunity_gender"}),
        ("tones:emotion_db=-50", "safety", {"safety.fgsm_success_rate"}),
    ],
    ids=["shuffled-labels", "gender-leak", "biased-labels", "tiny-margin"],
)
def test_planted_flaw_fails_its_gate(audit, corpus, pillar, failing):
    code, verdicts, output = audit(corpus, pillar)
    assert {m for m, v in verdicts.items() if v == "FAIL"} == failing, output
    assert code == 1, output


def test_one_parameter_budget_fails_sustainability(audit, tmp_path):
    strict = tmp_path / "thresholds.toml"
    text = (ROOT / "thresholds.toml").read_text()
    strict.write_text(text.replace("max = 100_000_000", "max = 1"))
    code, verdicts, output = audit(CLEAN, "sustainability", thresholds=strict)
    assert verdicts == {
        "sustainability.parameters": "FAIL",
        "sustainability.gflops_per_audio_second": "PASS",
        "sustainability.energy_kwh_per_audio_hour": "PASS",
    }, output
    assert code == 1, output
