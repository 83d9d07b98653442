"""The five pillars: one package each, holding its evaluators (measurement only, no verdicts) and,
in `checks.py`, its metric declarations beside the functions that measure them from a run.

May import: cache, compute, corpora, encoders, features, gates, models, run, specs
"""

from __future__ import annotations

import importlib

from trustser.gates.declaration import Metric, registered_metrics
from trustser.vocabulary import PILLARS


def declared_metrics() -> dict[str, Metric]:
    """Every declared metric by name: the built-in ones (each pillar's `checks` module is imported),
    and those of any plugin module already imported."""
    for pillar in PILLARS:
        importlib.import_module(f"{__name__}.{pillar}.checks")
    return registered_metrics()
