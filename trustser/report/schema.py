"""The trust report's JSON Schema: the static layout (trust_report.schema.json) with its word lists
filled in from where they are declared: metrics from the metric declarations (so a team's own gate
validates too), pillars, verdicts and bounds from trustser.vocabulary, the run's statuses from
trustser.report.completion."""

from __future__ import annotations

import json
from importlib.resources import files

from trustser.gates.declaration import Metric
from trustser.pillars import declared_metrics
from trustser.report.completion import STATUSES
from trustser.vocabulary import PILLARS, VERDICTS, Bound


def report_schema(metrics: dict[str, Metric] | None = None) -> dict:
    """The schema a trust_report.json of these metrics (default: every declared one) must meet."""
    metrics = declared_metrics() if metrics is None else metrics
    schema = json.loads(files("trustser.report").joinpath("trust_report.schema.json").read_text())
    record = schema["properties"]["records"]["items"]["properties"]
    record["pillar"] = {"enum": list(PILLARS)}
    record["metric"] = {"enum": sorted(metrics), "description": record["metric"]["description"]}
    record["verdict"] = {"enum": [str(v) for v in VERDICTS]}
    record["bound"] = {"enum": [str(b) for b in Bound]}
    summary = schema["properties"]["summary"]  # the run's status and counts, then one count per verdict
    summary["properties"]["status"]["enum"] = list(STATUSES)
    summary["propertyNames"] = {"enum": [*summary["properties"], *(str(v) for v in VERDICTS)]}
    return schema
