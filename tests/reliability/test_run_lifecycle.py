"""A report on disk belongs to the last run; configuration errors stop a run once, as usage errors;
what a killed run leaves behind is removed by the next (issue: hostile inputs, item 3 and 6)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.suite_runs import ROOT, run_suite
from trustser.cache.store import atomic_path, staging_prefix, sweep_abandoned

USAGE_ERROR = int(pytest.ExitCode.USAGE_ERROR)
PREVIOUS_RUN = ("trust_report.json", "report.md", "report.html", "predictions.csv", "corpus_summary.json")


def _tiny_manifest(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(4):
        soundfile.write(directory / f"a{i}.wav", (0.3 * np.sin(np.arange(8000) / (3 + i))).astype(np.float32), 16000)
    rows = [f"a{i}.wav,{'angry' if i % 2 else 'neutral'},spk{i},{'F' if i % 2 else 'M'},a{i}" for i in range(4)]
    table = directory / "corpus.csv"
    table.write_text("path,emotion,speaker,gender,id\n" + "\n".join(rows) + "\n")
    return table


def _stale_report(report: Path) -> None:
    (report / "examples").mkdir(parents=True)
    (report / "examples" / "old.wav").write_bytes(b"RIFF")
    for name in PREVIOUS_RUN:
        (report / name).write_text("from the previous run")


def _audit(tmp_path: Path, *options: str, tests: str = "trust_tests") -> subprocess.CompletedProcess:
    return run_suite(
        ROOT / tests, cwd=ROOT, report=tmp_path / "report", cache=tmp_path / "cache", options=options, timeout=300
    )


@pytest.mark.parametrize(
    "options, named",
    [
        (("--corpus", "manifest:/nonexistent/corpus.csv"), "/nonexistent/corpus.csv"),
        (("--corpus", "synthetic:speakers=4,colour=blue"), "colour=blue"),
        (("--corpus", "nosuchcorpus"), "unknown corpus 'nosuchcorpus'"),
        (("--corpus", "manifest:{manifest}", "--backbone", "mfcc,nosuchencoder"), "unknown encoder 'nosuchencoder'"),
        (("--corpus", "manifest:{manifest}", "--model", "hf:/nonexistent/checkpoint"), "/nonexistent/checkpoint"),
    ],
    ids=["missing-manifest", "bad-corpus-option", "unknown-corpus", "unknown-encoder", "missing-model"],
)
def test_a_configuration_error_stops_the_run_once_as_a_usage_error_and_clears_the_old_report(tmp_path, options, named):
    manifest = _tiny_manifest(tmp_path / "corpus")
    _stale_report(tmp_path / "report")
    done = _audit(tmp_path, *(o.format(manifest=manifest) for o in options))
    output = done.stdout + done.stderr
    assert done.returncode == USAGE_ERROR, output  # 4, not 1 (a failed gate)
    assert output.count("ERROR:") == 1 and named in output and "Traceback" not in output, output
    assert len(output.splitlines()) < 10, output
    assert not any((tmp_path / "report" / name).exists() for name in PREVIOUS_RUN)
    assert not (tmp_path / "report" / "examples").exists()


def test_a_run_without_trust_tests_leaves_the_report_alone(tmp_path):
    _stale_report(tmp_path / "report")
    done = _audit(tmp_path, tests="tests/core/test_folds.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert all((tmp_path / "report" / name).read_text() == "from the previous run" for name in PREVIOUS_RUN)


def test_a_finished_run_replaces_every_file_of_the_previous_one(tmp_path):
    manifest = _tiny_manifest(tmp_path / "corpus")
    _stale_report(tmp_path / "report")
    done = _audit(
        tmp_path,
        "--corpus",
        f"manifest:{manifest}",
        "--backbone",
        "mfcc",
        "--folds",
        "2",
        tests="trust_tests/test_sustainability.py::test_parameters",
    )
    report = tmp_path / "report"
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((report / "corpus_summary.json").read_text())["spec"] == f"manifest:{manifest}"
    assert json.loads((report / "trust_report.json").read_text())["records"][0]["metric"] == "sustainability.parameters"
    assert not (report / "predictions.csv").exists() and not (report / "examples").exists()  # none this run
    assert not (report / ".parts").exists()


def _killed_mid_write(code: str) -> None:
    """Run `code` in a child that signals when it is inside the write, then kill -9 it there."""
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT))
    )
    assert child.stdout.readline().strip() == "writing"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)


def test_temporary_files_of_a_killed_run_are_swept_and_a_live_runs_are_kept(tmp_path):
    _killed_mid_write(
        "import sys, time\nfrom pathlib import Path\nfrom trustser.cache.store import atomic_path\n"
        f"with atomic_path(Path({str(tmp_path)!r}) / 'heads' / 'key.safetensors') as tmp:\n"
        "    tmp.write_bytes(b'half')\n    print('writing', flush=True)\n    time.sleep(60)\n"
    )
    [left] = [p for p in (tmp_path / "heads").iterdir()]
    with atomic_path(tmp_path / "heads" / "live.json") as live:  # this process is alive: its file stays
        assert sweep_abandoned(tmp_path) == [left]
        assert live.exists() and not left.exists()
    assert staging_prefix("x.json").startswith(f".x.json.tmp-{os.getpid()}-")


def test_a_killed_extraction_leaves_nothing_the_next_session_keeps(tmp_path):
    from trustser.run.session import AuditSession, AuditSettings

    store = tmp_path / "cache" / "features" / "store"
    _killed_mid_write(
        "import sys, time\nfrom pathlib import Path\nimport torch\nfrom trustser.features.store import ShardWriter\n"
        f"directory = Path({str(store)!r}); directory.mkdir(parents=True)\n"
        "writer = ShardWriter(directory, 0, 'float32')\nwriter.add(0, torch.zeros(5, 2, 3), 800)\n"
        "print('writing', flush=True)\ntime.sleep(60)\n"
    )
    assert len(list(store.iterdir())) == 2  # the frames and pooled files being written
    progress = []
    settings = AuditSettings(("mfcc",), "synthetic", tmp_path / "report", tmp_path / "cache")
    AuditSession(settings, progress=progress.append)
    assert list(store.iterdir()) == [] and "removed 2 temporary files" in progress[0]


def test_pieces_of_a_killed_run_are_removed_when_the_next_report_starts(tmp_path):
    from trustser.report.collector import remove_abandoned_parts

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = tmp_path / ".parts" / f"{dead.stdout.strip()}-abc"
    live = tmp_path / ".parts" / f"{os.getpid()}-def"
    for pieces in (abandoned, live):
        pieces.mkdir(parents=True)
        (pieces / "predictions-mfcc.csv").write_text("backbone\n")
    time.sleep(0.1)
    remove_abandoned_parts(tmp_path)
    assert not abandoned.exists() and live.exists()


def test_a_thresholds_file_missing_a_pillar_stops_the_run_at_collection_naming_the_gate(tmp_path):
    text = (ROOT / "thresholds.toml").read_text()
    without_safety = text[: text.index("[safety.")] + text[text.index("[sustainability.") :]
    (tmp_path / "thresholds.toml").write_text(without_safety)
    _stale_report(tmp_path / "report")
    done = _audit(tmp_path, "--thresholds", str(tmp_path / "thresholds.toml"), "--corpus", "manifest:/nonexistent.csv")
    output = done.stdout + done.stderr
    assert done.returncode == USAGE_ERROR, output
    assert "no gate [safety." in output and output.count("ERROR:") == 1 and "Traceback" not in output, output
    assert not (tmp_path / "report" / "trust_report.json").exists()
