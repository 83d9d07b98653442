"""A planted overconfident head: every trained head's logits multiplied by `--planted-logit-scale`.

Loaded into an audit with `-p tests.planted.overconfident`. The head's final layer (weights and bias) is
scaled after it comes from training or the cache, so the heads are the ones the clean audit trains and
stores, and every prediction is the same (a positive factor leaves each argmax where it was): only the
confidence changes, towards 1 for a factor above 1.
"""

from __future__ import annotations

import pytest
import torch

from trustser.models.sources import TrainedHeads


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--planted-logit-scale", type=float, default=1.0, help="multiply every head's logits by this")


def pytest_configure(config: pytest.Config) -> None:
    scale = config.getoption("planted_logit_scale")
    trained = TrainedHeads.heads  # every fold's head comes through it (`head(fold)` too)

    def overconfident(self: TrainedHeads, folds):
        heads = trained(self, folds)
        with torch.no_grad():
            for head in heads:
                head.classifier.weight.mul_(scale)
                head.classifier.bias.mul_(scale)
        return heads

    TrainedHeads.heads = overconfident
