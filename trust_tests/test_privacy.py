"""Privacy: do the released model's representations and head give away who speaks?"""

import pytest

from trustser import audit


@pytest.mark.trust("privacy.gender_inference_uar")
def test_gender_inference(backbone_run, trust):
    result = audit.gender_inference(backbone_run, exposed=trust.settings.exposed)
    trust.check(result.uar, n=result.n, result=result, ci=result.ci, group_size=result.min_speakers_per_group)


@pytest.mark.trust("privacy.age_inference_uar")
def test_age_inference(backbone_run, trust):
    result = audit.age_inference(backbone_run, exposed=trust.settings.exposed, cut_points=trust.settings.age_bands)
    trust.check(result.uar, n=result.n, result=result, ci=result.ci, group_size=result.min_speakers_per_group)


@pytest.mark.trust("privacy.demographic_inference_uar")
def test_demographic_inference(backbone_run, trust):
    result = audit.demographic_inference(backbone_run, exposed=trust.settings.exposed)
    trust.check(result.uar, n=result.n, result=result, ci=result.ci, group_size=result.min_speakers_per_group)


@pytest.mark.trust("privacy.speaker_id_accuracy")
def test_speaker_identification(backbone_run, trust):
    result = audit.speaker_identification_attack(backbone_run, exposed=trust.settings.exposed)
    trust.check(result.accuracy, n=result.n, result=result, ci=result.ci)


@pytest.mark.trust("privacy.speaker_verification_eer")
def test_speaker_verification(backbone_run, trust):
    result = audit.speaker_verification_attack(backbone_run, exposed=trust.settings.exposed)
    trust.check(result.eer, n=result.n_target_trials + result.n_nontarget_trials, result=result, ci=result.ci)


@pytest.mark.trust("privacy.membership_advantage")
def test_membership_inference(backbone_run, trust):
    result = audit.membership(backbone_run)
    trust.check(result.advantage, n=result.n_members + result.n_nonmembers, result=result, ci=result.ci["advantage"])


@pytest.mark.trust("privacy.dp_epsilon")
def test_dp_epsilon(backbone_run, trust):
    s = trust.settings
    result = audit.differential_privacy(
        backbone_run, target_epsilon=s.target_epsilon, delta=s.delta, max_grad_norm=s.max_grad_norm, epochs=s.epochs
    )
    trust.check(result.epsilon, n=result.n_train, result=result)


@pytest.mark.trust("privacy.dp_uar_cost")
def test_dp_uar_cost(backbone_run, trust):
    s = trust.settings
    result = audit.differential_privacy(
        backbone_run, target_epsilon=s.target_epsilon, delta=s.delta, max_grad_norm=s.max_grad_norm, epochs=s.epochs
    )
    trust.check(result.uar_cost, n=result.n_test, result=result)
