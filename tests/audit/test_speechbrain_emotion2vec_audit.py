"""A SpeechBrain model, an emotion2vec+ model and the emotion2vec backbone go through all six pillars, as users
run them: `pytest trust_tests --backbone emotion2vec:<dir> --model speechbrain:<dir>,emotion2vec:<dir>` on tiny
random models saved in their own layouts (trustser.models.finished.tiny_speechbrain,
trustser.encoders.tiny_emotion2vec), in one run to share its start-up. It takes about three minutes on 2 cores
(each sustainability measurement reloads the model in a fresh process, and importing funasr takes ~15 s), so it is
marked slow: `.ci/run` runs it after `make test`, and it skips where the extras are not installed.

Without the extra, the run is the usual usage error naming the install command (needs neither extra; the
emotion2vec specs' messages: tests/models/test_missing_extras.py).
"""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET

import pytest

from tests.suite_runs import ROOT, report_records, run_suite

PILLARS = ("protocol", "utility", "privacy", "fairness", "safety", "sustainability")
WHITE_BOX = ("safety.fgsm_success_rate", "safety.pgd_success_rate")


def needs(package: str, extra: str):
    return pytest.mark.skipif(
        importlib.util.find_spec(package) is None,
        reason=f"the {extra} extra is not installed: pip install 'trustser[{extra}]'",
    )


@pytest.mark.slow
@needs("speechbrain", "speechbrain")
@needs("funasr", "emotion2vec")
def test_speechbrain_and_emotion2vec_models_are_audited_end_to_end(tmp_path):
    from trustser.encoders.tiny_emotion2vec import save_tiny_emotion2vec
    from trustser.models.finished.tiny_speechbrain import save_tiny_speechbrain

    speechbrain = save_tiny_speechbrain(tmp_path / "speechbrain", "custom_interface")
    finished = save_tiny_emotion2vec(tmp_path / "emotion2vec_plus", classifier=True)
    backbone = save_tiny_emotion2vec(tmp_path / "emotion2vec", classifier=False)
    report = tmp_path / "report"
    done = run_suite(
        ROOT / "trust_tests",
        cwd=tmp_path,
        report=report,
        cache=tmp_path / "cache",
        options=(
            *("-p", "tests.planted.tones", "--corpus", "tones:speakers=4,per_emotion=3"),
            *("--backbone", f"emotion2vec:{backbone}", "--model", f"speechbrain:{speechbrain},emotion2vec:{finished}"),
        ),
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]  # 1: random weights fail gates

    suite = ET.parse(report / "junit.xml").getroot().find("testsuite")
    assert suite.get("errors") == "0", done.stdout[-3000:]
    runs = {f"emotion2vec:{backbone}", f"model:speechbrain:{speechbrain}", f"model:emotion2vec:{finished}"}
    measured = {run: set() for run in runs}
    for case in suite.iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        if properties.get("verdict") not in (None, "SKIP"):
            measured[properties["backbone"]].add(properties["pillar"])
    assert all(pillars == set(PILLARS) for pillars in measured.values()), measured
    verdicts = {(r["backbone"], r["metric"]): r["verdict"] for r in report_records(report)}
    for run in runs:  # differentiable from the waveform: the white-box attacks ran on each
        assert all(verdicts[(run, metric)] != "SKIP" for metric in WHITE_BOX), (run, verdicts)


def test_without_the_extra_the_run_stops_with_the_install_command(tmp_path):
    (tmp_path / "model").mkdir()
    done = run_suite(
        ROOT / "trust_tests" / "test_utility.py",
        cwd=tmp_path,
        report=tmp_path / "report",
        cache=tmp_path / "cache",
        options=(
            *("-p", "tests.models.without_extras", "-p", "tests.planted.tones", "--corpus", "tones:speakers=4"),
            *("--model", f"speechbrain:{tmp_path / 'model'}"),
        ),
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 4, output[-2000:]  # a usage error at collection, not a failed gate
    assert "pip install 'trustser[speechbrain]'" in output and "Traceback" not in output, output[-2000:]
