"""Exceptions shared across the library."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class NotApplicable(Exception):
    """The metric does not exist for this backbone (e.g. gradients of a non-differentiable encoder).

    The pytest plugin turns it into a skip with this message and a SKIP record in the report.
    """


class CacheWriteError(OSError):
    """Writing into the cache (or the report) failed for a reason of the machine, not of the audit: a
    full disk, no permission, a path that is a file. `str()` is one line naming the path, the system's
    reason and the free space on that disk (built by `trustser.cache.store.write_error`); `errno` and
    `filename` are the original error's, so code that tests for ENOSPC keeps working.

    Defined here, not in the cache package, so the pytest plugin can tell it apart without importing
    torch.
    """

    def __str__(self) -> str:
        return str(self.strerror)


class SpecError(ValueError):
    """A corpus, backbone or model spec that cannot be built: an unknown name, a bad option, a missing
    checkpoint, file or optional package, or a team's code that fails. The message names the spec and
    what is wrong; the plugin turns it into a usage error before any test runs.

    Raised by every registry and loader of specs (`trustser.corpora.create`, `trustser.encoders.create`,
    `trustser.models.finished.formats.load_finished_model`, `trustser.specs.team_code`). A ValueError,
    so code that caught the ValueErrors of bad specs keeps working.
    """


_BUILDING_ERRORS = (KeyError, ValueError, OSError, ImportError)
"""What the code building a spec raises when the spec is bad (an unknown key, a bad value, a missing
file or checkpoint, a missing optional package)."""


def plain_message(error: BaseException) -> str:
    """The error's text, without the quotes a KeyError's str adds."""
    return str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)


@contextlib.contextmanager
def spec_errors(*passing: type[BaseException]) -> Iterator[None]:
    """Within: what building a spec raises for a bad spec becomes a `SpecError` with the same text (the
    original is its `__cause__`); a SpecError, and the `passing` types (e.g. bad audio, which is data
    and not the spec), go through as they are."""
    try:
        yield
    except SpecError:
        raise
    except _BUILDING_ERRORS as error:
        if passing and isinstance(error, passing):
            raise
        raise SpecError(plain_message(error)) from error
