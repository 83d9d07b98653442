"""The trust report's JSON Schema: the static layout (trust_report.schema.json) with the pillar and
metric lists filled in from the metric declarations, so a team's own declared gate validates too."""

from __future__ import annotations

import json
from importlib.resources import files

from trustser.metric import Metric, declared_metrics
from trustser.vocabulary import PILLARS


def report_schema(metrics: dict[str, Metric] | None = None) -> dict:
    """The schema a trust_report.json of these metrics (default: every declared one) must meet."""
    metrics = declared_metrics() if metrics is None else metrics
    schema = json.loads(files("trustser.report").joinpath("trust_report.schema.json").read_text())
    record = schema["properties"]["records"]["items"]["properties"]
    record["pillar"] = {"enum": list(PILLARS)}
    record["metric"] = {"enum": sorted(metrics), "description": record["metric"]["description"]}
    return schema
