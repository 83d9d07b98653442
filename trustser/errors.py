"""Exceptions shared across the library."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence


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


SHOWN_UTTERANCES = 5  # a message names this many utterances at fault, then says how many more


class ModelOutputError(RuntimeError):
    """A model's answer to a batch breaks what the model declared (shape, dtype, finite values), or the model
    raised on it: the evaluation stops, and the audit reports an ERROR naming the model, the inputs at fault
    and what was expected. Such an answer is never padded, never stored and never counted as a prediction.

    Raised by the check every batch of a `torch:` model goes through (trustser.models.finished.output_checks)
    and by `WaveformClassifier` for the non-finite logits of any model. `rows` are the rows of the batch at
    fault (`exact`), or the rows among which they are (`exact=False`), `seconds` the durations of the inputs
    at fault. A caller that formed the batch out of a longer list maps the rows back to it (`batch_of`); a
    caller that knows the utterances names them (`naming`).
    """

    def __init__(
        self,
        model: str,
        problem: str,
        *,
        rows: Sequence[int],
        batch_size: int,
        seconds: Sequence[float] = (),
        hint: str = "",
        exact: bool = True,
        utterances: Sequence[str] = (),
    ):
        self.model, self.problem, self.hint, self.exact = model, problem, hint, exact
        self.rows, self.batch_size, self.seconds = tuple(rows), batch_size, tuple(seconds)
        self.utterances = tuple(utterances)
        super().__init__(self._message())

    def _replaced(self, **changes) -> "ModelOutputError":
        fields = {
            "rows": self.rows,
            "batch_size": self.batch_size,
            "seconds": self.seconds,
            "hint": self.hint,
            "exact": self.exact,
            "utterances": self.utterances,
        }
        return ModelOutputError(self.model, self.problem, **{**fields, **changes})

    def within(self, positions: Sequence[int], total: int) -> "ModelOutputError":
        """The same fault, its rows those of an enclosing batch of `total` rows whose rows `positions` were
        this batch (when the sizes differ, e.g. an attack forwarding a part of its batch, the fault is
        somewhere among `positions`)."""
        positions = list(positions)
        if len(positions) != self.batch_size:
            return self._replaced(rows=positions, batch_size=total, exact=False)
        return self._replaced(rows=[positions[row] for row in self.rows], batch_size=total)

    def naming(self, ids: Sequence[str]) -> "ModelOutputError":
        """The same fault, naming the utterances at fault: `ids[row]` is the utterance of batch row `row`."""
        if len(ids) != self.batch_size:
            return self._replaced(utterances=list(ids), exact=False)
        return self._replaced(utterances=[ids[row] for row in self.rows])

    def _message(self) -> str:
        """One line: the model, what it returned and what was expected, then the inputs at fault."""
        return f"{self.model} {self.problem}, for {self._inputs()}{'; ' + self.hint if self.hint else ''}"

    def _inputs(self) -> str:
        durations = sorted(self.seconds)
        if not durations:
            length = ""
        elif len(durations) == 1 or durations[0] == durations[-1]:
            length = f"{durations[0]:.2f} s"
        else:
            length = f"{durations[0]:.2f}-{durations[-1]:.2f} s"
        if self.utterances:
            shown = ", ".join(self.utterances[:SHOWN_UTTERANCES])
            more = len(self.utterances) - SHOWN_UTTERANCES
            named = f"{shown} and {more} more" if more > 0 else shown
            which = "one of the utterances" if not self.exact else "utterance" + "s" * (len(self.utterances) > 1)
            return f"{which} {named}" + (f" ({length})" if length else "")
        count = len(self.seconds) or len(self.rows)
        inputs = f"{count} input{'s' * (count != 1)}" + (f" of {length}" if length else "")
        return f"{inputs} (batch rows {', '.join(map(str, self.rows))} of {self.batch_size})"


@contextlib.contextmanager
def batch_of(positions: Sequence[int], total: int) -> Iterator[None]:
    """Within: a `ModelOutputError` of a batch formed of rows `positions` of a list of `total` names its rows
    in that list (see `ModelOutputError.within`)."""
    try:
        yield
    except ModelOutputError as error:
        raise error.within(positions, total) from None


@contextlib.contextmanager
def naming_utterances(ids: Sequence[str]) -> Iterator[None]:
    """Within: a `ModelOutputError` of a batch of the utterances `ids` (in order) names those at fault."""
    try:
        yield
    except ModelOutputError as error:
        raise error.naming(ids) from None
