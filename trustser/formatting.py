"""How the audit writes values: numbers in messages and reports, specs and ids in file names, and
results as JSON-safe details (the report's `details`, the stored results of slow evaluations)."""

from __future__ import annotations

import dataclasses
import math
import re


def format_number(value: float | None) -> str:
    """A metric value or threshold as messages and reports write it: 4 significant digits, large
    integers in full with `_` separators (100_000_000 parameters), "n/a" for a value not measured."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return str(value)
    if value == int(value) and abs(value) >= 1000:
        return f"{int(value):,}".replace(",", "_")
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:.1f}"


def safe_name(text: str) -> str:
    """A file-name-safe rendering of a spec or an id: no separators, no `..`, never empty."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.") or "unnamed"


def plain_details(result: object) -> dict:
    """A result dataclass as JSON-safe scalars and small containers; arrays (e.g. audio) are dropped."""
    if result is None:
        return {}
    raw = dataclasses.asdict(result) if dataclasses.is_dataclass(result) else dict(result)
    return {key: value for key, value in ((k, _plain(v)) for k, v in raw.items()) if value is not _DROP}


_DROP = object()


def _plain(value: object) -> object:
    import numpy as np  # here, not at the top: the pytest plugin formats numbers and must stay light

    if isinstance(value, np.ndarray):
        return _DROP
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, dict):
        kept = {str(k): _plain(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not _DROP}
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return _DROP if any(v is _DROP for v in items) else items
    return str(value)
