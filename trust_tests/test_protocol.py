"""Protocol: does test data reach training? Run first: every other gate stands on it."""

import pytest

from trustser import audit


@pytest.mark.trust("protocol.speaker_overlap")
def test_speaker_overlap(backbone_run, trust):
    trust.check(audit.speaker_overlap(backbone_run))


@pytest.mark.trust("protocol.duplicates_across_splits")
def test_duplicates_across_splits(backbone_run, trust):
    trust.check(audit.duplicates_across_splits(backbone_run))


@pytest.mark.trust("protocol.duplicates_within_split")
def test_duplicates_within_split(backbone_run, trust):
    trust.check(audit.duplicates_within_split(backbone_run))


@pytest.mark.trust("protocol.lexical_overlap")
def test_lexical_overlap(backbone_run, trust):
    trust.check(audit.lexical_overlap(backbone_run))


@pytest.mark.trust("protocol.seen_sentence_uar_gap")
def test_seen_sentence_uar_gap(backbone_run, trust):
    trust.check(audit.seen_sentence_uar_gap(backbone_run))


@pytest.mark.trust("protocol.declared_training_data")
def test_declared_training_data(backbone_run, trust):
    trust.check(audit.declared_training_data(backbone_run))
