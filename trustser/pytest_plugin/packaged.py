"""The trust suite and default gates that ship inside the package.

The wheel maps this repository's top-level `trust_tests/` to `trustser.trust_tests` and ships its
top-level `thresholds.toml` beside that directory (pyproject.toml), so in both layouts the default
gates are the `thresholds.toml` next to the suite's directory: `trustser/thresholds.toml` in an
installed wheel, the repository root in a checkout installed with `pip install -e .`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SUITE_PACKAGE = "trustser.trust_tests"
SUITE_DIR_NAME = "trust_tests"  # in this repository, and in a team's after `trustser init`
THRESHOLDS_NAME = "thresholds.toml"


def suite_dir() -> Path | None:
    """The packaged suite's directory; None where trustser runs from a source tree that was not installed
    (a bare PYTHONPATH knows nothing of the mapping)."""
    spec = importlib.util.find_spec(SUITE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def suite_files() -> list[Path]:
    """The packaged suite's modules: its `__init__.py` and one `test_<pillar>.py` per pillar."""
    directory = suite_dir()
    if directory is None:
        return []
    return sorted(
        path for path in directory.glob("*.py") if path.name == "__init__.py" or path.name.startswith("test_")
    )


def default_thresholds() -> Path | None:
    """The packaged default gates, or None where the package carries none."""
    directory = suite_dir()
    if directory is None:
        return None
    path = directory.parent / THRESHOLDS_NAME
    return path if path.is_file() else None


def in_packaged_suite(path: Path) -> bool:
    """Whether `path` (a collected test module) belongs to the packaged suite."""
    directory = suite_dir()
    return directory is not None and Path(path).resolve().is_relative_to(directory.resolve())
