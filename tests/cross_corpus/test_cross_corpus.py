"""Cross-corpus transfer (`--test-corpus`): label sets reconciled, the transfer gate, and one audit as users
run it where heads trained on a tone corpus transfer to one of other voices (clean control) and fail on one
that renders its emotions otherwise (planted flaw), in JUnit, trust_report.json, report.md and report.html.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections import Counter

import jsonschema
import pytest

from tests.doc_examples import write_python_file
from tests.suite_runs import ROOT, report_records, run_suite
from trustser.corpora.base import EMOTIONS, Corpus, Utterance
from trustser.corpora.reconcile import LabelSetError, reconcile
from trustser.corpora.synthetic import corpus_plan
from trustser.gates.thresholds import load_gates
from trustser.pillars import declared_metrics
from trustser.pillars.utility.recognition import evaluate_utility
from trustser.pillars.utility.transfer import evaluate_transfer
from trustser.report.schema import report_schema
from trustser.run import session as session_module
from trustser.run.session import AuditSession, AuditSettings, ConfigurationError

TRAIN = "tones:speakers=4,per_emotion=6"
OTHER_VOICES = "tones:speakers=4,per_emotion=6,seed=1"  # other carriers and phases, emotions rendered alike
OTHER_RENDERING = "tones:speakers=4,per_emotion=6,emotion_shift=1"  # each emotion sounds like the next one
FAIRNESS = (
    "fairness.statistical_parity_gender",
    "fairness.equality_of_opportunity_gender",
    "fairness.uar_difference_gender",
    "fairness.statistical_parity_speaker",
    "fairness.equality_of_opportunity_speaker",
    "fairness.worst_speaker_uar",
)


class LabelledCorpus(Corpus):
    """Utterances with the given emotions (two speakers each), no audio: for the label sets alone."""

    name = "labelled"

    def __init__(self, emotions: tuple[str, ...], per_emotion: int = 2):
        self.emotions = emotions
        super().__init__(
            [
                Utterance(f"{speaker}_{emotion}_{take}", speaker, gender, emotion)
                for speaker, gender in (("a", "female"), ("b", "male"))
                for emotion in emotions
                for take in range(per_emotion)
            ]
        )

    def audio_fingerprint(self) -> str:
        return "none"


def test_the_shared_emotions_are_kept_in_the_training_order_and_the_others_counted():
    test = LabelledCorpus(("sad", "frustrated", "neutral", "happy"))
    reconciled = reconcile(EMOTIONS, test, train_spec="a", test_spec="b")
    assert reconciled.shared == ("neutral", "happy", "sad")
    assert reconciled.columns == (0, 1, 2)  # the heads' class of each shared emotion
    assert reconciled.corpus.emotions == ("neutral", "happy", "sad")
    assert list(reconciled.corpus.labels()) == [2, 2, 0, 0, 1, 1] * 2
    assert reconciled.left_out == (("frustrated", 4),) and reconciled.n_left_out == 4
    assert {d.item for d in reconciled.corpus.dropped} == {f"{s}_frustrated_{t}" for s in "ab" for t in range(2)}
    assert reconciled.corpus.fingerprint() != test.fingerprint()  # its features are cached apart
    assert len(test) == 16  # the corpus given is left as it was


def test_fewer_than_two_shared_emotions_are_refused_naming_both_label_sets():
    with pytest.raises(LabelSetError) as refused:
        reconcile(EMOTIONS, LabelledCorpus(("calm", "fear", "happy")), train_spec="tones", test_spec="other")
    message = str(refused.value)
    assert "--corpus tones has emotions neutral, happy, sad, angry" in message
    assert "--test-corpus other has calm, fear, happy" in message and "1 shared (happy)" in message


def test_the_session_refuses_such_a_test_corpus_before_any_test(tmp_path, monkeypatch):
    corpora = {"train": LabelledCorpus(EMOTIONS), "other": LabelledCorpus(("calm", "fear"))}
    monkeypatch.setattr(session_module, "create_corpus", lambda spec, *args: corpora[spec])
    monkeypatch.setattr(AuditSession, "corpus_summary", None)  # these corpora have no audio to summarise
    settings = AuditSettings(
        backbones=("mfcc",), corpus="train", report_dir=tmp_path, cache_root=tmp_path, test_corpora=("other",)
    )
    with pytest.raises(ConfigurationError, match=r"--test-corpus other has calm, fear: 0 shared \(none\)"):
        AuditSession(settings, progress=lambda line: None).check()


def test_synthetic_voice_and_emotion_shifts_change_only_the_voices_or_the_rendering():
    plain = corpus_plan(4, 2, 0)
    assert plain == corpus_plan(4, 2, 0, voice_shift=0, emotion_shift=0)  # the default corpus is unchanged
    voices = corpus_plan(4, 2, 0, voice_shift=2)
    assert [s.voice for s in plain][:1] == ["en+f1"] and [s.voice for s in voices][:1] == ["en+f3"]
    assert [s.prosody for s in voices] == [s.prosody for s in plain]
    shifted = corpus_plan(4, 2, 0, emotion_shift=1)
    # the same draws, each emotion moved to the next one's mean: neutral (rate 165) is spoken at happy's 180
    changes = {(s.utterance.emotion, t.prosody.rate - s.prosody.rate) for s, t in zip(plain, shifted)}
    assert changes == {("neutral", 15), ("happy", -45), ("sad", 70), ("angry", -40)}
    assert [s.utterance for s in shifted] == [s.utterance for s in plain] and [s.voice for s in shifted] == [
        s.voice for s in plain
    ]


def test_the_drop_is_the_in_corpus_uar_minus_the_cross_corpus_uar_and_the_gate_bounds_it():
    folds = [0] * 4 + [1] * 4
    labels = [0, 1, 0, 1] * 2
    in_corpus = evaluate_utility(*map(_array, (labels, labels, folds)), num_classes=2)  # UAR 1
    cross = evaluate_utility(*map(_array, (labels, [0, 1, 1, 0, 0, 1, 0, 1], folds)), num_classes=2)  # 0.5, 1
    result = evaluate_transfer(
        in_corpus, cross, train_corpus="a", test_corpus="b", shared_emotions=("x", "y"), left_out=3, n=4
    )
    assert result.drop == pytest.approx(0.25) and result.drop_by_fold == pytest.approx((0.5, 0.0))
    gate = load_gates(ROOT / "thresholds.toml", declared_metrics()).gate("utility.cross_corpus_uar_drop")
    assert gate.judge(result.drop, "b").verdict == "FAIL"
    assert gate.judge(0.1, "b").verdict == "PASS"


def _array(values):
    import numpy as np

    return np.asarray(values)


@pytest.fixture(scope="module")
def transfer_audit(tmp_path_factory):
    """One audit of the utility and fairness suites, trained on TRAIN, tested on the control and the flaw."""
    report = tmp_path_factory.mktemp("report")
    done = run_suite(
        ROOT / "trust_tests" / "test_utility.py",
        ROOT / "trust_tests" / "test_fairness.py",
        cwd=report,
        report=report,
        cache=tmp_path_factory.mktemp("cache"),
        options=(
            *("-p", "tests.planted.tones", "--backbone", "mfcc", "--corpus", TRAIN, "--head-max-epochs", "10"),
            *("--test-corpus", OTHER_VOICES, "--test-corpus", OTHER_RENDERING),
        ),
    )
    return report, done


def test_in_corpus_passes_transfer_to_other_voices_passes_and_to_another_rendering_fails(transfer_audit):
    report, done = transfer_audit
    output = done.stdout + done.stderr
    verdicts = {(r["metric"], r["corpus"]): r["verdict"] for r in report_records(report)}
    assert verdicts[("utility.uar", TRAIN)] == "PASS", output
    for metric in ("utility.uar", "utility.accuracy", "utility.cross_corpus_uar_drop"):
        assert verdicts[(metric, OTHER_VOICES)] == "PASS", output  # the clean control
        assert verdicts[(metric, OTHER_RENDERING)] == "FAIL", output  # the planted flaw
    assert ("utility.cross_corpus_uar_drop", TRAIN) not in verdicts  # no in-corpus row of a transfer gate
    for corpus in (TRAIN, OTHER_VOICES, OTHER_RENDERING):
        assert {metric for metric, on in verdicts if on == corpus} >= set(FAIRNESS), output
    assert verdicts[("fairness.worst_speaker_uar", OTHER_RENDERING)] == "FAIL", output
    assert done.returncode == 1, output


def test_the_cross_corpus_rows_and_the_matrix_are_in_every_report_format(transfer_audit):
    report, _ = transfer_audit
    cases = ElementTree.parse(report / "junit.xml").getroot().iter("testcase")
    corpora = Counter(
        dict((p.get("name"), p.get("value")) for p in case.iter("property")).get("corpus")
        for case in cases
        if "cross_corpus" in case.get("name")
    )
    assert corpora == {OTHER_VOICES: 9, OTHER_RENDERING: 9}  # UAR, accuracy, the drop and six fairness gates each

    import json

    document = json.loads((report / "trust_report.json").read_text())
    jsonschema.validate(document, report_schema())
    matrix = document["meta"]["transfer_matrix"]
    assert matrix["train_corpus"] == TRAIN and matrix["test_corpora"] == [OTHER_VOICES, OTHER_RENDERING]
    row = matrix["uar"]["mfcc"]
    assert [row[c][1] for c in (TRAIN, OTHER_VOICES, OTHER_RENDERING)] == ["PASS", "PASS", "FAIL"]

    markdown = (report / "report.md").read_text()
    section = markdown.split("## Cross-corpus transfer", 1)[1].split("\n## ", 1)[0]
    assert f"`{TRAIN}` (in-corpus) | `{OTHER_VOICES}` | `{OTHER_RENDERING}` |" in section
    assert "\n| `mfcc` | 1 PASS | 1 PASS | 0 FAIL |\n" in section
    assert "| backbone | corpus | value |" in markdown  # the gate table tells the rows apart
    html = (report / "report.html").read_text()
    assert "<h2>Cross-corpus transfer</h2>" in html and f"UAR on {OTHER_RENDERING}" in html


def test_without_a_test_corpus_the_cross_corpus_tests_are_deselected(tmp_path):
    done = run_suite(
        ROOT / "trust_tests" / "test_utility.py",
        cwd=tmp_path,
        report=tmp_path,
        cache=tmp_path / "cache",
        options=("-p", "tests.planted.tones", "--backbone", "mfcc", "--corpus", TRAIN, "-k", "cross_corpus or uar"),
    )
    output = done.stdout + done.stderr
    # no row of a cross-corpus gate, and the in-corpus UAR row names the training corpus alone
    assert [(r["metric"], r["corpus"]) for r in report_records(tmp_path)] == [("utility.uar", TRAIN)], output
    # test_accuracy, test_ece, test_brier, the three export-parity tests and the four CCC tests by -k, the three
    # cross-corpus tests by the plugin
    assert "13 deselected" in output, output
    assert done.returncode == 0, output


def test_a_finished_model_is_audited_on_the_test_corpus_as_on_its_own(tmp_path):
    """`--model` with `--test-corpus`: the team's model (docs/plugins.md), one head for every fold, predicts
    the test corpus once; its cross-corpus rows are measured like a backbone's, and the drop is the difference
    of the two UARs it reports."""
    write_python_file(tmp_path, "team_model.py")
    report = tmp_path / "report"
    done = run_suite(
        ROOT / "trust_tests" / "test_utility.py",
        ROOT / "trust_tests" / "test_fairness.py",
        cwd=tmp_path,
        report=report,
        cache=tmp_path / "cache",
        options=(
            *("-p", "tests.planted.tones", "--model", "torch:team_model:build", "--corpus", TRAIN),
            *("--test-corpus", OTHER_VOICES, "-k", "uar or transfer"),
        ),
        pythonpath=(ROOT, tmp_path),
    )
    output = done.stdout + done.stderr
    records = {(r["metric"], r["corpus"]): r for r in report_records(report)}
    assert {r["verdict"] for r in records.values()} <= {"PASS", "WARN", "FAIL"}, output  # measured, no ERROR
    assert {r["backbone"] for r in records.values()} == {"model:torch:team_model:build"}, output
    expected = {"utility.uar", "fairness.uar_difference_gender", "fairness.worst_speaker_uar"}
    assert {metric for metric, corpus in records if corpus == TRAIN} == expected, output
    assert {metric for metric, corpus in records if corpus == OTHER_VOICES} == expected | {
        "utility.cross_corpus_uar_drop"
    }, output
    in_corpus, cross = records[("utility.uar", TRAIN)]["value"], records[("utility.uar", OTHER_VOICES)]["value"]
    drop = records[("utility.cross_corpus_uar_drop", OTHER_VOICES)]["value"]
    assert drop == pytest.approx(in_corpus - cross, abs=1e-3), output
