"""A previous trust report as a baseline: each metric's earlier value, to gate regressions against.

`--trust-baseline previous/trust_report.json` makes every trust test also compare its value with the
same (metric, backbone, corpus) in that report; the tolerance is the gate's `regression_abs` /
`regression_rel` in thresholds.toml (thresholds.Gate.judge_regression).
"""

from __future__ import annotations

import json
from pathlib import Path

from trustser.report.records import SCHEMA_VERSION

BaselineKey = tuple[str, str, str]  # metric, backbone, corpus


class BaselineError(ValueError):
    """The baseline report cannot be used; the message names the file."""


def load_baseline(path: Path | str) -> dict[BaselineKey, float]:
    """Measured values of a trust_report.json (records without a value, i.e. SKIP, are left out)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline report not found") from None
    except json.JSONDecodeError as error:
        raise BaselineError(f"{path}: not a JSON trust report: {error}") from None
    if not isinstance(document, dict) or document.get("schema_version") != SCHEMA_VERSION:
        found = document.get("schema_version") if isinstance(document, dict) else None
        raise BaselineError(f"{path}: expected a trust report with schema_version {SCHEMA_VERSION!r}, got {found!r}")
    values: dict[BaselineKey, float] = {}
    for index, record in enumerate(document.get("records", [])):
        try:
            key = (record["metric"], record["backbone"], record["corpus"])
            value = record["value"]
        except (KeyError, TypeError):
            raise BaselineError(f"{path}: records[{index}] lacks metric, backbone, corpus or value") from None
        if value is not None:
            values[key] = float(value)
    return values
