"""What a gate judges: one metric as measured, with everything the judge and the report need.

Every function a trust test calls (`trustser.audit`, the pillars' `checks.py`) returns one, so a
trust test is one line of wiring, `trust.check(audit.uar(backbone_run))`: the judge receives the
whole result (value, count, interval, smallest group, speakers and the evaluator's own result) and no test
picks numbers out of it. An evaluation that yields several metrics (gender fairness: statistical
parity, equality of opportunity, UAR difference) has one such function per metric, each reading
the one memoised evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    value: float  # the number the gate compares with its bound; not finite: not measured (an ERROR)
    n: int | None = None  # what it was measured on (utterances, trials, ...); None where nothing is counted
    interval: tuple[float, float] | None = None  # its 95% confidence interval (low, high), where there is one
    group_size: int | None = None  # the smallest group it compares, for the gate's `min_group_size`
    speakers: int | None = None  # how many speakers it was measured on, for `min_speakers`; None: not over speakers
    details: object = None  # the evaluator's whole result; the report keeps its plain form
    note: str = ""  # what the value counts, by name (e.g. the duplicate utterances): the verdict's message ends with it

    def __post_init__(self) -> None:
        if self.interval is not None:
            low, high = self.interval
            object.__setattr__(self, "interval", (float(low), float(high)))
