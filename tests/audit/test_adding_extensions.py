"""Adding an encoder, a corpus or a finished-model format is one new file each. Done here in a temporary
copy of the project: each new module registers itself with what its contract test needs, so that the
copy's own contract tests discover and check it, a bad spec of it is the usual usage error, and an
audit with `--backbone`, `--corpus` and `--model` naming them is gated and reported. Nothing else of
the copy changes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.suite_runs import ROOT, report_records, run_suite

ENCODER = '''"""The first 13 MFCCs alone, without deltas: the compact classic baseline."""

from trustser.encoders.mfcc import MFCCEncoder
from trustser.encoders.registry import register


class MFCC13(MFCCEncoder):
    name = "mfcc13"
    num_layers = 1
    hidden_size = 13

    def forward(self, waveforms, lengths):
        layers, frame_lengths = super().forward(waveforms, lengths)
        return layers[:, :1].contiguous(), frame_lengths

    def config(self) -> dict:
        return {**super().config(), "layers": "mfcc only"}


@register("mfcc13", checked_as=["mfcc13"])
def create_mfcc13(argument):
    if argument is not None:
        raise ValueError(f"mfcc13 takes no argument, got {argument!r}")
    return MFCC13()
'''

CORPUS = '''"""ToneBank as it ships: `speakers.csv` (speaker, sex), `clips/<speaker>/<speaker>_<EMOTION>_<take>.wav`."""

import csv
import re
from pathlib import Path

from trustser.corpora.base import Dropped
from trustser.corpora.files import Candidate, gender, register_dataset
from trustser.corpora.samples import tone, write_csv

CODES = {"NE": "neutral", "HA": "happy", "SA": "sad", "AN": "angry", "SU": "surprise"}
NAME = re.compile(r"^(s\\d\\d)_([A-Z]{2})_(\\d)$")


def candidates(root: Path):
    with open(root / "speakers.csv", newline="") as handle:
        sexes = {row["speaker"]: row["sex"] for row in csv.DictReader(handle)}
    found, dropped = [], []
    for path in sorted((root / "clips").glob("*/*.wav")):
        match = NAME.match(path.stem)
        if match is None:
            dropped.append(Dropped(str(path), "unrecognised file name", "expected e.g. s01_HA_1.wav", bad=True))
            continue
        speaker, code, take = match.groups()
        found.append(Candidate(path, code, speaker, gender(sexes.get(speaker, "")), sentence=f"take{take}"))
    return found, dropped


def write_sample(root: Path) -> None:
    """Eight speakers, two takes of five emotions each (surprise outside the label set)."""
    speakers = [f"s{number:02d}" for number in range(1, 9)]
    write_csv(root / "speakers.csv", ["speaker", "sex"], [[s, "F" if i % 2 else "M"] for i, s in enumerate(speakers)])
    for speaker in speakers:
        for code, emotion in CODES.items():
            for take in (1, 2):
                tone(root / "clips" / speaker / f"{speaker}_{code}_{take}.wav", speaker, emotion)


register_dataset("tonebank", codes=CODES, candidates=candidates, folding="speaker", sample=write_sample)
'''

MODEL_FORMAT = '''"""`--model tinyser:<directory>`: a framed-waveform classifier in `config.json` and `weights.pt`."""

import json
from pathlib import Path

import torch
from torch import nn

from trustser.models.finished.formats import register_format
from trustser.models.finished.torch_model import as_finished_model
from trustser.specs.registrations import Example

WINDOW, HOP = 400, 160


class FramedClassifier(nn.Module):
    min_seconds = WINDOW / 16000

    def __init__(self, labels, sample_rate, width):
        super().__init__()
        self.labels, self.sample_rate = list(labels), sample_rate
        self.frame_layer = nn.Sequential(nn.Linear(WINDOW, width), nn.Tanh())
        self.classifier = nn.Linear(width, len(self.labels))

    def forward(self, waveforms, lengths):
        frames = self.frame_layer(waveforms.unfold(1, WINDOW, HOP))
        frame_lengths = (lengths - WINDOW) // HOP + 1
        valid = torch.arange(frames.shape[1], device=lengths.device)[None, :] < frame_lengths[:, None]
        return self.classifier((frames * valid[..., None]).sum(1) / frame_lengths[:, None])


def load(spec, emotions, label_overrides):
    directory = Path(spec.removeprefix("tinyser:")).expanduser()
    if not (directory / "config.json").is_file():
        raise FileNotFoundError(f"{spec}: no config.json in {directory}")
    config = json.loads((directory / "config.json").read_text())
    model = FramedClassifier(config["labels"], config["sample_rate"], config["width"])
    model.load_state_dict(torch.load(directory / "weights.pt", weights_only=True))
    return as_finished_model(model, spec, emotions, label_overrides)


def save_tiny_model(directory: Path) -> str:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = FramedClassifier(["neu", "hap", "sad", "ang"], 16000, 8)
    (directory / "config.json").write_text(json.dumps({"labels": model.labels, "sample_rate": 16000, "width": 8}))
    torch.save(model.state_dict(), directory / "weights.pt")
    return f"tinyser:{directory}"


register_format(
    "tinyser",
    load,
    usage="tinyser:<directory with config.json and weights.pt>",
    checked_as=[Example("tinyser:<tiny model>", save_tiny_model)],
)
'''

NEW_FILES = {
    "trustser/encoders/mfcc13.py": ENCODER,
    "trustser/corpora/tonebank.py": CORPUS,
    "trustser/models/finished/tinyser.py": MODEL_FORMAT,
}
CONTRACT_TESTS = (
    "tests/encoders/test_encoder_contract.py",
    "tests/corpora/test_corpus_contract.py",
    "tests/models/test_model_format_contract.py",
)

# in the copy, from the new registrations alone: the corpus's sample and the format's tiny model
BUILD_EXAMPLES = """import json, sys
from pathlib import Path
from trustser.corpora.registry import registered as corpora
from trustser.models.finished.formats import registered as formats
[corpus] = corpora()["tonebank"].checked_as
[model] = formats()["tinyser"].checked_as
print(json.dumps([corpus.build(Path(sys.argv[1])), model.build(Path(sys.argv[2]))]))
"""


def source_files(project: Path) -> dict[str, str]:
    """Every file of the copy but bytecode, with its content hash."""
    return {
        str(path.relative_to(project)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(project.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A copy of the project (with its contract tests) plus the three new modules, and its files before them."""
    copy = tmp_path_factory.mktemp("project")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("trustser", "trust_tests"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    for name in ("thresholds.toml", "pyproject.toml", *CONTRACT_TESTS):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, copy / name)
    before = source_files(copy)
    for name, text in NEW_FILES.items():
        (copy / name).write_text(text)
    return copy, before


