"""Utility: does the model recognise emotions on speakers it never saw?"""

import pytest

from trustser import audit


@pytest.mark.trust("utility.uar")
def test_uar(backbone_run, trust):
    trust.check(audit.uar(backbone_run))


@pytest.mark.trust("utility.accuracy")
def test_accuracy(backbone_run, trust):
    trust.check(audit.accuracy(backbone_run))


@pytest.mark.trust("utility.ece")
def test_ece(backbone_run, trust):
    trust.check(audit.ece(backbone_run, trust.settings))


@pytest.mark.trust("utility.brier")
def test_brier(backbone_run, trust):
    trust.check(audit.brier(backbone_run))


# Cross-corpus transfer (--test-corpus): the heads trained on --corpus, judged on each test corpus by the same
# gates; the rows name the test corpus as their corpus.
@pytest.mark.trust("utility.uar")
def test_cross_corpus_uar(transfer_run, trust):
    trust.check(audit.uar(transfer_run))


@pytest.mark.trust("utility.accuracy")
def test_cross_corpus_accuracy(transfer_run, trust):
    trust.check(audit.accuracy(transfer_run))


@pytest.mark.trust("utility.cross_corpus_uar_drop")
def test_cross_corpus_transfer(transfer_run, trust):
    trust.check(audit.cross_corpus_uar_drop(transfer_run))


# Export parity (--export-parity): the --model model and its export on the same utterances; deselected without it.
@pytest.mark.trust("utility.export_agreement")
def test_export_agreement(parity_run, trust):
    trust.check(audit.export_agreement(parity_run))


@pytest.mark.trust("utility.export_max_posterior_delta")
def test_export_max_posterior_delta(parity_run, trust):
    trust.check(audit.export_max_posterior_delta(parity_run))


@pytest.mark.trust("utility.export_p99_posterior_delta")
def test_export_p99_posterior_delta(parity_run, trust):
    trust.check(audit.export_p99_posterior_delta(parity_run))


# Dimensional models (--task dimensional): the concordance of each rated attribute, and their mean.
@pytest.mark.trust("utility.ccc_arousal")
def test_ccc_arousal(backbone_run, trust):
    trust.check(audit.ccc_arousal(backbone_run))


@pytest.mark.trust("utility.ccc_dominance")
def test_ccc_dominance(backbone_run, trust):
    trust.check(audit.ccc_dominance(backbone_run))


@pytest.mark.trust("utility.ccc_valence")
def test_ccc_valence(backbone_run, trust):
    trust.check(audit.ccc_valence(backbone_run))


@pytest.mark.trust("utility.ccc_mean")
def test_ccc_mean(backbone_run, trust):
    trust.check(audit.ccc_mean(backbone_run))
