"""The six pillars: one package each, holding its evaluators (measurement only, no verdicts) and,
in `checks.py`, its metric declarations beside the functions that measure them from a run.

May import: cache, compute, corpora, encoders, features, gates, models, run, specs
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from trustser.gates.declaration import Metric, registered_metrics
from trustser.vocabulary import PILLARS


def declared_metrics() -> dict[str, Metric]:
    """Every declared metric by name: the built-in ones (every module of each pillar's package is
    imported, so a metric declared in any of them, `checks.py` or one beside it, is known), and those
    of any plugin module already imported."""
    for pillar in PILLARS:
        package = Path(__file__).parent / pillar
        for module in pkgutil.iter_modules([str(package)]):  # the package's modules, not importing it first
            if not module.name.startswith("_"):
                importlib.import_module(f"{__name__}.{pillar}.{module.name}")
    return registered_metrics()
