"""The audit's fixtures: `trust_session` (one per process), `backbone_run` (the current backbone's
run) and `trust` (the test's gate, as a `TrustCheck`). hooks.py imports them, so that pytest finds them
on the plugin."""

from __future__ import annotations

import pytest

from trustser.errors import NotApplicable, SpecError
from trustser.pytest_plugin import baseline, gating, reporting, settings, terminal
from trustser.pytest_plugin.check import TrustCheck, corpus_of, metric_of
from trustser.pytest_plugin.session import audit_session


@pytest.fixture(scope="session")
def trust_session(pytestconfig: pytest.Config):
    session = audit_session(pytestconfig)
    # the corpus summary, printed as the audit starts and kept for the report (corpus_summary.json)
    summary = session.corpus_summary
    summary.save(reporting.parts(pytestconfig) / "corpus_summary.json")
    terminal.announce_corpus(pytestconfig, summary)
    yield session
    # for the report (predictions.csv, the models' adjustments), once every test has run
    from trustser.formatting import safe_name
    from trustser.report.writers import write_model_adjustments, write_prediction_rows

    for backbone, rows in session.prediction_rows().items():
        write_prediction_rows(reporting.parts(pytestconfig) / f"predictions-{safe_name(backbone)}.csv", rows)
    for backbone, lines in session.model_adjustments().items():
        write_model_adjustments(
            reporting.parts(pytestconfig) / f"adjustments-{safe_name(backbone)}.json", backbone, lines
        )


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


@pytest.fixture
def transfer_run(backbone: str, test_corpus: str | None, backbone_run, trust_session, trust: TrustCheck):
    """The current backbone's heads evaluated on the current --test-corpus (trustser.run.transfer). Without
    --test-corpus the plugin deselects the cross-corpus tests; a test that asks for this fixture anyway
    SKIPs saying why."""
    if test_corpus is None:
        trust.skip_not_applicable(
            NotApplicable("no --test-corpus given: cross-corpus transfer needs a corpus the heads were not trained on")
        )
    return trust_session.transfer_run(backbone, test_corpus)


@pytest.fixture
def parity_run(backbone: str, backbone_run, trust_session):
    """The current finished model's run beside its export's (--export-parity; trustser.run.parity). The plugin
    deselects these tests for a backbone without an export."""
    export = trust_session.parity_run(backbone)
    try:
        _ = export.exported.encoder
    except SpecError as error:
        problem = f"{export.exported.backbone}: {error}"
    else:
        return export
    pytest.fail(problem, pytrace=False)


@pytest.fixture
def trust(request: pytest.FixtureRequest, backbone: str) -> TrustCheck:
    """The gate of this test's `@pytest.mark.trust` metric, bound to backbone and corpus."""
    from trustser.report.baseline import normalised_corpus

    gates = gating.gates(request.config)
    if gates is None:
        raise gating.no_thresholds_file(request.config)
    gate = gates.gate(metric_of(request.node))
    audit = settings.audit_options(request.config)
    held = request.config.stash.get(baseline.BASELINE, {})
    corpus = corpus_of(request.node, audit.corpus)
    check = TrustCheck(
        request.node, gate, backbone, corpus, held.get((gate.metric, backbone, normalised_corpus(corpus)))
    )
    if request.node.get_closest_marker("deep") and not audit.deep:
        check.skip_unmeasured("extended battery: run with --trust-deep")
    _skip_under_another_task(request, check)
    return check


def _skip_under_another_task(request: pytest.FixtureRequest, check: TrustCheck) -> None:
    """SKIP, saying why, a gate whose metric does not judge what this audit's models predict (--task)."""
    from trustser.gates.declaration import registered_metrics

    metric = registered_metrics().get(check.gate.metric)
    if metric is None or len(metric.tasks) > 1:
        return
    task = request.getfixturevalue("trust_session").task
    if task not in metric.tasks:
        check.skip_not_applicable(
            NotApplicable(f"{metric.label} judges {metric.tasks[0]} models; this audit's task is {task} (--task)")
        )
