"""Fairness: are emotions predicted alike for female and male speakers?"""

import pytest

from trustser import audit


@pytest.mark.trust("fairness.statistical_parity_gender")
def test_statistical_parity(backbone_run, trust):
    result = audit.gender_fairness(backbone_run)
    trust.check(result.statistical_parity, n=result.n, result=result)


@pytest.mark.trust("fairness.equality_of_opportunity_gender")
def test_equality_of_opportunity(backbone_run, trust):
    result = audit.gender_fairness(backbone_run)
    trust.check(result.equality_of_opportunity, n=result.n, result=result)
