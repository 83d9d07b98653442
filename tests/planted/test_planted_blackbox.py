"""The score-based black-box gate fails a tiny-margin eGeMAPS model and passes the clean control.

The black-box attack exists for encoders gradients cannot reach, so its planted twin audits eGeMAPS
(openSMILE, not differentiable) on the `tones` corpus of `tests/planted/tones.py`: with the emotion
tone 50 dB below the carrier, eGeMAPS still learns it, and an attacker who sees only the class
probabilities can drown it within a 45 dB budget; with the emotion tone as loud as the carrier it
cannot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATE = "safety.blackbox_success_rate"


def black_box_audit(corpus: str, cache: Path, report: Path) -> tuple[int, dict, str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(ROOT / "trust_tests" / "test_safety.py"),
        "-k",
        "black_box",
        "-p",
        "tests.planted.tones",
        "-p",
        "no:cacheprovider",
        "-q",
        "--corpus",
        corpus,
        "--backbone",
        "egemaps",
        "--trust-cache",
        str(cache),
        "--trust-report",
        str(report),
        "--thresholds",
        str(ROOT / "thresholds.toml"),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    done = subprocess.run(command, cwd=report, env=env, capture_output=True, text=True, timeout=900)
    records = json.loads((report / "trust_report.json").read_text())["records"]
    return done.returncode, {r["metric"]: r for r in records}, done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "corpus, verdict",
    [("tones:emotion_db=-50,noise_db=-70", "FAIL"), ("tones", "PASS")],
    ids=["tiny-margin", "clean"],
)
def test_black_box_gate_fails_the_tiny_margin_egemaps_model_only(tmp_path_factory, corpus, verdict):
    pytest.importorskip("opensmile")
    report = tmp_path_factory.mktemp("report")
    code, records, output = black_box_audit(corpus, tmp_path_factory.getbasetemp() / "cache", report)
    record = records[GATE]
    assert record["verdict"] == verdict, output
    assert record["details"]["kind"] == "score-based black-box", output
    assert record["details"]["snr_db_min"] >= record["details"]["budget_db"], output
    assert code == (1 if verdict == "FAIL" else 0), output
