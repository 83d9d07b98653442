"""Fairness: are emotions predicted alike for female and male speakers, and for every speaker?"""

import pytest

from trustser import audit


@pytest.mark.trust("fairness.statistical_parity_gender")
def test_statistical_parity(backbone_run, trust):
    result = audit.gender_fairness(backbone_run)
    trust.check(
        result.point.statistical_parity,
        n=result.point.n,
        result=result,
        ci=result.ci["statistical_parity"],
        group_size=result.min_speakers_per_group,
    )


@pytest.mark.trust("fairness.equality_of_opportunity_gender")
def test_equality_of_opportunity(backbone_run, trust):
    result = audit.gender_fairness(backbone_run)
    trust.check(
        result.point.equality_of_opportunity,
        n=result.point.n,
        result=result,
        ci=result.ci["equality_of_opportunity"],
        group_size=result.min_speakers_per_group,
    )


@pytest.mark.trust("fairness.uar_difference_gender")
def test_uar_difference_gender(backbone_run, trust):
    result = audit.gender_fairness(backbone_run)
    trust.check(
        result.point.uar_difference,
        n=result.point.n,
        result=result,
        ci=result.ci["uar_difference"],
        group_size=result.min_speakers_per_group,
    )


@pytest.mark.trust("fairness.statistical_parity_speaker")
def test_statistical_parity_speakers(backbone_run, trust):
    result = audit.speaker_fairness(backbone_run)
    trust.check(
        result.point.statistical_parity,
        n=result.point.n,
        result=result,
        ci=result.ci["statistical_parity"],
        group_size=result.point.min_group_size,
    )


@pytest.mark.trust("fairness.equality_of_opportunity_speaker")
def test_equality_of_opportunity_speakers(backbone_run, trust):
    result = audit.speaker_fairness(backbone_run)
    trust.check(
        result.point.equality_of_opportunity,
        n=result.point.n,
        result=result,
        ci=result.ci["equality_of_opportunity"],
        group_size=result.point.min_group_size,
    )


@pytest.mark.trust("fairness.worst_speaker_uar")
def test_worst_speaker_uar(backbone_run, trust):
    result = audit.speaker_fairness(backbone_run)
    trust.check(
        result.worst_group_uar,
        n=result.point.n,
        result=result,
        ci=result.ci["worst_group_uar"],
        group_size=result.point.min_group_size,
    )
