"""pyproject.toml declares ranges, so the package can sit next to a team's own stack; constraints.txt
pins the exact versions this project is tested with, and every pin lies within its range."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"]]


def pinned() -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in (ROOT / "constraints.txt").read_text().splitlines()]
    pins = [line.split("==") for line in lines if line]
    return {canonicalize_name(name): version for name, version in pins}


def test_dependencies_are_ranges_not_pins():
    exact = [str(r) for r in declared() if any(spec.operator in ("==", "===") for spec in r.specifier)]
    assert not exact, exact


def test_every_dependency_is_pinned_in_constraints_within_its_range():
    pins = pinned()
    missing = [r.name for r in declared() if canonicalize_name(r.name) not in pins]
    assert not missing, f"add to constraints.txt: {missing}"
    outside = [
        f"{r} (pinned {pins[canonicalize_name(r.name)]})"
        for r in declared()
        if not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)
    ]
    assert not outside, outside


def test_torchattacks_is_not_declared_but_pinned_for_the_makefile():
    # its metadata would drag torchvision and requests~=2.25 into a team's environment (README, Dependencies)
    assert "torchattacks" not in {canonicalize_name(r.name) for r in declared()}
    assert "torchattacks" in pinned()
