"""The wheel, installed outside this repository, audits a team's repository (issue 15): `trustser init`,
then `pytest trust_tests --model torch:team_model:build ...` on the team's own PyTorch model (the
team_model.py of docs/plugins.md); the team's own tests run alike with and without the plugin; the packaged
suite runs with `pytest --pyargs trustser.trust_tests`.

The fresh virtual environment does not download trustser's dependencies (gigabytes): it sees those
this interpreter already has through a folder of links, one per installed package, named in a .pth
file. The links leave out trustser itself, so only the wheel can be imported, and
torchattacks, which a plain `pip install trustser` does not bring (pyproject.toml), so the attacks
must be SKIPs that name the install command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.doc_examples import write_python_file
from trustser.vocabulary import PILLARS

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ("--corpus", "synthetic:speakers=4,sentences=4")
AUDIT = ("--backbone", "mfcc", *CORPUS, "--folds", "2", "--head-max-epochs", "3")
TEAM_MODEL = ("--model", "torch:team_model:build", *CORPUS)  # as docs/plugins.md runs it
NOT_A_PLAIN_INSTALL = ("trustser", "__editable__", "torchattacks")  # prefixes of what the links leave out
TEAM_TEST = "def test_the_teams_own_code():\n    assert sum([1, 2]) == 3\n"


def build_wheel(directory: Path) -> Path:
    """From a copy of what the wheel is made of, so the build leaves nothing in this repository."""
    source = directory / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("trustser", "trust_tests"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "thresholds.toml"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(directory / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = (directory / "dist").glob("trustser-*.whl")
    return wheel


def installed_dependencies(venv: Path) -> Path:
    """Links to every package of this interpreter's site-packages folders, but trustser and torchattacks."""
    links = venv / "dependencies"
    links.mkdir()
    folders = [
        Path(entry)
        for entry in sys.path
        if Path(entry).name in ("site-packages", "dist-packages") and Path(entry).is_dir()
    ]
    for folder in folders:
        for entry in folder.iterdir():
            if entry.name.startswith(NOT_A_PLAIN_INSTALL) or entry.suffix == ".pth" or (links / entry.name).exists():
                continue
            (links / entry.name).symlink_to(entry)
    return links


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def team_venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment (no system site-packages) with the wheel installed."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "dependencies.pth").write_text(f"{installed_dependencies(venv)}\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env=outside_this_checkout(),
    )
    return venv


def outside_this_checkout() -> dict[str, str]:
    """This environment without PYTHONPATH, which may point at this checkout (and its trustser.egg-info,
    which pip would take for an installed trustser)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


def in_venv(venv: Path, *command: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv / "bin" / command[0]), *command[1:]],
        cwd=cwd,
        env=outside_this_checkout(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_wheel_carries_the_suite_the_gates_and_the_entry_points(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    modules = {
        f"trustser/{path.relative_to(ROOT / 'trustser').as_posix()}" for path in (ROOT / "trustser").rglob("*.py")
    }
    assert modules <= names, sorted(modules - names)  # every package of trustser/ is listed in pyproject.toml
    assert {f"trustser/trust_tests/test_{pillar}.py" for pillar in PILLARS} <= names
    assert "trustser/thresholds.toml" in names and "trustser/trust_tests/__init__.py" in names
    assert not any(name.startswith(("trust_tests/", "tests/")) for name in names)
    assert (
        "[pytest11]\ntrustser = trustser.pytest_plugin.hooks" in entry_points
        and "trustser = trustser.cli:main" in entry_points
    )
    requirements = [
        line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert requirements and not [line for line in requirements if "==" in line]  # exact pins live in constraints.txt


def test_a_team_repository_audits_its_model_with_the_installed_package(team_venv, tmp_path):
    team = tmp_path / "team"
    (team / "tests").mkdir(parents=True)
    (team / "tests" / "test_team.py").write_text(TEAM_TEST)
    write_python_file(team, "team_model.py")
    where = in_venv(team_venv, "python", "-c", "import trustser; print(trustser.__file__)", cwd=team)
    assert Path(where.stdout.strip()).is_relative_to(team_venv), (
        where.stdout + where.stderr
    )  # the wheel, not this checkout

    init = in_venv(team_venv, "trustser", "init", cwd=team)
    assert init.returncode == 0 and init.stdout.count("written") == len(PILLARS) + 2, init.stdout + init.stderr

    report = team / "trust-report"
    audit = in_venv(
        team_venv,
        "python",
        "-m",
        "pytest",
        "trust_tests",
        *TEAM_MODEL,
        "--trust-cache",
        str(tmp_path / "cache"),
        "-p",
        "no:cacheprovider",
        "--junitxml",
        str(report / "junit.xml"),
        cwd=team,
    )
    output = audit.stdout[-3000:] + audit.stderr[-3000:]
    records = json.loads((report / "trust_report.json").read_text())["records"]
    verdicts = {record["verdict"] for record in records}
    assert audit.returncode in (0, 1) and (audit.returncode == 1) == ("FAIL" in verdicts), output
    assert "ERROR" not in verdicts, [r["message"] for r in records if r["verdict"] == "ERROR"]
    assert {r["pillar"] for r in records if r["verdict"] in ("PASS", "WARN", "FAIL")} == set(PILLARS)
    assert {r["backbone"] for r in records} == {"model:torch:team_model:build"}
    [memory] = [r for r in records if r["metric"] == "sustainability.peak_memory_mb"]
    assert memory["verdict"] == "PASS" and memory["value"] > 100, memory  # the fresh interpreter imported team_model
    assert 'name="pillar"' in (report / "junit.xml").read_text()
    attacks = [r for r in records if r["metric"] in ("safety.fgsm_success_rate", "safety.pgd_success_rate")]
    assert len(attacks) == 2 and all(r["verdict"] == "SKIP" for r in attacks)
    assert all("pip install 'torchattacks>=3.5' --no-deps" in r["message"] for r in attacks)

    for disabled in ((), ("-p", "no:trustser")):
        own = in_venv(team_venv, "python", "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", *disabled, cwd=team)
        assert own.returncode == 0 and "1 passed" in own.stdout, own.stdout + own.stderr

    elsewhere = tmp_path / "elsewhere"  # no thresholds.toml: the packaged suite takes the packaged defaults
    elsewhere.mkdir()
    packaged = in_venv(
        team_venv,
        "python",
        "-m",
        "pytest",
        "--pyargs",
        "trustser.trust_tests",
        "-k",
        "test_parameters",
        *AUDIT,
        "--trust-cache",
        str(tmp_path / "cache"),
        "-p",
        "no:cacheprovider",
        cwd=elsewhere,
    )
    assert packaged.returncode == 0, packaged.stdout[-3000:] + packaged.stderr[-3000:]
    [record] = json.loads((elsewhere / "trust-report" / "trust_report.json").read_text())["records"]
    assert (record["metric"], record["verdict"]) == ("sustainability.parameters", "PASS")
