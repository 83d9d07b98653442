"""codecarbon around a busy loop: positive energy, consistent normalisation, nothing written, quiet."""

import time

import pytest

from trustser.pillars.sustainability import EnergyResult, measure_energy, measure_repeated_energy


def busy(seconds: float):
    def work() -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    return work


def test_busy_loop_costs_energy_and_leaves_no_file(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    result = measure_energy(busy(0.8), audio_seconds=90.0, label="busy")
    assert isinstance(result, EnergyResult)
    assert result.kwh > 0 and result.kg_co2eq > 0
    assert result.duration_s >= 0.8
    assert result.audio_seconds == 90.0 and result.country_iso_code == "USA" and result.label == "busy"
    # 90 s of audio = 1/40 h
    assert result.kwh_per_audio_hour == pytest.approx(result.kwh * 40)
    assert result.kg_co2eq_per_audio_hour == pytest.approx(result.kg_co2eq * 40)
    assert 0 < result.kg_co2eq / result.kwh < 1.5  # a grid intensity, kg CO2eq per kWh
    assert result.power_source and "CPU" in result.power_source
    assert list(tmp_path.iterdir()) == []
    captured = capfd.readouterr()
    assert "codecarbon" not in captured.out + captured.err


def test_country_sets_the_grid_intensity(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    france = measure_energy(busy(0.2), audio_seconds=1.0, country_iso_code="FRA")
    assert france.country_iso_code == "FRA"
    assert france.kg_co2eq / france.kwh < 0.2  # mostly nuclear; the USA mix is above 0.3


def test_bad_arguments_fail_before_measuring():
    with pytest.raises(ValueError, match="ISO code"):
        measure_energy(busy(0), audio_seconds=1.0, country_iso_code="XYZ")
    with pytest.raises(ValueError, match="audio_seconds"):
        measure_energy(busy(0), audio_seconds=0.0)


def test_work_errors_propagate(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def broken() -> None:
        raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError, match="model crashed"):
        measure_energy(broken, audio_seconds=1.0)
    assert list(tmp_path.iterdir()) == []


def test_short_work_is_repeated_to_fill_each_window_and_the_spread_is_recorded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []

    def work() -> None:
        calls.append(1)
        busy(0.05)()

    result = measure_repeated_energy(
        work, audio_seconds=2.0, window_seconds=0.5, windows=3, country_iso_code="USA", label="short"
    )
    assert result.windows == 3 and 8 <= result.repeats <= 11  # 0.5 s of 0.05 s runs
    assert len(calls) == 2 + 3 * result.repeats  # a warm-up and a timed call, then every window
    assert result.audio_seconds == pytest.approx(2.0 * result.repeats)
    assert result.duration_s >= 0.5
    values = result.window_kwh_per_audio_hour
    assert len(values) == 3 and result.kwh_per_audio_hour == sorted(values)[1]
    assert result.spread == pytest.approx((max(values) - min(values)) / sorted(values)[1])
    assert result.spread < 0.5, values  # the same busy loop three times: a measurement, not noise
    with pytest.raises(ValueError, match="window_seconds"):
        measure_repeated_energy(work, audio_seconds=1.0, window_seconds=0.0, windows=3, country_iso_code="USA")
