"""The score-based black-box gate fails a tiny-margin eGeMAPS model and passes the clean control.

The black-box attack exists for encoders gradients cannot reach, so its planted twin audits eGeMAPS
(openSMILE, not differentiable) on the `tones` corpus of `tests/planted/tones.py`: with the emotion
tone 50 dB below the carrier, eGeMAPS still learns it, and an attacker who sees only the class
probabilities can drown it within a 45 dB budget; with the emotion tone as loud as the carrier it
cannot.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.suite_runs import ROOT, report_records, run_suite

GATE = "safety.blackbox_success_rate"


def black_box_audit(corpus: str, cache: Path, report: Path) -> tuple[int, dict, str]:
    done = run_suite(
        ROOT / "trust_tests" / "test_safety.py",
        cwd=report,
        report=report,
        cache=cache,
        options=(
            *("-k", "black_box", "-p", "tests.planted.tones", "--corpus", corpus, "--backbone", "egemaps"),
            *("--thresholds", str(ROOT / "thresholds.toml")),
        ),
        timeout=900,
    )
    return done.returncode, {r["metric"]: r for r in report_records(report)}, done.stdout


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
