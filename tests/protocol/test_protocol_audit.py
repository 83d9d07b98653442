"""The protocol pillar in an audit: in-process sessions on a small synthetic corpus (every speaker says
every sentence) with speaker-disjoint and sentence-disjoint folds, and one end-to-end run on a manifest
with a recording copied under another speaker's id, whose gate fails naming both ids in every report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr

from tests.protocol.conftest import SMALL
from tests.suite_runs import ROOT, report_records, run_suite
from trustser import audit
from trustser.errors import NotApplicable
from trustser.gates.thresholds import load_gates
from trustser.pillars import declared_metrics
from trustser.run.session import AuditSession, AuditSettings, ConfigurationError
from trustser.vocabulary import Verdict


def session(cache_root: Path, corpus: str = SMALL, **settings) -> AuditSession:
    options = AuditSettings(
        backbones=("mfcc",), corpus=corpus, report_dir=cache_root / "unused", cache_root=cache_root, folds=2, **settings
    )
    return AuditSession(options, progress=lambda line: None)


@pytest.fixture(scope="module")
def gates():
    return load_gates(ROOT / "thresholds.toml", declared_metrics())


def test_every_sentence_by_every_speaker_is_full_lexical_overlap_whose_effect_is_unmeasurable(cache_root, gates):
    run = session(cache_root).run("mfcc")
    overlap = audit.lexical_overlap(run)
    assert (overlap.value, overlap.n) == (1.0, 64)
    assert gates["protocol.lexical_overlap"].judge(overlap.value, "mfcc").verdict is Verdict.WARN
    with pytest.raises(NotApplicable, match="--folds-disjoint sentence tests on unheard sentences"):
        audit.seen_sentence_uar_gap(run)
    for metric in ("speaker_overlap", "duplicates_across_splits", "duplicates_within_split", "declared_training_data"):
        assert getattr(audit, metric)(run).value == 0, metric


def test_sentence_disjoint_folds_hear_no_test_sentence_and_measure_the_gap(cache_root):
    made = session(cache_root, folds_disjoint="sentence")
    assert "sentence-disjoint (4 sentences in 2 groups): 32 of 64 training utterances left out" in (
        made.corpus_summary.fold_scheme
    )
    run = made.run("mfcc")
    assert audit.lexical_overlap(run).value == 0.0
    gap = audit.seen_sentence_uar_gap(run)
    assert gap.group_size == 32 and gap.details.from_held_back == 32 and np.isfinite(gap.value)
    assert len(run.predictions.y_true) == 32  # each fold tests its own sentences only


def test_sentence_disjoint_folds_are_a_usage_error_on_a_corpus_without_sentences(tmp_path):
    pytest.importorskip("tests.planted.tones")  # registers the `tones` corpus, whose utterances say nothing
    with pytest.raises(ConfigurationError, match="--folds-disjoint sentence is not possible on this corpus: 64 of 64"):
        session(tmp_path, "tones:speakers=4,per_emotion=4", folds_disjoint="sentence").check()


def write_audio(path: Path, seed: int) -> None:
    """0.4 s of its own: noise bursts under a gliding tone, seeded."""
    rng = np.random.default_rng(seed)
    t = np.arange(6400) / 16000
    glide = np.sin(2 * np.pi * (rng.uniform(150, 400) + rng.uniform(-200, 200) * t) * t)
    bursts = np.repeat(rng.uniform(0, 1, 20), 320) * rng.standard_normal(6400)
    soundfile.write(path, (0.3 * glide + 0.1 * bursts).astype(np.float32), 16000, subtype="PCM_16")


def manifest_with_a_copy(directory: Path) -> tuple[Path, str, str]:
    """Four speakers, two sentences, two emotions; f2's angry "t2" row points at a copy of f1's angry "t1"
    (resampled to 44.1 kHz, 6 dB quieter, FLAC), and m2's two neutral rows at one file."""
    rows = []
    for number, (speaker, gender) in enumerate((("f1", "F"), ("m1", "M"), ("f2", "F"), ("m2", "M"))):
        for t, text in enumerate(("The door is open.", f"{speaker} has a line of their own.")):
            for emotion in ("neutral", "angry"):
                name = f"{speaker}_t{t + 1}_{emotion}"
                write_audio(directory / f"{name}.wav", 100 * number + 10 * t + len(emotion))
                rows.append(f"{name}.wav,{emotion},{speaker},{gender},{name},{text}")
    original, _ = soundfile.read(directory / "f1_t1_angry.wav", dtype="float32")
    soundfile.write(directory / "copy.flac", 0.5 * soxr.resample(original, 16000, 44100), 44100, format="FLAC")
    rows = [r.replace("f2_t2_angry.wav", "copy.flac").replace("m2_t2_neutral.wav", "m2_t1_neutral.wav") for r in rows]
    table = directory / "corpus.csv"
    table.write_text("path,emotion,speaker,gender,id,text\n" + "\n".join(rows) + "\n")
    return table, "f1_t1_angry", "f2_t2_angry"


def test_a_copied_recording_fails_its_gate_named_in_every_report_and_the_protocol_runs_first(tmp_path):
    table, original, copy = manifest_with_a_copy(tmp_path)
    report = tmp_path / "report"
    done = run_suite(
        ROOT / "trust_tests" / "test_utility.py",
        ROOT / "trust_tests" / "test_protocol.py",
        cwd=tmp_path,
        report=report,
        cache=tmp_path / "cache",
        options=("--corpus", f"manifest:{table}", "--backbone", "mfcc", "--folds", "2"),
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    records = {r["metric"]: r for r in report_records(report)}
    across = records["protocol.duplicates_across_splits"]
    assert (across["verdict"], across["value"]) == ("FAIL", 1.0), across
    assert original in across["message"] and copy in across["message"]
    assert {across["details"]["across"][0]["first"], across["details"]["across"][0]["second"]} == {original, copy}
    within = records["protocol.duplicates_within_split"]
    assert within["verdict"] == "WARN" and "m2_t1_neutral" in within["message"] and "m2_t2_neutral" in within["message"]
    assert records["protocol.lexical_overlap"]["value"] == 0.5  # "The door is open." is everyone's
    assert records["protocol.speaker_overlap"]["verdict"] == "PASS"
    assert records["protocol.declared_training_data"]["verdict"] == "PASS"
    assert records["protocol.seen_sentence_uar_gap"]["verdict"] == "WARN"  # 8 utterances a side: too few to judge

    protocol = {m for m in declared_metrics() if m.startswith("protocol.")}
    junit = ElementTree.parse(report / "junit.xml").getroot()
    cases = [{p.get("name"): p.get("value") for p in case.iter("property")} for case in junit.iter("testcase")]
    assert {c["metric"] for c in cases[: len(protocol)]} == protocol  # run first, though named after utility
    markdown, html = (report / "report.md").read_text(), (report / "report.html").read_text()
    for metric in protocol:
        label = declared_metrics()[metric].label
        assert label in markdown and label in html, label
    assert "| backbone | protocol | utility |" in markdown
    assert original in markdown and copy in markdown
    assert json.loads((report / "trust_report.json").read_text())["summary"]["FAIL"] >= 1
