"""The release gates and the trust tests they judge: where the thresholds come from, which tests are
trust tests, and the collection-time usage errors (a trust test without a gate, no thresholds file)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from trustser.gates.thresholds import Gates, ThresholdError, load_gates
from trustser.pillars import declared_metrics
from trustser.pytest_plugin import packaged
from trustser.pytest_plugin.settings import audit_options

GATES = pytest.StashKey[Gates]()
_GATES_CHECKED = pytest.StashKey[bool]()  # every collected trust test has its gate

AUDIT_FIXTURES = ("trust", "backbone_run", "transfer_run", "trust_session")


def thresholds_file(config: pytest.Config, trust_modules: Iterable[Path] = ()) -> Path | None:
    """Where the gates come from: `--thresholds`; else `thresholds.toml` in the rootdir; else, when every
    trust test collected is one of the packaged suite's (`pytest --pyargs trustser.trust_tests`), the
    packaged defaults. None when none applies.

    A team's own suite never falls back to the packaged defaults: gates it did not choose would be
    judged silently, so it gets the usage error that names the rootdir instead.
    """
    explicit = audit_options(config).thresholds
    if explicit:
        return Path(explicit)
    in_rootdir = config.rootpath / packaged.THRESHOLDS_NAME
    if in_rootdir.exists():
        return in_rootdir
    modules = set(trust_modules)
    if modules and all(map(packaged.in_packaged_suite, modules)):
        return packaged.default_thresholds()
    return None


def gates(config: pytest.Config, trust_modules: Iterable[Path] = ()) -> Gates | None:
    """The release gates, loaded and validated when first needed (a run without trust tests never
    reads them); None without a thresholds file (`thresholds_file`)."""
    if GATES not in config.stash:
        path = thresholds_file(config, trust_modules)
        if path is None:
            return None
        try:
            config.stash[GATES] = load_gates(path, declared_metrics())
        except ThresholdError as error:
            raise pytest.UsageError(str(error)) from None
    return config.stash[GATES]


def no_thresholds_file(config: pytest.Config) -> pytest.UsageError:
    return pytest.UsageError(
        f"no thresholds file: pass --thresholds, or add thresholds.toml to the rootdir {config.rootpath} "
        "(`trustser init` writes one)"
    )


def is_trust_test(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return item.get_closest_marker("trust") is not None and callspec is not None and "backbone" in callspec.params


def audits_a_backbone(metafunc: pytest.Metafunc) -> bool:
    """A test that takes `backbone` and is part of the audit: it is marked `trust` or asks for one of the
    audit's fixtures. A team's own test with a fixture of its own called `backbone` is left alone.
    (A `trust` mark given through `pytest.param` is not visible here, hence the fixtures.)"""
    if "backbone" not in metafunc.fixturenames:
        return False
    return metafunc.definition.get_closest_marker("trust") is not None or any(
        name in metafunc.fixturenames for name in AUDIT_FIXTURES
    )


def check_every_trust_test_has_a_gate(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A trust test whose metric the thresholds file lacks stops the run at collection, naming both."""
    trust_modules = {item.path for item in items if item.get_closest_marker("trust")}
    if trust_modules:
        found = gates(config, trust_modules)
        if found is None:
            raise no_thresholds_file(config)
        for item in items:
            marker = item.get_closest_marker("trust")
            if marker is None:
                continue
            if not marker.args:
                raise pytest.UsageError(f"{item.nodeid}: a trust test needs @pytest.mark.trust('<pillar.metric>')")
            if marker.args[0] not in found:
                raise pytest.UsageError(
                    f"{item.nodeid}: no gate [{marker.args[0]}] in {found.source}; add it to the thresholds file"
                )
    config.stash[_GATES_CHECKED] = True


def protocol_first(items: list[pytest.Item]) -> None:
    """Reorder `items` in place so the protocol pillar's trust tests run first (in their order), every
    other test after them in its own: the protocol is what every other gate stands on, so a leaking split
    is the first verdict a run (or `-x`) gives."""
    items.sort(key=lambda item: not _in_protocol_pillar(item))


def _in_protocol_pillar(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("trust")
    return marker is not None and bool(marker.args) and str(marker.args[0]).startswith("protocol.")


def gates_were_checked(config: pytest.Config) -> bool:
    """Whether collection got as far as checking the gates (pytest calls later hooks even when it stopped)."""
    return config.stash.get(_GATES_CHECKED, False)
