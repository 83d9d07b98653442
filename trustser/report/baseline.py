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


def normalised_corpus(spec: str) -> str:
    """A corpus spec with its `key=value` options in sorted order, so that
    `synthetic:sentences=4,speakers=4` and `synthetic:speakers=4,sentences=4` name the same corpus."""
    name, colon, argument = str(spec).partition(":")
    if not colon:
        return name
    parts = argument.split(",")
    options = sorted(part for part in parts if "=" in part)
    return f"{name}:{','.join([*(part for part in parts if '=' not in part), *options])}"


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
    records = document.get("records", [])
    if not isinstance(records, list):
        raise BaselineError(f"{path}: 'records' must be a list")
    for index, record in enumerate(records):
        try:
            key = (record["metric"], record["backbone"], record["corpus"])
            value = record["value"]
        except (KeyError, TypeError):
            raise BaselineError(f"{path}: records[{index}] lacks metric, backbone, corpus or value") from None
        if not all(isinstance(part, str) for part in key):
            raise BaselineError(f"{path}: records[{index}]: metric, backbone and corpus must be strings")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BaselineError(f"{path}: records[{index}].value must be a number or null, got {value!r}")
        values[(key[0], key[1], normalised_corpus(key[2]))] = float(value)
    return values


def unmatched(baseline: dict[BaselineKey, float], backbones: list[str], corpus: str) -> list[str]:
    """The audited backbones for which the baseline holds no record on `corpus` (each would go ungated)."""
    covered = {backbone for _, backbone, recorded in baseline if recorded == normalised_corpus(corpus)}
    return [backbone for backbone in backbones if backbone not in covered]
