"""Privacy: do the encoder's representations give away who speaks?"""

import pytest

from trustser import audit


@pytest.mark.trust("privacy.gender_inference_uar")
def test_gender_inference(backbone_run, trust):
    result = audit.gender_inference(backbone_run)
    trust.check(result.uar, n=result.n, result=result)
