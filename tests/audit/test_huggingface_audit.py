"""Hugging Face encoders and a finished HF classifier go through all six pillars, as users run them.

`pytest trust_tests --backbone hf:<dir>,hf:<dir> --model hf:<dir>` on tiny random checkpoints (saved
with `save_pretrained`, loaded through the users' path). Random weights make a poor model, so the
verdicts may fail; what is checked is that every pillar measured every run and the JUnit XML carries
the metric properties. Whisper uses a 3 s window here (see `save_whisper`) to keep attacks cheap.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.encoders.tiny_checkpoints import save_wav2vec_family, save_whisper
from tests.suite_runs import ROOT, audit_thresholds, report_records, run_suite

PILLARS = ("protocol", "utility", "privacy", "fairness", "safety", "sustainability")


def test_hf_backbones_and_a_finished_model_are_audited_end_to_end(tmp_path):
    wav2vec2 = save_wav2vec_family(tmp_path / "wav2vec2", "wav2vec2", feat_extract_norm="group")
    whisper = save_whisper(tmp_path / "whisper", window_seconds=3)
    classifier = save_wav2vec_family(
        tmp_path / "classifier", "wav2vec2", classifier=True, feat_extract_norm="layer", do_stable_layer_norm=True
    )
    report = tmp_path / "report"
    done = run_suite(
        ROOT / "trust_tests",
        cwd=tmp_path,
        report=report,
        cache=tmp_path / "cache",
        options=(
            *("-p", "tests.planted.tones", "--corpus", "tones:speakers=4,per_emotion=3"),
            *("--backbone", f"hf:{wav2vec2},hf:{whisper}", "--model", f"hf:{classifier}"),
            *("--thresholds", str(audit_thresholds(tmp_path))),
        ),
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]  # 1: some verdicts failed

    suite = ET.parse(report / "junit.xml").getroot().find("testsuite")
    assert suite.get("errors") == "0", done.stdout[-3000:]
    runs = {f"hf:{wav2vec2}", f"hf:{whisper}", f"model:hf:{classifier}"}
    measured = {run: set() for run in runs}
    for case in suite.iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert {"metric", "verdict", "threshold", "backbone"} <= set(properties), case.get("name")
        if properties["verdict"] != "SKIP":
            assert properties["value"], case.get("name")
            measured[properties["backbone"]].add(properties["pillar"])
    assert all(pillars == set(PILLARS) for pillars in measured.values()), measured

    records = report_records(report)
    skipped = {(r["backbone"], r["metric"]) for r in records if r["verdict"] == "SKIP"}
    model = f"model:hf:{classifier}"
    # a finished model's training data is unknown: what needs it is reported as not applicable
    assert {(model, "privacy.membership_advantage"), (model, "privacy.dp_epsilon")} <= skipped
    assert (f"hf:{wav2vec2}", "privacy.membership_advantage") not in skipped


def test_a_missing_model_stops_its_tests_at_once_naming_it(tmp_path):
    done = run_suite(
        ROOT / "trust_tests" / "test_utility.py",
        cwd=tmp_path,
        report=tmp_path / "report",
        cache=tmp_path / "cache",
        options=("--backbone", "hf:nobody/no-such-model", "--corpus", "synthetic:speakers=4,sentences=2"),
        environment={"HF_HOME": str(tmp_path / "hf")},
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 4, output[-2000:]  # a usage error at collection, not a failed gate
    assert output.count("'nobody/no-such-model' is not in the local Hugging Face cache") == 1, output
    assert "Traceback" not in output and "During handling" not in output
