"""thresholds.toml: the shipped file loads, with the declared defaults; malformed files fail naming the key;
gates judge bounds."""

import dataclasses
import math
from pathlib import Path

import pytest

from trustser.gates.thresholds import ThresholdError, load_gates
from trustser.pillars import declared_metrics

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, text):
    path = tmp_path / "thresholds.toml"
    path.write_text(text)
    return path


def test_shipped_thresholds_cover_every_metric_with_its_declared_default():
    gates, declared = load_gates(ROOT / "thresholds.toml", declared_metrics()), declared_metrics()
    assert set(gates) == set(declared)
    assert {m: g.threshold for m, g in gates.items()} == {m: d.default for m, d in declared.items()}
    assert gates["safety.fgsm_success_rate"].settings.budget_db == 45.0
    assert gates["safety.fgsm_success_rate"].settings.curve_db == (20.0, 30.0, 40.0, 60.0)  # a TOML list, as a tuple


def settings_off_their_defaults(path: Path) -> list[str]:
    """`metric.key = value (default ...)` for each setting the file sets to other than its dataclass default."""
    declared = declared_metrics()
    return [
        f"{metric}.{field.name} = {getattr(gate.settings, field.name)!r} (default {getattr(default, field.name)!r})"
        for metric, gate in load_gates(path, declared).items()
        if (default := declared[metric].settings) is not None
        for field in dataclasses.fields(default)
        if getattr(gate.settings, field.name) != getattr(default, field.name)
    ]


def test_shipped_settings_are_the_dataclass_defaults():
    """Each default is stated once, in the settings dataclass; thresholds.toml writes the same values out
    for users to see and edit, so the two must not drift."""
    assert settings_off_their_defaults(ROOT / "thresholds.toml") == [], "change the dataclass or the file"


def test_a_setting_off_its_default_is_named(tmp_path):
    shipped = (ROOT / "thresholds.toml").read_text()
    edited = shipped.replace("budget_db = 45.0\nper_fold = 64", "budget_db = 40.0\nper_fold = 64", 1)
    assert edited != shipped
    assert settings_off_their_defaults(write(tmp_path, edited)) == [
        "safety.fgsm_success_rate.budget_db = 40.0 (default 45.0)"
    ]


def test_a_declaration_takes_its_settings_dataclass_defaults():
    from trustser.gates.declaration import declare_metric
    from trustser.pillars.safety.checks import AttackSettings

    with pytest.raises(ValueError, match="a default is stated once"):
        declare_metric(
            "safety.louder_fgsm_success_rate",
            label="x",
            bound="max",
            default=0.2,
            definition="x",
            settings=AttackSettings(per_fold=64),
        )


@pytest.mark.parametrize(
    "text, named",
    [
        ("[utility.uar]\nmni = 0.5\n", "utility.uar"),
        ("[utility.uar]\nmin = 0.5\nbudget_db = 3\n", "utility.uar.budget_db"),
        ("[utility.uar]\nmin = 'high'\n", "utility.uar.min"),
        ("[utility.wer]\nmin = 0.5\n", "utility.wer"),
        ("[safety.fgsm_success_rate]\nmax = 0.2\nbudget_db = 'loud'\n", "safety.fgsm_success_rate.budget_db"),
        ("[utility.uar]\nmin = 0.5\nlevel = 'maybe'\n", "utility.uar.level"),
        ("[utility.uar]\nmin = 0.5\nmax = 0.9\n", "utility.uar"),
        ("[utility.uar]\nmax = 0.5\n", "'utility.uar' takes 'min', not 'max'"),
        ("utility = 3\n", "utility"),
        ("[utility.uar\n", "not valid TOML"),
    ],
)
def test_malformed_files_name_the_key(tmp_path, text, named):
    with pytest.raises(ThresholdError, match=named.replace(".", r"\.")) as error:
        load_gates(write(tmp_path, text), declared_metrics())
    assert str(tmp_path) in str(error.value)


def test_gate_verdicts_and_message(tmp_path):
    gates = load_gates(
        write(tmp_path, "[privacy.gender_inference_uar]\nmax = 0.9\n[utility.uar]\nmin = 0.6\nlevel = 'warn'\n"),
        declared_metrics(),
    )
    leak = gates.gate("privacy.gender_inference_uar")
    verdict = leak.judge(0.97, "ge2e on synthetic")
    assert verdict.failed and verdict.message == "gender inference UAR 0.97 > max 0.9 (ge2e on synthetic)"
    assert leak.judge(0.9, "x").verdict == "PASS"
    assert leak.judge(math.nan, "x").failed
    assert gates.gate("utility.uar").judge(0.5, "x").verdict == "WARN"
    with pytest.raises(ThresholdError, match="no gate"):
        gates.gate("safety.fgsm_success_rate")


def test_ci_gate_judges_the_least_favourable_bound(tmp_path):
    text = "[privacy.gender_inference_uar]\nmax = 0.75\ngate = 'ci'\n[utility.uar]\nmin = 0.6\ngate = 'ci'\n"
    gates = load_gates(write(tmp_path, text), declared_metrics())
    leak, uar = gates.gate("privacy.gender_inference_uar"), gates.gate("utility.uar")
    assert leak.judge(0.70, "x", ci=(0.60, 0.74)).verdict == "PASS"
    verdict = leak.judge(0.70, "x", ci=(0.60, 0.80))  # point within, upper bound beyond
    assert verdict.failed and "upper bound 0.8" in verdict.message
    assert uar.judge(0.70, "x", ci=(0.62, 0.78)).verdict == "PASS"
    assert uar.judge(0.70, "x", ci=(0.55, 0.78)).failed  # the lower bound is the unfavourable one for a min gate
    assert leak.judge(0.70, "x").failed  # a ci gate without an interval cannot pass


def test_point_gate_ignores_the_interval_but_reports_it(tmp_path):
    gates = load_gates(write(tmp_path, "[privacy.gender_inference_uar]\nmax = 0.75\n"), declared_metrics())
    verdict = gates.gate("privacy.gender_inference_uar").judge(0.70, "x", ci=(0.60, 0.80))
    assert verdict.verdict == "PASS" and "[95% CI 0.6, 0.8]" in verdict.message


def test_small_groups_give_warn_instead_of_a_verdict(tmp_path):
    text = "[fairness.statistical_parity_gender]\nmax = 0.1\nmin_group_size = 3\n"
    gate = load_gates(write(tmp_path, text), declared_metrics()).gate("fairness.statistical_parity_gender")
    assert gate.judge(0.5, "x", group_size=2).verdict == "WARN"
    assert gate.judge(0.5, "x", group_size=3).failed
    assert gate.judge(0.05, "x", group_size=3).verdict == "PASS"
    assert gate.judge(0.05, "x").verdict == "PASS"  # no size given: judged


@pytest.mark.parametrize(
    "text, named",
    [
        ("[utility.uar]\nmin = 0.5\ngate = 'upper'\n", "utility.uar.gate"),
        ("[utility.uar]\nmin = 0.5\nmin_group_size = -1\n", "utility.uar.min_group_size"),
        ("[utility.uar]\nmin = 0.5\nmin_group_size = 2.5\n", "utility.uar.min_group_size"),
    ],
)
def test_malformed_gate_modes_name_the_key(tmp_path, text, named):
    with pytest.raises(ThresholdError, match=named.replace(".", r"\.")):
        load_gates(write(tmp_path, text), declared_metrics())