@pytest.fixture(scope="module")
def examples(project, tmp_path_factory) -> tuple[str, str]:
    """The new corpus's and format's specs, built in the copy from their registrations."""
    copy, _ = project
    corpus, model = tmp_path_factory.mktemp("tonebank"), tmp_path_factory.mktemp("tinyser")
    done = subprocess.run(
        [sys.executable, "-c", BUILD_EXAMPLES, str(corpus), str(model)],
        cwd=copy,
        env=dict(os.environ, PYTHONPATH=str(copy), OMP_NUM_THREADS="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return tuple(json.loads(done.stdout))


def test_the_copys_contract_tests_discover_and_check_each_new_module(project, tmp_path):
    copy, _ = project
    junit = tmp_path / "contract.xml"
    done = run_suite(
        *CONTRACT_TESTS,
        cwd=copy,
        options=("-k", "mfcc13 or tonebank or tinyser or can_be_built", "--junitxml", str(junit)),
        pythonpath=(copy,),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    names = [case.get("name") for case in ElementTree.parse(junit).getroot().iter("testcase")]
    checked = {new: sum(new in name for name in names) for new in ("mfcc13", "tonebank", "tinyser")}
    # every rule of the encoder and corpus contracts, and every check of the format contract
    assert checked == {"mfcc13": 12, "tonebank": 12, "tinyser": 5}, names
    assert sum("can_be_built" in name for name in names) == 3


@pytest.mark.parametrize(
    "option, spec, message",
    [
        ("--backbone", "mfcc13:x", "mfcc13:x: mfcc13 takes no argument, got 'x'"),
        ("--corpus", "tonebank", "corpus tonebank needs a path: --corpus tonebank:/path/to/tonebank"),
        ("--model", "tinyser:/no/such/model", "tinyser:/no/such/model: no config.json in /no/such/model"),
        ("--model", "tflite:m", "tinyser:<directory with"),  # listed among the formats --model takes
    ],
)
def test_a_bad_spec_of_each_is_the_usual_usage_error(project, examples, tmp_path, option, spec, message):
    copy, _ = project
    corpus, _ = examples
    options = {"--backbone": "mfcc13", "--corpus": corpus, option: spec}
    done = run_suite(
        "trust_tests/test_utility.py",
        cwd=copy,
        report=tmp_path / "report",
        cache=tmp_path / "cache",
        options=(*(item for pair in options.items() for item in pair), "--thresholds", str(copy / "thresholds.toml")),
        pythonpath=(copy,),
        timeout=300,
    )
    assert done.returncode == int(pytest.ExitCode.USAGE_ERROR), done.stdout[-2000:] + done.stderr[-2000:]
    assert message in done.stdout + done.stderr


def test_an_audit_with_all_three_is_gated_and_reported(project, examples, tmp_path):
    copy, _ = project
    corpus, model = examples
    report = tmp_path / "report"
    done = run_suite(
        "trust_tests/test_utility.py",
        cwd=copy,
        report=report,
        cache=tmp_path / "cache",
        options=(
            "--backbone",
            "mfcc13",
            "--corpus",
            corpus,
            "--model",
            model,
            "--thresholds",
            str(copy / "thresholds.toml"),
        ),
        pythonpath=(copy,),
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]  # 1: a tiny model may fail a gate
    records = [r for r in report_records(report) if not r["metric"].startswith("utility.ccc_")]  # SKIP: task
    rows = {(record["backbone"], record["metric"]): record for record in records}
    assert set(rows) == {
        (backbone, metric)
        for backbone in ("mfcc13", f"model:{model}")
        for metric in ("utility.uar", "utility.accuracy", "utility.ece", "utility.brier")
    }
    assert all(record["verdict"] in ("PASS", "FAIL") and record["value"] is not None for record in records), records
    summary = json.loads((report / "corpus_summary.json").read_text())
    assert summary["utterances"] == 64  # eight speakers, two takes of the four emotions in the label set


def test_each_extension_was_one_new_file(project):
    copy, before = project
    after = source_files(copy)
    assert {name: digest for name, digest in after.items() if name in before} == before  # nothing else changed
    assert sorted(set(after) - set(before)) == sorted(NEW_FILES)
