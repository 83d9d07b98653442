"""Features that are not finite are never stored (so no head is ever trained on them), and a head with
non-finite weights is never cached (issue: hostile inputs, item 1)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.features.noise_corpus import NoiseCorpus
from trustser.cache.store import Cache
from trustser.encoders import create
from trustser.features.extraction import ExtractionSettings, NonFiniteFeatures, extract_features
from trustser.models.head import EmotionHead
from trustser.run.backbone_run import finite_weights


class _OneHugeUtterance(NoiseCorpus):
    """Noise bursts, one of them scaled to 1e20: finite samples whose features overflow."""

    def load_audio(self, utterance_id: str) -> np.ndarray:
        audio = super().load_audio(utterance_id)
        return audio * np.float32(1e20) if utterance_id == "n00005" else audio


def test_non_finite_features_stop_extraction_naming_the_utterance(tmp_path):
    corpus = _OneHugeUtterance(12)
    settings = ExtractionSettings(batch_seconds=4.0, shard_mib=0.05, loader_workers=0)
    with pytest.raises(NonFiniteFeatures, match="'n00005'"):
        extract_features(create("mfcc"), corpus, Cache(tmp_path), settings, progress=lambda line: None)
    assert not list(tmp_path.rglob("index.json"))  # no complete store: nothing downstream can read the features


def test_a_head_with_non_finite_weights_is_refused():
    head = EmotionHead(2, 4, 3)
    assert set(finite_weights(head, "k")) == set(head.state_dict())
    with torch.no_grad():
        head.classifier.weight[0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="classifier.weight"):
        finite_weights(head, "k")
