"""A team's encoder and corpus, declared as entry points by an installed distribution, go through all six
pillars (docs/plugins.md, "Your own encoder"): the docs' my_plugin.py and the entry points of its
pyproject.toml, as `pip install` would leave them (a dist-info folder), in a folder that only the team's
pytest.ini (`pythonpath`) puts on sys.path. So the fresh interpreter that measures peak memory finds the
encoder only because it is given the audit's sys.path. Beside it, a plain nn.Module encoder named by
`--backbone torch:package.module:factory` goes through the same pillars."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.doc_examples import code_blocks, write_python_file
from tests.plugin_distribution import write_distribution
from trustser.vocabulary import PILLARS

ROOT = Path(__file__).resolve().parents[2]
MEASURED = ("PASS", "WARN", "FAIL")
BACKBONES = ("frame_projection", "torch:tests.encoders.plain_encoder:build")


def declared_entry_points() -> dict[str, dict[str, str]]:
    [pyproject] = code_blocks("toml")
    return tomllib.loads(pyproject)["project"]["entry-points"]


def test_entry_point_encoder_and_corpus_are_audited_in_every_pillar(tmp_path):
    team, plugins = tmp_path / "team", tmp_path / "team" / "plugins"
    plugins.mkdir(parents=True)
    write_python_file(plugins, "my_plugin.py")
    points = declared_entry_points()
    assert points == {
        "trustser.encoders": {"frame_projection": "my_plugin:FrameProjection"},
        "trustser.corpora": {"team_tones": "my_plugin:ToneCorpus"},
    }
    write_distribution(plugins, "team_plugin", points)
    (team / "pytest.ini").write_text("[pytest]\npythonpath = plugins\njunit_family = xunit1\n")
    shutil.copytree(ROOT / "trust_tests", team / "trust_tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "thresholds.toml", team / "thresholds.toml")
    report, junit = team / "trust-report", team / "junit.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "trust_tests", "-p", "no:cacheprovider", "-q"]
        + ["--backbone", ",".join(BACKBONES), "--corpus", "team_tones", "--folds", "2", "--head-max-epochs", "3"]
        + ["--trust-cache", str(tmp_path / "cache"), "--junitxml", str(junit)],
        cwd=team,
        env=dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1"),  # trustser from this checkout, no plugin
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout[-3000:] + done.stderr[-3000:]
    records = json.loads((report / "trust_report.json").read_text())["records"]
    verdicts = {record["verdict"] for record in records}
    assert done.returncode in (0, 1) and (done.returncode == 1) == ("FAIL" in verdicts), output
    assert "ERROR" not in verdicts, [r["message"] for r in records if r["verdict"] == "ERROR"]
    assert {r["corpus"] for r in records} == {"team_tones"}
    for backbone in BACKBONES:
        measured = [r for r in records if r["backbone"] == backbone and r["verdict"] in MEASURED]
        assert {r["pillar"] for r in measured} == set(PILLARS), backbone
        [memory] = [r for r in measured if r["metric"] == "sustainability.peak_memory_mb"]
        assert memory["verdict"] == "PASS" and memory["value"] > 100, memory  # a whole interpreter with torch
    assert ET.parse(junit).getroot().find("testsuite").get("errors") == "0"
