"""Safety: can an inaudible perturbation change the predicted emotion?"""

import pytest

from trustser import audit


@pytest.mark.trust("safety.fgsm_success_rate")
def test_fgsm(backbone_run, trust):
    result = audit.fgsm(backbone_run, trust.gate.settings["budget_db"])
    trust.check(result.success_rate, n=result.n_attacked, result=result)
