"""What the encoder and corpus checks share: failing a rule, and naming who failed which rule."""

from __future__ import annotations

import numbers
from typing import Callable

Check = Callable[[], None]


def require(condition, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def is_count(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def is_nonempty_text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def run_rule(subject: str, rule: str, body: Callable[[], None]) -> None:
    """`body()`, any failure re-raised as an AssertionError naming the subject and the rule, so that a
    crash inside the encoder or corpus reads as the broken rule it is."""
    try:
        body()
    except Exception as error:
        detail = str(error) if isinstance(error, AssertionError) else f"{type(error).__name__}: {error}"
        raise AssertionError(f"{subject} breaks the rule {rule!r}: {detail}") from error
