"""The audit runs end to end on every fixture corpus, as users run it (`pytest trust_tests --corpus ...`).

Verdicts may fail (a few tiny tones are no model of emotional speech); what must hold is that every
trust test reaches its gate: one trust record per test, every failure a gate's FAIL, no errors. One
corpus runs all five pillars, the others utility and privacy, with the fast `mfcc` backbone.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.corpora.conftest import FIXTURES
from tests.suite_runs import ROOT, audit_thresholds, report_records, run_suite

ALL_PILLARS = ("utility", "privacy", "fairness", "safety", "sustainability")


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    thresholds = audit_thresholds(tmp_path_factory.mktemp("thresholds"))

    def run(corpus: str, pillars: tuple[str, ...], *options: str) -> tuple[subprocess.CompletedProcess, Path]:
        report = tmp_path_factory.mktemp("report")
        done = run_suite(
            *(ROOT / "trust_tests" / f"test_{p}.py" for p in pillars),
            cwd=report,
            report=report,
            cache=cache,
            options=("--corpus", corpus, "--backbone", "mfcc", "--thresholds", str(thresholds), *options),
        )
        return done, report

    return run


def assert_every_test_reached_its_gate(done: subprocess.CompletedProcess, report: Path) -> dict:
    output = done.stdout + done.stderr
    assert done.returncode in (0, 1), output
    cases = ElementTree.parse(report / "junit.xml").getroot().iter("testcase")
    outcomes = [
        ("error" if case.find("error") is not None else "failure" if case.find("failure") is not None else "ok")
        for case in cases
    ]
    records = report_records(report)
    assert "error" not in outcomes and len(records) == len(outcomes), output
    assert sum(r["verdict"] == "FAIL" for r in records) == outcomes.count("failure"), output
    return json.loads((report / "corpus_summary.json").read_text())


@pytest.mark.parametrize(
    "name, utterances, folds, pillars",
    [
        ("emodb", 40, 4, ALL_PILLARS),
        ("cremad", 32, 4, ("utility", "privacy")),
        ("ravdess", 32, 4, ("utility", "privacy")),
        ("iemocap", 50, 5, ("utility", "privacy")),
        ("msp_improv", 48, 6, ("utility", "privacy")),
        ("msp_podcast", 48, 2, ("utility", "privacy")),
    ],
)
def test_audit_runs_on_fixture_corpus(audit, name, utterances, folds, pillars):
    done, report = audit(f"{name}:{FIXTURES / name}", pillars)
    summary = assert_every_test_reached_its_gate(done, report)
    assert (summary["utterances"], summary["folds"]) == (utterances, folds)
    assert f"corpus {name}:{FIXTURES / name}: {utterances} utterances" in done.stdout  # printed as the audit starts


def test_audit_runs_on_a_manifest_and_names_the_file_it_skipped(audit, tmp_path):
    table = tmp_path / "corpus.csv"
    rows = (FIXTURES / "manifest" / "manifest.csv").read_text().replace("../emodb", str(FIXTURES / "emodb"))
    table.write_text(rows + f"{tmp_path / 'lost.wav'},angry,spk03,M,23,de\n")
    done, report = audit(f"manifest:{table}", ("utility", "privacy"), "--on-bad-audio", "skip")
    summary = assert_every_test_reached_its_gate(done, report)
    assert summary["utterances"] == 40 and summary["dropped"]["missing file"] == 1
    assert f"bad: {tmp_path / 'lost.wav'}: missing file" in done.stdout


def test_on_bad_audio_fail_stops_the_audit_naming_the_file(audit, tmp_path):
    table = tmp_path / "corpus.csv"
    table.write_text(f"path,emotion,speaker,gender\n{tmp_path / 'lost.wav'},angry,spk03,M\n")
    done, _ = audit(f"manifest:{table}", ("utility",), "--on-bad-audio", "fail")
    assert done.returncode == 4  # a usage error, before any test: not a failed gate (1)
    assert f"{tmp_path / 'lost.wav'}: missing file" in done.stdout + done.stderr
