"""Sustainability: what does running the model cost?"""

import pytest

from trustser import audit


@pytest.mark.trust("sustainability.parameters")
def test_parameters(backbone_run, trust):
    result = audit.parameters(backbone_run)
    trust.check(result.total, result=result)


@pytest.mark.trust("sustainability.gflops_per_audio_second")
def test_gflops(backbone_run, trust):
    trust.check(audit.gflops_per_audio_second(backbone_run))


@pytest.mark.trust("sustainability.energy_kwh_per_audio_hour")
def test_energy(backbone_run, trust):
    s = trust.settings
    result = audit.inference_energy(
        backbone_run,
        country_iso_code=s.country_iso_code,
        window_seconds=s.window_seconds,
        windows=s.windows,
        threads=s.threads,
    )
    trust.check(result.kwh_per_audio_hour, result=result)


@pytest.mark.trust("sustainability.extraction_energy_kwh_per_audio_hour")
def test_extraction_energy(backbone_run, trust):
    result = audit.extraction_energy(backbone_run)
    trust.check(result.kwh_per_audio_hour, result=result)


@pytest.mark.trust("sustainability.training_energy_kwh_per_audio_hour")
def test_training_energy(backbone_run, trust):
    result = audit.training_energy(backbone_run)
    trust.check(result.kwh_per_audio_hour, result=result)


@pytest.mark.trust("sustainability.real_time_factor")
def test_real_time_factor(backbone_run, trust):
    result = audit.inference_latency(backbone_run)
    trust.check(result.real_time_factor, n=result.runs, result=result)


@pytest.mark.trust("sustainability.peak_memory_mb")
def test_peak_memory(backbone_run, trust):
    result = audit.inference_footprint(backbone_run)
    trust.check(result.peak_mb, result=result)
