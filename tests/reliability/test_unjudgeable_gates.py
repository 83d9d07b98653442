"""Gates that cannot be judged say why (issue 28, item 5): a corpus of one gender SKIPs the gender gates
naming the gender, and a metric measured over fewer speakers than the gate's `min_speakers` is a WARN
that says so, never a verdict on two voices."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import soundfile

from tests.suite_runs import ROOT, report_records, run_suite
from trustser import audit
from trustser.corpora.base import Utterance
from trustser.corpora.folds import Fold
from trustser.errors import NotApplicable
from trustser.gates.thresholds import MIN_SPEAKERS, ThresholdError, load_gates
from trustser.pillars import declared_metrics
from trustser.pillars.privacy.checks import ExposureSettings
from trustser.pillars.utility.checks import CalibrationSettings
from trustser.run.memo import Memo

GATES = load_gates(ROOT / "thresholds.toml", declared_metrics())
GENDER_GATES = {
    "fairness.statistical_parity_gender": audit.statistical_parity_gender,
    "fairness.equality_of_opportunity_gender": audit.equality_of_opportunity_gender,
    "fairness.uar_difference_gender": audit.uar_difference_gender,
    "fairness.ece_difference_gender": lambda run: audit.ece_difference_gender(run, CalibrationSettings()),
    "fairness.brier_difference_gender": audit.brier_difference_gender,
    "privacy.gender_inference_uar": lambda run: audit.gender_inference_uar(run, ExposureSettings()),
}
ONE_GENDER = r"the corpus has one gender \(female\): gender gates need two"


class _Corpus(SimpleNamespace):
    def column(self, field: str) -> np.ndarray:
        return np.array([getattr(u, field) for u in self.utterances])


def _run(genders: dict[str, str], folds: list[Fold]) -> SimpleNamespace:
    """As much of a BackboneRun as the checks read before they measure anything."""
    utterances = [Utterance(f"{s}_{i}", s, g, "happy") for s, g in genders.items() for i in range(4)]
    return SimpleNamespace(corpus=_Corpus(name="tiny", utterances=utterances), folds=folds, memo=Memo())


@pytest.mark.parametrize("metric", GENDER_GATES)
def test_a_corpus_of_one_gender_is_not_applicable_to_the_gender_gates_naming_the_gender(metric):
    folds = [Fold(i, (), (), (f"s{i}",)) for i in range(4)]
    with pytest.raises(NotApplicable, match=ONE_GENDER):
        GENDER_GATES[metric](_run({f"s{i}": "female" for i in range(4)}, folds))


def test_two_folds_of_two_speakers_train_no_gender_attacker_and_say_so():
    folds = [Fold(0, ("m",), (), ("f",)), Fold(1, ("f",), (), ("m",))]
    with pytest.raises(NotApplicable, match=r"no gender attacker: fold 0's training speakers include no one in"):
        audit.gender_inference_uar(_run({"f": "female", "m": "male"}, folds), ExposureSettings())


def test_a_measurement_on_fewer_speakers_than_min_speakers_is_a_warn_naming_the_rule():
    gate = GATES.gate("privacy.speaker_id_accuracy")
    assert gate.min_speakers == MIN_SPEAKERS == 3
    two = gate.judge(1.0, "mfcc on tiny", ci=(1.0, 1.0), speakers=2)
    assert two.verdict == "WARN"
    assert two.message == (
        "speaker identification accuracy 1 [95% CI 1, 1] not judged: measured on 2 speakers < min_speakers 3 "
        "(mfcc on tiny)"
    )
    assert gate.judge(1.0, "x", speakers=3).failed  # enough speakers: the value is judged
    assert gate.judge(0.2, "x", speakers=3).verdict == "PASS"
    assert gate.judge(1.0, "x").failed  # a metric that is not over speakers is judged as before
    both = GATES.gate("fairness.uar_difference_gender").judge(0.5, "x", group_size=1, speakers=2)
    assert both.verdict == "WARN" and "smallest group 1 < min_group_size 3, measured on 2 speakers" in both.message


def test_min_speakers_is_a_gate_key_of_its_own(tmp_path):
    path = tmp_path / "thresholds.toml"
    path.write_text("[privacy.speaker_id_accuracy]\nmax = 0.5\nmin_speakers = 0\n")
    assert load_gates(path, declared_metrics()).gate("privacy.speaker_id_accuracy").judge(1.0, "x", speakers=2).failed
    for bad in ("-1", "2.5", "true"):
        path.write_text(f"[privacy.speaker_id_accuracy]\nmax = 0.5\nmin_speakers = {bad}\n")
        with pytest.raises(ThresholdError, match=r"privacy.speaker_id_accuracy.min_speakers' must be a non-negative"):
            load_gates(path, declared_metrics())


def _two_women(directory) -> str:
    """A manifest of two female speakers, two 0.5 s tones per emotion each."""
    directory.mkdir()
    rng, rows = np.random.default_rng(0), []
    for speaker in range(2):
        for e, emotion in enumerate(("neutral", "happy", "sad", "angry")):
            for take in range(2):
                t = np.arange(8000) / 16000
                wave = 0.2 * np.sin(2 * np.pi * (150 + 50 * speaker + 80 * e) * t) + 0.01 * rng.standard_normal(8000)
                name = f"s{speaker}e{e}t{take}.wav"
                soundfile.write(directory / name, wave.astype(np.float32), 16000)
                rows.append(f"{name},{emotion},spk{speaker},F")
    (directory / "corpus.csv").write_text("path,emotion,speaker,gender\n" + "\n".join(rows) + "\n")
    return f"manifest:{directory / 'corpus.csv'}"


@pytest.fixture(scope="module")
def two_women_audited(tmp_path_factory):
    """One end-to-end run of the gates that measure over speakers, on two women in two folds."""
    tmp = tmp_path_factory.mktemp("two-women")
    done = run_suite(
        ROOT / "trust_tests" / "test_fairness.py",
        ROOT / "trust_tests" / "test_privacy.py",
        cwd=ROOT,
        report=tmp / "report",
        cache=tmp / "cache",
        options=(
            *("--corpus", _two_women(tmp / "corpus"), "--backbone", "mfcc", "--folds", "2"),
            # the dimensional gates are SKIPs in a categorical audit (tests/dimensional)
            *("-k", "not dp_ and not age and not demographic and not membership and not ccc and not signed_error"),
        ),
        timeout=300,
    )
    return done, {r["metric"]: r for r in report_records(tmp / "report")}


def test_end_to_end_gender_gates_skip_with_the_reason_and_speaker_gates_warn(two_women_audited):
    done, records = two_women_audited
    output = done.stdout + done.stderr
    assert done.returncode == 0, output  # SKIPs and WARNs only: nothing is judged on two voices
    assert "Traceback" not in output and "ValueError" not in output, output
    for metric in GENDER_GATES:
        assert records[metric]["verdict"] == "SKIP", records[metric]
        assert "the corpus has one gender (female): gender gates need two" in records[metric]["message"]
    over_speakers = {m for m in records if m not in GENDER_GATES}
    assert over_speakers == {
        "privacy.speaker_id_accuracy",
        "privacy.speaker_verification_eer",
        "privacy.speaker_verification_cllr_min",
        "fairness.statistical_parity_speaker",
        "fairness.equality_of_opportunity_speaker",
        "fairness.worst_speaker_uar",
    }
    for metric in over_speakers:
        assert records[metric]["verdict"] == "WARN", records[metric]
        assert "measured on 2 speakers < min_speakers 3" in records[metric]["message"], records[metric]
