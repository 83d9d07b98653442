"""The audit's vocabulary, spelled once: verdicts, bounds, gate levels and the pillar order.
Thresholds, records, the collector and every writer use these (how values are written:
trustser.formatting).

The enums are `StrEnum`s: a member is its string ("PASS", "min"), so records, JUnit properties and
the JSON report carry plain strings and compare equal to them.
"""

from __future__ import annotations

from enum import StrEnum

PILLARS = ("protocol", "utility", "privacy", "fairness", "safety", "sustainability")
"""The six pillars, in the order every report shows them (and `pytest trust_tests` runs them): the
protocol first, since every other gate stands on it."""


TASKS = ("categorical", "dimensional")
"""What an audited model predicts: an emotion category, or emotional attributes (arousal, dominance,
valence; `--task`). Each metric declares the tasks it judges; under another task its gate is a SKIP."""


class Verdict(StrEnum):
    PASS = "PASS"  # within the gate
    WARN = "WARN"  # outside a warn-level gate, or too small a group to judge
    FAIL = "FAIL"  # outside the gate, or regressed beyond tolerance from the baseline
    ERROR = "ERROR"  # the test crashed, or its evaluator returned NaN, before the metric was measured
    SKIP = "SKIP"  # the metric does not apply to this backbone, or it belongs to the extended battery

    @property
    def measured(self) -> bool:
        """Whether a record with this verdict carries a measured value judged against its gate."""
        return self in (Verdict.PASS, Verdict.WARN, Verdict.FAIL)

    @property
    def failing(self) -> bool:
        """Whether this verdict is one a reviewer must act on (and, but for WARN, fails the run)."""
        return self in (Verdict.FAIL, Verdict.ERROR)


VERDICTS = tuple(Verdict)
"""Report order: the verdict counts are listed in this order."""

SEVERITY = (Verdict.FAIL, Verdict.ERROR, Verdict.WARN, Verdict.PASS, Verdict.SKIP)
"""Most severe first: the worst verdict of a group of gates is the first of these among them."""


def most_severe(verdicts) -> Verdict | None:
    """The most severe of `verdicts` (strings or Verdicts; an unknown string counts as worst); None if none."""
    rank = {verdict: index for index, verdict in enumerate(SEVERITY)}
    verdicts = list(verdicts)
    return min(verdicts, key=lambda v: rank.get(v, -1)) if verdicts else None


class Bound(StrEnum):
    MIN = "min"  # higher is better: the value must stay at or above the threshold
    MAX = "max"  # lower is better: the value must stay at or below the threshold

    @property
    def better(self) -> str:
        return "higher" if self is Bound.MIN else "lower"

    def within(self, value: float, threshold: float) -> bool:
        return value >= threshold if self is Bound.MIN else value <= threshold

    @property
    def symbols(self) -> tuple[str, str]:
        """(within, outside) as written in messages."""
        return (">=", "<") if self is Bound.MIN else ("<=", ">")


class Level(StrEnum):
    FAIL = "fail"  # outside the gate fails the run
    WARN = "warn"  # outside the gate is reported, never failing the run
