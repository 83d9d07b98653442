"""Imports go down the pipeline only: each package's docstring names, on its `May import:` line, the
packages it may import, and this test holds every import of the code (function bodies included,
annotation-only imports under TYPE_CHECKING excepted) against those lines. The lines themselves must
form no cycle, so "lower" and "upper" are well defined (trustser/__init__.py draws the layers)."""

from __future__ import annotations

import ast
import re

import pytest

from tests.core.test_import_graph import PACKAGE, cycles, import_graph

BASE_MODULES = ("trustser.errors", "trustser.vocabulary", "trustser.formatting")  # importable from anywhere
TOP_MODULES = ("trustser.cli",)  # above every package: may import anything


def packages() -> list[str]:
    return sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))


def allowed_imports() -> dict[str, set[str]]:
    """Package -> the packages its docstring's `May import:` line names ("nothing" for none)."""
    allowed = {}
    for package in packages():
        docstring = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text())) or ""
        line = re.search(r"^May import: (.+)$", docstring, re.MULTILINE)
        assert line, f"trustser/{package}/__init__.py: the docstring needs a 'May import: a, b' line (or 'nothing')"
        names = {name.strip() for name in line.group(1).split(",")} - {"nothing"}
        unknown = names - set(packages())
        assert not unknown, f"trustser/{package}: 'May import:' names no such package: {sorted(unknown)}"
        allowed[package] = names
    return allowed


def package_of(module: str) -> str | None:
    """`trustser.features.store` -> `features`; None for the modules at the top."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in packages()) else None


def violations(graph: dict[str, set[str]], allowed: dict[str, set[str]]) -> list[str]:
    """Every import that its module's package may not make, as 'importer -> imported'."""
    found = []
    for importer, targets in sorted(graph.items()):
        for target in sorted(targets):
            if target in BASE_MODULES or target == "trustser" or importer in TOP_MODULES:
                continue
            source, destination = package_of(importer), package_of(target)
            if importer in BASE_MODULES or source is None:
                found.append(f"{importer} -> {target} (a top-level module imports no package)")
            elif destination is None:
                found.append(f"{importer} -> {target} (only {', '.join(BASE_MODULES)} are importable from the top)")
            elif destination != source and destination not in allowed[source]:
                found.append(f"{importer} -> {target} (trustser/{source} may import: {sorted(allowed[source])})")
    return found


def test_every_package_says_what_it_may_import_and_the_layers_form_no_cycle():
    allowed = allowed_imports()
    assert len(allowed) >= 10  # the walk found the packages
    assert cycles(allowed) == [], "the 'May import:' lines form a cycle: no package can be the lower one"


def test_no_module_imports_a_package_it_may_not():
    assert violations(import_graph(), allowed_imports()) == []


def test_the_checker_finds_an_upward_import_and_a_top_level_one():
    allowed = {"corpora": {"cache"}, "cache": set(), "report": {"corpora"}}
    graph = {
        "trustser.corpora.files": {"trustser.cache.store", "trustser.report.writers", "trustser.errors"},
        "trustser.vocabulary": {"trustser.corpora.base"},
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(f"{__name__}.packages", lambda: sorted(allowed))
        found = violations(graph, allowed)
    assert found == [
        "trustser.corpora.files -> trustser.report.writers (trustser/corpora may import: ['cache'])",
        "trustser.vocabulary -> trustser.corpora.base (a top-level module imports no package)",
    ]
    assert cycles({"corpora": {"report"}, "report": {"corpora"}}) == [["corpora", "report"]]
