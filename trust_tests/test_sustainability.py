"""Sustainability: what does running the model cost?"""

import pytest

from trustser import audit


@pytest.mark.trust("sustainability.parameters")
def test_parameters(backbone_run, trust):
    trust.check(audit.parameters(backbone_run))


@pytest.mark.trust("sustainability.gflops_per_audio_second")
def test_gflops(backbone_run, trust):
    trust.check(audit.gflops_per_audio_second(backbone_run))


@pytest.mark.trust("sustainability.energy_kwh_per_audio_hour")
def test_energy(backbone_run, trust):
    trust.check(audit.energy_kwh_per_audio_hour(backbone_run, trust.settings))


@pytest.mark.trust("sustainability.extraction_energy_kwh_per_audio_hour")
def test_extraction_energy(backbone_run, trust):
    trust.check(audit.extraction_energy_kwh_per_audio_hour(backbone_run))


@pytest.mark.trust("sustainability.training_energy_kwh_per_audio_hour")
def test_training_energy(backbone_run, trust):
    trust.check(audit.training_energy_kwh_per_audio_hour(backbone_run))


@pytest.mark.trust("sustainability.real_time_factor")
def test_real_time_factor(backbone_run, trust):
    trust.check(audit.real_time_factor(backbone_run))


@pytest.mark.trust("sustainability.peak_memory_mb")
def test_peak_memory(backbone_run, trust):
    trust.check(audit.peak_memory_mb(backbone_run))
