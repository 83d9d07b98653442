"""Utility: does the model recognise emotions on speakers it never saw?"""

import pytest

from trustser import audit


@pytest.mark.trust("utility.uar")
def test_uar(backbone_run, trust):
    result = audit.utility(backbone_run)
    trust.check(result.uar, n=result.n, result=result)


@pytest.mark.trust("utility.accuracy")
def test_accuracy(backbone_run, trust):
    result = audit.utility(backbone_run)
    trust.check(result.accuracy, n=result.n, result=result)
