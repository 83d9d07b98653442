"""The audit's session and per-backbone fixtures: `trust_session` (one per process) and `backbone_run`
(the current backbone's run). hooks.py imports them, so that pytest finds them on the plugin."""

from __future__ import annotations

import pytest

from trustser.errors import SpecError
from trustser.pytest_plugin import reporting, terminal
from trustser.pytest_plugin.session import audit_session


@pytest.fixture(scope="session")
def trust_session(pytestconfig: pytest.Config):
    session = audit_session(pytestconfig)
    # the corpus summary, printed as the audit starts and kept for the report (corpus_summary.json)
    summary = session.corpus_summary
    summary.save(reporting.parts(pytestconfig) / "corpus_summary.json")
    terminal.announce_corpus(pytestconfig, summary)
    yield session
    session.save_predictions()  # for the report (predictions.csv), once every test has run


@pytest.fixture
def backbone_run(backbone: str, trust_session):
    """The current backbone's run (features, per-fold heads, predictions), computed once per session."""
    run = trust_session.run(backbone)
    try:
        # built now, so a missing checkpoint or extra, or unmappable labels, is one line, not a traceback
        _ = run.encoder
    except SpecError as error:
        problem = f"{backbone}: {error}"
    else:
        return run
    pytest.fail(problem, pytrace=False)  # outside `except`, so no chained traceback is printed
