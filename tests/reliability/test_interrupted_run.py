"""A run cut short says so: Ctrl-C or SIGTERM mid-run writes the rows it has under an `interrupted`
status, first in every report, and exits with pytest's interrupted code; a run that ends with trust tests
missing says how many and why (issue 28, item 2)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest

from tests.suite_runs import ROOT, run_suite, suite_command
from trustser.report.completion import Completion
from trustser.report.schema import report_schema
from trustser.report.writers import render_markdown

INTERRUPTED = int(pytest.ExitCode.INTERRUPTED)

# three tests report (a skip mark is a SKIP row too), the fourth hangs (after leaving a marker, so the
# signal lands while it runs), the fifth never starts
TRUST_TESTS = """
import os
import time
from pathlib import Path

import pytest

from trustser.gates.measurement import Measurement

@pytest.mark.trust("privacy.membership_advantage")
def test_passes(backbone, trust):
    trust.check(Measurement(0.0, n=3))

@pytest.mark.skip(reason="needs a GPU")
@pytest.mark.trust("sustainability.real_time_factor")
def test_skip_marked(backbone, trust):
    trust.check(Measurement(0.0, n=3))

@pytest.mark.trust("utility.accuracy")
def test_fails(backbone, trust):
    trust.check(Measurement(0.1, n=3))

@pytest.mark.trust("utility.uar")
def test_hangs(backbone, trust):
    Path(os.environ["TRUST_TEST_STARTED"]).write_text("started")
    time.sleep(120)

@pytest.mark.trust("sustainability.parameters")
def test_never_starts(backbone, trust):
    trust.check(Measurement(10.0, n=1))
