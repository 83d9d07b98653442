"""A trust record for report tests: a passing UAR gate, with any field changed by keyword."""

from __future__ import annotations

from trustser.report.records import TrustRecord


def a_record(**changes) -> TrustRecord:
    fields = dict(
        pillar="utility",
        metric="utility.uar",
        label="UAR",
        backbone="mfcc",
        corpus="synthetic",
        value=0.7,
        threshold=0.6,
        bound="min",
        verdict="PASS",
        n=640,
        message="UAR 0.7 >= min 0.6",
        details={"per_fold": [0.7]},
    )
    return TrustRecord(**{**fields, **changes})
