"""Collects trust records from test reports and writes the trust report when the session ends.

Records arrive as JUnit properties on test reports, which pytest-xdist forwards to the controller,
so a parallel run yields the same report as a serial one.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

from trustser.report.records import VERDICTS, TrustRecord


def parts_dir(report_dir: Path, token: str) -> Path:
    """Where the processes of one session leave per-backbone pieces (predictions) to be merged."""
    return report_dir / ".parts" / token


class TrustReportCollector:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.records: list[TrustRecord] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):  # SKIP and ERROR can come from setup
            record = TrustRecord.from_properties(report.user_properties)
            if record is not None:
                self.records.append(record)

    @property
    def cache_root(self) -> Path:
        from trustser.cache import DEFAULT_ROOT

        return Path(self.config.getoption("trust_cache") or DEFAULT_ROOT)

    @property
    def report_dir(self) -> Path:
        return Path(self.config.getoption("trust_report"))

    def meta(self) -> dict:
        from trustser.plugin import audited_backbones  # the plugin imports this module

        option = self.config.getoption
        meta = {
            "corpus": option("corpus"),
            "backbones": audited_backbones(self.config),
            "seed": option("seed"),
            "folds": option("folds"),
            "baseline": option("trust_baseline"),
        }
        summary = self.corpus_summary()
        if summary is not None and summary.get("spec") == meta["corpus"]:
            meta["folds"] = summary["folds"]  # the corpus's own scheme may differ from --folds
            meta["corpus_summary"] = summary
        return meta

    def corpus_summary(self) -> dict | None:
        """The summary the audit session wrote when it loaded the corpus (trustser.plugin)."""
        path = self.report_dir / "corpus_summary.json"
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from trustser.plugin import session_token  # the plugin owns the token; imported late to avoid a cycle
        from trustser.report.writers import (
            copy_listening_examples,
            merge_prediction_parts,
            write_html,
            write_json,
            write_markdown,
        )

        parts = parts_dir(self.report_dir, session_token(self.config))
        if self.records:
            self.records.sort(key=lambda r: (r.pillar, r.metric, r.backbone))
            write_json(self.report_dir / "trust_report.json", self.records, self.meta())
            write_markdown(self.report_dir / "report.md", self.records, self.meta())
            write_html(self.report_dir / "report.html", self.records, self.meta())
            shutil.rmtree(self.report_dir / "examples", ignore_errors=True)  # an earlier run's examples are not this run's
            refused = copy_listening_examples(self.records, self.report_dir, self.cache_root)
            for name in refused:
                warnings.warn(f"listening example {name!r} is not a WAV file in {self.cache_root / 'examples'}; not copied")
            pieces = list(parts.glob("predictions-*.csv")) if parts.exists() else []
            if pieces:
                merge_prediction_parts(pieces, self.report_dir / "predictions.csv")
            else:
                (self.report_dir / "predictions.csv").unlink(missing_ok=True)
        shutil.rmtree(parts, ignore_errors=True)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.records:
            counts = ", ".join(f"{sum(r.verdict == v for r in self.records)} {v}" for v in VERDICTS)
            terminalreporter.write_sep("=", f"trust report: {counts} -> {self.report_dir / 'report.md'}")
