"""Collects trust records from test reports and writes the trust report when the session ends.

Records arrive as JUnit properties on test reports, which pytest-xdist forwards to the controller,
so a parallel run yields the same report as a serial one. The collector also knows which trust tests
were collected (under pytest-xdist the workers collect, and leave their lists among the run's pieces),
so a run cut short, by a signal or a stop, says so and names the tests without a result
(trustser.report.completion).
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from trustser.report.completion import Completion
from trustser.vocabulary import VERDICTS

if TYPE_CHECKING:
    from trustser.report.records import TrustRecord

REPORT_FILES = (
    "trust_report.json",
    "report.md",
    "report.html",
    "model_card.md",
    "predictions.csv",
    "corpus_summary.json",
)
"""What a run writes into the report directory (besides `examples/` and pytest's own JUnit file)."""


def parts_dir(report_dir: Path, token: str) -> Path:
    """Where the processes of one session leave pieces (corpus summary, predictions) to be merged."""
    return report_dir / ".parts" / token


UNRECORDED = "ended without a verdict (a passing trust test must call trust.check)"
"""Why a test of a run that ended has no record, when pytest gave no reason to stop (a crash is an ERROR
row and a skip a SKIP row: trustser.pytest_plugin.check)."""


def save_collected(parts: Path, worker: str, nodeids: list[str]) -> None:
    """A pytest-xdist worker's collected trust tests, for the controller, which collects nothing."""
    parts.mkdir(parents=True, exist_ok=True)
    staged = parts / f".collected-{worker}.json.tmp"
    staged.write_text(json.dumps(nodeids))
    staged.replace(parts / f"collected-{worker}.json")  # whole or absent, for a controller interrupted meanwhile


def collected_by_workers(parts: Path) -> set[str]:
    nodeids: set[str] = set()
    for listing in parts.glob("collected-*.json"):
        try:
            nodeids.update(json.loads(listing.read_text()))
        except (OSError, json.JSONDecodeError):
            continue  # a worker's list is one of several copies of the same collection
    return nodeids


def interruption_reason(error: BaseException) -> str:
    """What stopped the run, from the exception pytest's interrupt path caught."""
    text = str(getattr(error, "msg", "") or error)  # pytest.exit's reason is its `msg`
    return text if text else "stopped by SIGINT (Ctrl-C)"  # a bare KeyboardInterrupt is Python's SIGINT handler


def remove_abandoned_parts(report_dir: Path) -> None:
    """Pieces left by killed runs: their token starts with the pid of a process that no longer runs."""
    from trustser.cache.store import process_alive

    for pieces in (report_dir / ".parts").glob("*"):
        pid = pieces.name.partition("-")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(pieces, ignore_errors=True)


class TrustReportCollector:
    """Registered in every run of the installed plugin, so it does nothing, writes nothing and imports
    nothing heavy until a trust test is collected or a trust record arrives."""

    def __init__(self, config: pytest.Config, *, token: str, backbones: list[str], cache_root: Callable[[], Path]):
        self.config = config
        self.token = token  # the session's, shared with pytest-xdist workers: names this run's pieces
        self.backbones = backbones
        self.cache_root = cache_root  # called only when a report is written: finding it imports the cache module
        self.records: list[TrustRecord] = []
        self.started = False
        self.collected: set[str] = set()  # node ids of the trust tests this process collected (none under xdist)
        self.reported: set[str] = set()  # node ids of the tests a record came from
        self.interruption: str | None = None  # what stopped the run, when pytest's interrupt path ran
        self.written: Completion | None = None  # how far the run got, once its report is written

    def start_report(self) -> None:
        """Remove the previous run's report, once, as soon as this run is known to audit something."""
        if self.started:
            return
        self.started = True
        for name in REPORT_FILES:
            (self.report_dir / name).unlink(missing_ok=True)
        shutil.rmtree(self.report_dir / "examples", ignore_errors=True)
        remove_abandoned_parts(self.report_dir)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.user_properties:
            return  # not a trust test's report
        if report.when == "call" or (
            report.when == "setup" and not report.passed
        ):  # SKIP and ERROR can come from setup
            from trustser.report.records import TrustRecord

            record = TrustRecord.from_properties(report.user_properties)
            if record is not None:
                self.start_report()  # under pytest-xdist the controller collects nothing: the first record is the start
                self.records.append(record)
                self.reported.add(report.nodeid)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo) -> None:
        self.interruption = interruption_reason(excinfo.value)

    @property
    def parts(self) -> Path:
        return parts_dir(self.report_dir, self.token)

    @property
    def report_dir(self) -> Path:
        return Path(self.config.getoption("trust_report"))

    def meta(self) -> dict:
        option = self.config.getoption
        meta = {
            "corpus": option("trust_corpus"),
            "backbones": self.backbones,
            "seed": option("trust_seed"),
            "folds": option("trust_folds"),
            "baseline": option("trust_baseline"),
            # --task as given; without it the audit is categorical (every built-in corpus has categories)
            "task": option("trust_task") or "categorical",
        }
        test_corpora = list(dict.fromkeys(option("trust_test_corpus") or ()))
        if test_corpora:
            meta["test_corpora"] = test_corpora
        summary = self.corpus_summary()
        if summary is not None and summary.get("spec") == meta["corpus"]:
            meta["folds"] = summary["folds"]  # the corpus's own scheme may differ from --folds
            meta["corpus_summary"] = summary
        adjusted = list(self.parts.glob("adjustments-*.json")) if self.parts.exists() else []
        if adjusted:
            from trustser.report.writers import read_model_adjustments

            meta["model_adjustments"] = read_model_adjustments(adjusted)  # left by the sessions (fixtures.py)
        return meta

    def corpus_summary(self) -> dict | None:
        """The summary this run's audit session wrote when it loaded the corpus (trustser.pytest_plugin.fixtures)."""
        path = self.parts / "corpus_summary.json"
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def completion(self, session: pytest.Session, exitstatus: int) -> Completion:
        """How far the run got: every collected trust test with a record, or how many without and why."""
        collected = self.collected | collected_by_workers(self.parts) | self.reported
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
        if interrupted:
            reason = self.interruption or "interrupted"
        elif exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            reason = "pytest stopped on an internal error"
        else:  # e.g. -x: "stopping after 1 failures"
            stop = session.shouldfail or session.shouldstop
            reason = stop if isinstance(stop, str) and stop else UNRECORDED
        missing = tuple(sorted(collected - self.reported))
        return Completion(
            collected=len(collected),
            reported=len(self.reported),
            missing=missing,
            interrupted=interrupted,
            reason=reason if missing or interrupted else "",
        )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        completion = self.completion(session, exitstatus)
        # an interrupted run says so even before its first row (under pytest-xdist, before the report
        # started); a run stopped by a usage error before any test leaves no report
        cut_short_before_any_row = completion.interrupted and completion.collected > 0
        if cut_short_before_any_row:
            self.start_report()
        if not self.started:
            return  # no trust test in this run: nothing of the report directory is touched, nothing imported
        from trustser.report.html import write_html
        from trustser.report.model_card import write_model_card
        from trustser.report.writers import copy_listening_examples, merge_prediction_parts, write_json, write_markdown

        parts = self.parts
        if self.records or cut_short_before_any_row:
            self.records.sort(key=lambda r: (r.pillar, r.metric, r.backbone))
            meta = self.meta()
            from trustser.report.transfer import transfer_matrix

            matrix = transfer_matrix(self.records, meta)
            if matrix is not None:
                meta["transfer_matrix"] = matrix
            write_json(self.report_dir / "trust_report.json", self.records, meta, completion=completion)
            write_markdown(self.report_dir / "report.md", self.records, meta, completion=completion)
            write_html(self.report_dir / "report.html", self.records, meta, completion=completion)
            write_model_card(self.report_dir / "model_card.md", self.records, meta, completion=completion)
            self.written = completion
            if (parts / "corpus_summary.json").exists():
                shutil.copyfile(parts / "corpus_summary.json", self.report_dir / "corpus_summary.json")
            cache_root = self.cache_root()
            refused = copy_listening_examples(self.records, self.report_dir, cache_root)
            for name in refused:
                warnings.warn(
                    f"listening example {name!r} is not a WAV file in {cache_root / 'examples'}; not copied",
                    stacklevel=2,
                )
            pieces = list(parts.glob("predictions-*.csv")) if parts.exists() else []
            if pieces:
                merge_prediction_parts(pieces, self.report_dir / "predictions.csv")
        shutil.rmtree(parts, ignore_errors=True)
        if (self.report_dir / ".parts").is_dir() and not any((self.report_dir / ".parts").iterdir()):
            (self.report_dir / ".parts").rmdir()

    def pytest_terminal_summary(self, terminalreporter) -> None:
        completion = self.written  # the terminal summary comes after sessionfinish, which wrote the report
        if completion is not None:
            counts = ", ".join(f"{sum(r.verdict == v for r in self.records)} {v}" for v in VERDICTS)
            status = f"{completion.headline} " if completion.headline else ""
            terminalreporter.write_sep("=", f"trust report: {status}{counts} -> {self.report_dir / 'report.md'}")
