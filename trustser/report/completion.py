"""How far a run got: the trust tests it collected, those that reported a record, and why the rest did not.

A report with fewer rows than collected trust tests is not a release verdict, yet its verdict counts
read like one (a gate that never ran is simply absent). So every renderer leads with the run's status
when it is not `complete`, and trust_report.json's summary carries it beside the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["complete", "incomplete", "interrupted"]
STATUSES: tuple[Status, ...] = ("complete", "incomplete", "interrupted")


@dataclass(frozen=True)
class Completion:
    """`collected` trust tests, `reported` of them with a record, the node ids of the `missing` ones
    and, when there are any or the run was interrupted, the `reason` (the signal, pytest's stop message)."""

    collected: int
    reported: int
    missing: tuple[str, ...] = ()
    interrupted: bool = False  # stopped by SIGINT, SIGTERM or pytest.exit: pytest exited INTERRUPTED
    reason: str = ""

    @classmethod
    def all_reported(cls, count: int) -> Completion:
        """A run in which each of `count` collected trust tests reported its record."""
        return cls(collected=count, reported=count)

    @property
    def status(self) -> Status:
        if self.interrupted:
            return "interrupted"  # even with every row in: session teardown (predictions.csv) was cut short
        return "incomplete" if self.missing else "complete"

    @property
    def headline(self) -> str | None:
        """The report's first line when it is not a release verdict; None for a complete run."""
        if self.status == "interrupted":
            return f"Interrupted after {self.reported} of {self.collected} trust tests: not a release verdict."
        if self.status == "incomplete":
            return f"Incomplete: {self.reported} of {self.collected} trust tests reported: not a release verdict."
        return None

    @property
    def explanation(self) -> str:
        """What follows the headline: how many tests have no row, and why ('' for a complete run)."""
        if self.status == "complete":
            return ""
        missing = len(self.missing)
        if not missing:
            return f"{self.reason[:1].upper()}{self.reason[1:]}; every collected trust test has its row."
        return f"{missing} trust test{'s' if missing != 1 else ''} without a result: {self.reason}."

    def summary(self) -> dict:
        """The fields trust_report.json's summary holds beside the verdict counts."""
        return {
            "status": self.status,
            "collected": self.collected,
            "reported": self.reported,
            "missing": list(self.missing),
            "reason": self.reason or None,
        }
