"""Adding a metric touches three places: a module of its pillar (`trustser/pillars/<pillar>/`) with its
declaration and the function that measures it, thresholds.toml and one trust test. Done here in a
temporary copy of the project, the new gate is validated, gated, reported in every format and
documented like a built-in one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.suite_runs import ROOT, run_suite

CORPUS = "synthetic:speakers=4,sentences=2"  # 32 utterances, a quarter of them angry

EVALUATOR = '''"""A toy metric: the share of the corpus's utterances that are angry (scaled)."""

from dataclasses import dataclass

from trustser.gates.declaration import declare_metric, positive, setting
from trustser.gates.measurement import Measurement


@dataclass(frozen=True)
class AngryShareSettings:
    scale: float = setting(1.0, rule=positive)


ANGRY_SHARE = declare_metric(
    "utility.angry_share", label="angry share", bound="max", default=0.5,
    definition="The share of the corpus's utterances labelled angry, times `scale`.",
    settings=AngryShareSettings(),
)


def angry_share(run, settings: AngryShareSettings) -> Measurement:
    emotions = [utterance.emotion for utterance in run.corpus.utterances]
    return Measurement(settings.scale * emotions.count("angry") / len(emotions), n=len(emotions))
'''

TRUST_TEST = """import pytest

from trustser.pillars.utility.angry_share import angry_share


@pytest.mark.trust("utility.angry_share")
def test_angry_share(backbone_run, trust):
    trust.check(angry_share(backbone_run, trust.settings))
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with the toy metric added in exactly three places."""
    copy = tmp_path_factory.mktemp("project")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("trustser", "trust_tests"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    for name in ("thresholds.toml", "pyproject.toml"):
        shutil.copy(ROOT / name, copy / name)
    (copy / "trustser" / "pillars" / "utility" / "angry_share.py").write_text(EVALUATOR)
    (copy / "trust_tests" / "test_angry_share.py").write_text(TRUST_TEST)
    with open(copy / "thresholds.toml", "a") as thresholds:
        thresholds.write("\n[utility.angry_share]\nmax = 0.5\nscale = 1.0\n")
    return copy


def run_in(project: Path, *arguments: str, gate: str | None = None) -> tuple[subprocess.CompletedProcess, Path]:
    thresholds = project / "thresholds.toml"
    if gate is not None:
        thresholds = project / "edited.toml"
        thresholds.write_text((project / "thresholds.toml").read_text().replace("max = 0.5\nscale = 1.0", gate))
    report = project / f"report-{len(list(project.glob('report-*')))}"
    done = run_suite(
        "trust_tests/test_angry_share.py",
        cwd=project,
        report=report,
        cache=project / "cache",
        options=("--backbone", "mfcc", "--corpus", CORPUS, "--thresholds", str(thresholds), *arguments),
        pythonpath=(project,),
        timeout=300,
    )
    return done, report


def test_the_new_gate_passes_and_appears_in_every_report_format(project):
    done, report = run_in(project)
    assert done.returncode == 0, done.stdout + done.stderr
    [record] = json.loads((report / "trust_report.json").read_text())["records"]
    assert (record["metric"], record["label"], record["value"], record["verdict"]) == (
        "utility.angry_share",
        "angry share",
        0.25,
        "PASS",
    )
    assert "angry share" in (report / "report.md").read_text()
    assert "angry share" in (report / "report.html").read_text()
    assert 'name="metric" value="utility.angry_share"' in (report / "junit.xml").read_text()
    schema = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from trustser.report.schema import report_schema; print(json.dumps(report_schema()))",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, PYTHONPATH=str(project)),
    )
    jsonschema.validate(json.loads((report / "trust_report.json").read_text()), json.loads(schema.stdout))


def test_the_new_gate_fails_when_its_bound_is_planted_below_the_value(project):
    done, report = run_in(project, gate="max = 0.2\nscale = 1.0")
    assert done.returncode == 1, done.stdout + done.stderr
    [record] = json.loads((report / "trust_report.json").read_text())["records"]
    assert record["verdict"] == "FAIL" and "angry share 0.25 > max 0.2" in record["message"]


@pytest.mark.parametrize(
    "gate, named",
    [
        ("max = 0.5\nscale = -1.0", "'utility.angry_share.scale' must be a finite number > 0"),
        ("max = 0.5\nscale = 'big'", "'utility.angry_share.scale' must be float"),
        ("max = 0.5\nloudness = 1.0", "unknown key 'utility.angry_share.loudness'"),
        ("min = 0.5", "'utility.angry_share' takes 'max', not 'min'"),
    ],
)
def test_the_new_gates_settings_are_validated_from_its_declaration(project, gate, named):
    done, _ = run_in(project, gate=gate)
    assert done.returncode == int(pytest.ExitCode.USAGE_ERROR), done.stdout + done.stderr
    assert named in done.stdout + done.stderr


def test_the_new_metric_is_documented(project):
    done = subprocess.run(
        [sys.executable, "-m", "trustser.report.metrics_doc", str(project / "metrics.md")],
        cwd=project,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(project)),
    )
    assert done.returncode == 0, done.stderr
    assert "### angry share\n\n`utility.angry_share`, gate `max = 0.5`" in (project / "metrics.md").read_text()


def test_the_committed_metrics_doc_is_the_one_the_declarations_render():
    from trustser.report.metrics_doc import render_metrics_doc

    assert (ROOT / "docs" / "metrics.md").read_text() == render_metrics_doc(), "run `make docs`"


def test_the_metrics_doc_does_not_depend_on_which_modules_were_imported_first():
    """A process that imported a pillar's other modules before its checks (an xdist worker after other
    tests) renders the same document: the order is the declarations', not the imports'."""
    import subprocess
    import sys

    code = (
        "import importlib, pathlib\n"
        "for m in ['trustser.pillars.safety.dimensional', 'trustser.pillars.utility.dimensional',"
        " 'trustser.pillars.utility.parity', 'trustser.pillars.utility.calibration']:\n"
        "    importlib.import_module(m)\n"
        "from trustser.report.metrics_doc import render_metrics_doc\n"
        "print(pathlib.Path('docs/metrics.md').read_text() == render_metrics_doc())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True", done.stdout + done.stderr
