"""Privacy: do the released model's representations and head give away who speaks?"""

import pytest

from trustser import audit


@pytest.mark.trust("privacy.gender_inference_uar")
def test_gender_inference(backbone_run, trust):
    trust.check(audit.gender_inference_uar(backbone_run, trust.settings))


@pytest.mark.trust("privacy.age_inference_uar")
def test_age_inference(backbone_run, trust):
    trust.check(audit.age_inference_uar(backbone_run, trust.settings))


@pytest.mark.trust("privacy.demographic_inference_uar")
def test_demographic_inference(backbone_run, trust):
    trust.check(audit.demographic_inference_uar(backbone_run, trust.settings))


@pytest.mark.trust("privacy.speaker_id_accuracy")
def test_speaker_identification(backbone_run, trust):
    trust.check(audit.speaker_id_accuracy(backbone_run, trust.settings))


@pytest.mark.trust("privacy.speaker_verification_eer")
def test_speaker_verification(backbone_run, trust):
    trust.check(audit.speaker_verification_eer(backbone_run, trust.settings))


@pytest.mark.trust("privacy.speaker_verification_cllr_min")
def test_speaker_verification_cllr_min(backbone_run, trust):
    trust.check(audit.speaker_verification_cllr_min(backbone_run, trust.settings))


@pytest.mark.trust("privacy.membership_advantage")
def test_membership_inference(backbone_run, trust):
    trust.check(audit.membership_advantage(backbone_run))


@pytest.mark.trust("privacy.membership_tpr_at_1pct_fpr")
def test_membership_inference_at_low_fpr(backbone_run, trust):
    trust.check(audit.membership_tpr_at_1pct_fpr(backbone_run, trust.settings))


@pytest.mark.trust("privacy.dp_epsilon")
def test_dp_epsilon(backbone_run, trust):
    trust.check(audit.dp_epsilon(backbone_run, trust.settings))


@pytest.mark.trust("privacy.dp_uar_cost")
def test_dp_uar_cost(backbone_run, trust):
    trust.check(audit.dp_uar_cost(backbone_run, trust.settings))
