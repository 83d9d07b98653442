"""What every run of one audit shares, in one frozen object: the corpus split, the cache, the recipe of the
heads trained for evaluations, how features are extracted and where progress lines go.

An audit session builds one `RunContext` and hands it whole to each model source and run
(trustser.models.sources, trustser.run.backbone_run); a run's sibling (an attack's surrogate backbone)
gets the same one, so it trains on the same split, cache and recipe.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from trustser.cache.store import Cache
from trustser.corpora.base import Corpus
from trustser.corpora.split import CorpusSplit
from trustser.encoders.base import Encoder
from trustser.features.extraction import ExtractionSettings, Progress, extract_features, stderr_progress
from trustser.features.store import StoredFeatures
from trustser.models.head import HeadConfig
from trustser.models.training import TrainConfig


@dataclass(frozen=True, eq=False)  # compared by identity: a split and a cache have no value to compare
class RunContext:
    split: CorpusSplit
    cache: Cache
    train_config: TrainConfig  # the recipe of the heads trained for evaluations (its seed seeds them all)
    head_config: HeadConfig = HeadConfig()
    extraction: ExtractionSettings = ExtractionSettings()
    progress: Progress = stderr_progress
    feature_memory: int | None = None  # --feature-memory, bytes: resident training features' most (None: half the free)

    @property
    def corpus(self) -> Corpus:
        return self.split.corpus

    @property
    def device(self) -> torch.device:
        """Where extraction, head training, attacks and noise run (--device)."""
        return self.extraction.compute.device

    def extract(self, encoder: Encoder) -> StoredFeatures:
        """The encoder's features of the corpus, from the cache when they were extracted before."""
        return extract_features(encoder, self.corpus, self.cache, self.extraction, progress=self.progress)
