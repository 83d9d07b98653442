"""`--trust-baseline`: a previous trust report, loaded once as the run is configured, whose values every
trust check also compares against (a regression beyond the gate's tolerance fails)."""

from __future__ import annotations

import warnings

import pytest

from trustser.pytest_plugin.settings import audit_options
from trustser.report.baseline import BaselineError, load_baseline, unmatched

BASELINE = pytest.StashKey[dict]()


def load(config: pytest.Config) -> None:
    """The baseline's values, if one was given; a usage error when it cannot be read, and a warning
    naming the audited backbones it holds nothing for."""
    audit = audit_options(config)
    if not audit.baseline:
        return
    try:
        config.stash[BASELINE] = load_baseline(audit.baseline)
    except BaselineError as error:
        raise pytest.UsageError(str(error)) from None
    missing = unmatched(config.stash[BASELINE], audit.backbones, audit.corpus)
    if missing:
        held = sorted({f"{b} on {c}" for _, b, c in config.stash[BASELINE]})
        warnings.warn(
            f"baseline {audit.baseline} has no records for {', '.join(missing)} on {audit.corpus}; "
            f"those are not checked for regressions (it holds: {'; '.join(held) or 'nothing'})",
            stacklevel=3,  # as pytest_configure's own warning
        )
