"""Utility: does the model recognise emotions on speakers it never saw?"""

import pytest

from trustser import audit


@pytest.mark.trust("utility.uar")
def test_uar(backbone_run, trust):
    trust.check(audit.uar(backbone_run))


@pytest.mark.trust("utility.accuracy")
def test_accuracy(backbone_run, trust):
    trust.check(audit.accuracy(backbone_run))