"""
OPTIONS = ("--thresholds", str(ROOT / "thresholds.toml"), "--backbone", "mfcc")
CUT_SHORT = ["test_audit.py::test_hangs[mfcc]", "test_audit.py::test_never_starts[mfcc]"]


def _default_sigint() -> None:
    # a child started in the background by a non-interactive shell inherits SIGINT ignored, and Python
    # then never turns it into KeyboardInterrupt: a user's Ctrl-C reaches a foreground pytest
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _signalled_audit(tmp_path: Path, signum: int) -> tuple[int, str, Path]:
    """Run TRUST_TESTS, send `signum` while the third test runs; (exit code, output, report dir)."""
    (tmp_path / "test_audit.py").write_text(TRUST_TESTS)
    started, report = tmp_path / "started", tmp_path / "report"
    command, env = suite_command(
        tmp_path / "test_audit.py",
        report=report,
        options=("--rootdir", str(tmp_path), *OPTIONS),
        environment={"TRUST_TEST_STARTED": str(started)},
    )
    child = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not started.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), child.communicate(timeout=30)[0] if child.poll() is not None else "never started"
        child.send_signal(signum)
        output, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.returncode, output, report


@pytest.mark.parametrize(
    "signum, reason",
    [(signal.SIGINT, "stopped by SIGINT (Ctrl-C)"), (signal.SIGTERM, "stopped by SIGTERM")],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signalled_run_writes_what_it_has_as_interrupted_and_exits_2(tmp_path, signum, reason):
    returncode, output, report = _signalled_audit(tmp_path, signum)
    assert returncode == INTERRUPTED, output
    document = json.loads((report / "trust_report.json").read_text())
    jsonschema.validate(document, report_schema())
    assert document["summary"] == {
        "status": "interrupted",
        "collected": 5,
        "reported": 3,
        "missing": CUT_SHORT,
        "reason": reason,
        "PASS": 1,
        "FAIL": 1,
        "SKIP": 1,
    }
    [skipped] = [r for r in document["records"] if r["verdict"] == "SKIP"]
    assert skipped["message"].endswith("not measured (mfcc on synthetic): needs a GPU")
    headline = "Interrupted after 3 of 5 trust tests: not a release verdict."
    markdown = (report / "report.md").read_text().splitlines()
    assert markdown[0] == f"**{headline}** 2 trust tests without a result: {reason}.", markdown[:3]
    assert "**1 PASS, 0 WARN, 1 FAIL, 0 ERROR, 1 SKIP, 2 without a result (interrupted)**" in markdown
    assert all(f"- `{nodeid}`" in markdown for nodeid in CUT_SHORT)  # named under "Without a result"
    html = (report / "report.html").read_text()
    body = html[html.index("<body>") + len("<body>") :]
    assert body.startswith(f'<p class="cut-short" id="run-status"><strong>{headline}</strong>'), body[:200]
    assert "<title>TrustSER trust report (interrupted)</title>" in html
    assert f"trust report: {headline}" in output  # the terminal summary too
    assert not (report / ".parts").exists()  # the run's pieces are cleaned up, as after a finished run


def test_a_run_stopped_by_maxfail_says_how_many_tests_have_no_result_and_why(tmp_path):
    (tmp_path / "test_audit.py").write_text(TRUST_TESTS)
    done = run_suite(
        tmp_path / "test_audit.py",
        cwd=tmp_path,
        report=tmp_path / "report",
        options=("--rootdir", str(tmp_path), *OPTIONS, "-x", "--deselect", "test_audit.py::test_hangs[mfcc]"),
        timeout=120,
    )
    assert done.returncode == int(pytest.ExitCode.TESTS_FAILED), done.stdout + done.stderr
    summary = json.loads((tmp_path / "report" / "trust_report.json").read_text())["summary"]
    assert summary == {
        "status": "incomplete",
        "collected": 4,  # after deselection
        "reported": 3,
        "missing": ["test_audit.py::test_never_starts[mfcc]"],
        "reason": "stopping after 1 failures",
        "PASS": 1,
        "FAIL": 1,
        "SKIP": 1,
    }
    first = (tmp_path / "report" / "report.md").read_text().splitlines()[0]
    assert first == (
        "**Incomplete: 3 of 4 trust tests reported: not a release verdict.** "
        "1 trust test without a result: stopping after 1 failures."
    )


def test_a_complete_run_has_no_status_line_and_an_interrupted_one_before_any_row_still_says_so():
    meta = {"corpus": "synthetic", "backbones": ["mfcc"], "seed": 0}
    assert render_markdown([], meta).startswith("# TrustSER trust report\n")  # complete: the report as before
    cut = Completion(collected=3, reported=0, missing=("a", "b", "c"), interrupted=True, reason="stopped by SIGTERM")
    markdown = render_markdown([], meta, completion=cut)
    assert markdown.startswith("**Interrupted after 0 of 3 trust tests: not a release verdict.**")
    assert "No gate failed and no test crashed.\n" not in markdown  # never the all-clear of a finished run


def test_sigterm_interrupts_once_and_the_previous_handler_comes_back():
    from types import SimpleNamespace

    from trustser.pytest_plugin import interrupts

    def theirs(signum, frame):
        raise AssertionError("not called here")

    before = signal.signal(signal.SIGTERM, theirs)
    try:
        config = SimpleNamespace(stash=pytest.Stash())  # a serial run's process: no workerinput
        interrupts.interrupt_on_sigterm(config)
        ours = signal.getsignal(signal.SIGTERM)
        assert ours is not theirs
        with pytest.raises(KeyboardInterrupt, match="stopped by SIGTERM"):
            ours(signal.SIGTERM, None)
        assert signal.getsignal(signal.SIGTERM) is theirs  # a second SIGTERM does what it did before
        interrupts.restore(config)
        assert signal.getsignal(signal.SIGTERM) is theirs
        interrupts.interrupt_on_sigterm(SimpleNamespace(stash=pytest.Stash(), workerinput={"workerid": "gw0"}))
        assert signal.getsignal(signal.SIGTERM) is theirs  # a pytest-xdist worker writes no report: untouched
    finally:
        signal.signal(signal.SIGTERM, before)
