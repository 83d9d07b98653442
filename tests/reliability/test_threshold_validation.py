"""Every bound finite and every setting in range, checked when the thresholds file is loaded (at
collection), with the key named; never a crash later in the test that uses it."""

from __future__ import annotations

import pytest

from trustser.gates.thresholds import ThresholdError, load_gates
from trustser.pillars import declared_metrics


@pytest.mark.parametrize(
    "text, named",
    [
        ("[utility.uar]\nmin = nan\n", "utility.uar.min"),
        ("[utility.uar]\nmin = -inf\n", "utility.uar.min"),
        ("[utility.uar]\nmin = 0.6\nregression_abs = inf\n", "utility.uar.regression_abs"),
        ("[privacy.gender_inference_uar]\nmax = 0.7\nexposed = []\n", "privacy.gender_inference_uar.exposed"),
        (
            "[privacy.gender_inference_uar]\nmax = 0.7\nexposed = ['layers', 'logits']\n",
            "privacy.gender_inference_uar.exposed",
        ),
        ("[privacy.dp_epsilon]\nmax = 10\nepochs = 0\n", "privacy.dp_epsilon.epochs"),
        ("[privacy.dp_epsilon]\nmax = 10\ndelta = 1.5\n", "privacy.dp_epsilon.delta"),
        ("[privacy.age_inference_uar]\nmax = 0.7\nage_bands = [60, 40]\n", "privacy.age_inference_uar.age_bands"),
        (
            "[sustainability.energy_kwh_per_audio_hour]\nmax = 1\ncountry_iso_code = 'Narnia'\n",
            "sustainability.energy_kwh_per_audio_hour.country_iso_code",
        ),
        ("[safety.fgsm_success_rate]\nmax = 0.5\ncurve_db = ['a']\n", "safety.fgsm_success_rate.curve_db"),
        ("[safety.fgsm_success_rate]\nmax = 0.5\nper_fold = 0\n", "safety.fgsm_success_rate.per_fold"),
        ("[safety.fgsm_success_rate]\nmax = 0.5\nbudget_db = nan\n", "safety.fgsm_success_rate.budget_db"),
        ("[safety.transfer_success_rate]\nmax = 0.5\nattack = 'CW'\n", "safety.transfer_success_rate.attack"),
    ],
)
def test_out_of_range_values_name_the_key(tmp_path, text, named):
    path = tmp_path / "thresholds.toml"
    path.write_text(text)
    with pytest.raises(ThresholdError, match=named.replace(".", r"\.")) as error:
        load_gates(path, declared_metrics())
    assert str(path) in str(error.value)


def test_a_pathologically_nested_file_is_a_threshold_error(tmp_path):
    path = tmp_path / "thresholds.toml"
    path.write_text("[utility.uar]\nmin = 0.6\nx = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ThresholdError, match="nested too deeply"):
        load_gates(path, declared_metrics())


def test_the_shipped_file_and_every_default_setting_are_valid():
    from pathlib import Path

    load_gates(Path(__file__).resolve().parents[2] / "thresholds.toml", declared_metrics())
    for metric in declared_metrics().values():  # declare_metric refuses a default its rule rejects; checked again here
        for key, (_, rule) in metric.setting_fields().items():
            assert rule(getattr(metric.settings, key)) is None, (metric.name, key)
