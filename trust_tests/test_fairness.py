"""Fairness: are emotions predicted alike for female and male speakers, and for every speaker?"""

import pytest

from trustser import audit


@pytest.mark.trust("fairness.statistical_parity_gender")
def test_statistical_parity(backbone_run, trust):
    trust.check(audit.statistical_parity_gender(backbone_run))


@pytest.mark.trust("fairness.equality_of_opportunity_gender")
def test_equality_of_opportunity(backbone_run, trust):
    trust.check(audit.equality_of_opportunity_gender(backbone_run))


@pytest.mark.trust("fairness.uar_difference_gender")
def test_uar_difference_gender(backbone_run, trust):
    trust.check(audit.uar_difference_gender(backbone_run))


@pytest.mark.trust("fairness.ece_difference_gender")
def test_ece_difference_gender(backbone_run, trust):
    trust.check(audit.ece_difference_gender(backbone_run, trust.settings))


@pytest.mark.trust("fairness.brier_difference_gender")
def test_brier_difference_gender(backbone_run, trust):
    trust.check(audit.brier_difference_gender(backbone_run))


@pytest.mark.trust("fairness.statistical_parity_speaker")
def test_statistical_parity_speakers(backbone_run, trust):
    trust.check(audit.statistical_parity_speaker(backbone_run))


@pytest.mark.trust("fairness.equality_of_opportunity_speaker")
def test_equality_of_opportunity_speakers(backbone_run, trust):
    trust.check(audit.equality_of_opportunity_speaker(backbone_run))


@pytest.mark.trust("fairness.worst_speaker_uar")
def test_worst_speaker_uar(backbone_run, trust):
    trust.check(audit.worst_speaker_uar(backbone_run))


# Cross-corpus transfer (--test-corpus): the same gates on each test corpus; the rows name it as their corpus.
@pytest.mark.trust("fairness.statistical_parity_gender")
def test_cross_corpus_statistical_parity(transfer_run, trust):
    trust.check(audit.statistical_parity_gender(transfer_run))


@pytest.mark.trust("fairness.equality_of_opportunity_gender")
def test_cross_corpus_equality_of_opportunity(transfer_run, trust):
    trust.check(audit.equality_of_opportunity_gender(transfer_run))


@pytest.mark.trust("fairness.uar_difference_gender")
def test_cross_corpus_uar_difference_gender(transfer_run, trust):
    trust.check(audit.uar_difference_gender(transfer_run))


@pytest.mark.trust("fairness.statistical_parity_speaker")
def test_cross_corpus_statistical_parity_speakers(transfer_run, trust):
    trust.check(audit.statistical_parity_speaker(transfer_run))


@pytest.mark.trust("fairness.equality_of_opportunity_speaker")
def test_cross_corpus_equality_of_opportunity_speakers(transfer_run, trust):
    trust.check(audit.equality_of_opportunity_speaker(transfer_run))


@pytest.mark.trust("fairness.worst_speaker_uar")
def test_cross_corpus_worst_speaker_uar(transfer_run, trust):
    trust.check(audit.worst_speaker_uar(transfer_run))


# Dimensional models (--task dimensional): the same questions of attribute predictions.
@pytest.mark.trust("fairness.ccc_difference_gender")
def test_ccc_difference_gender(backbone_run, trust):
    trust.check(audit.ccc_difference_gender(backbone_run))


@pytest.mark.trust("fairness.signed_error_difference_gender")
def test_signed_error_difference_gender(backbone_run, trust):
    trust.check(audit.signed_error_difference_gender(backbone_run))


@pytest.mark.trust("fairness.worst_speaker_ccc")
def test_worst_speaker_ccc(backbone_run, trust):
    trust.check(audit.worst_speaker_ccc(backbone_run))
