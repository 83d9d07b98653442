"""This process's audit session (trustser.run.session), built from the trust options on first use: by
the check at the end of collection, or by the first trust test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from trustser.pytest_plugin import terminal, xdist
from trustser.pytest_plugin.gating import gates_were_checked
from trustser.pytest_plugin.settings import audit_options

if TYPE_CHECKING:
    from trustser.run.session import AuditSession

_SESSION = pytest.StashKey["AuditSession"]()


def audit_session(config: pytest.Config) -> AuditSession:
    """This process's audit session, built on first use (by the collection check or the first trust test)."""
    if _SESSION not in config.stash:
        from trustser.run.session import AuditSession

        settings = audit_options(config).audit_settings()
        config.stash[_SESSION] = AuditSession(settings, progress=terminal.progress_writer(config))
    return config.stash[_SESSION]


def check_before_any_test(session: pytest.Session) -> None:
    """A bad corpus, backbone or model stops the run here, once, with a usage error: before any test.

    Under pytest-xdist the workers collect, not the controller, and each worker reports such a
    problem as its trust tests' ERROR rows instead.
    """
    config = session.config
    uses_the_audit = any("trust_session" in getattr(item, "fixturenames", ()) for item in session.items)
    if not gates_were_checked(config):
        return  # collection already stopped (pytest calls this hook even then): that error is the one to show
    if config.option.collectonly or not xdist.is_controller(config) or not uses_the_audit:
        return
    from trustser.run.session import ConfigurationError

    try:
        audit_session(config).check()
    except ConfigurationError as error:
        raise pytest.UsageError(str(error)) from None
