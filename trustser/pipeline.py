"""One backbone's trip through the audit: corpus -> encoder -> cached features -> per-fold heads.

`BackboneRun` computes each expensive piece on first use and caches it on disk; the pillar
evaluators take what they need from it (predictions, pooled features, the end-to-end model).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import torch

from trustser.cache import Cache, content_key
from trustser.corpora.base import Corpus
from trustser.corpora.folds import Fold
from trustser.encoders import create as create_encoder
from trustser.encoders.base import Encoder
from trustser.extraction import ExtractionSettings, Progress, extract_features, feature_key, stderr_progress
from trustser.feature_store import StoredFeatures
from trustser.heads import EmotionHead, HeadConfig, WaveformClassifier
from trustser.memory import release_free_memory
from trustser.sustainability.energy import measure_energy
from trustser.training import TRAINING_VERSION, TrainConfig, predict_logits, train_head


@dataclass(frozen=True)
class Predictions:
    """Test-set predictions of every fold, aligned row by row."""

    utterance_index: np.ndarray
    fold: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray

    def for_fold(self, fold: int) -> "Predictions":
        keep = self.fold == fold
        return Predictions(self.utterance_index[keep], self.fold[keep], self.y_true[keep], self.y_pred[keep])


def finite_weights(head: EmotionHead, key: str) -> dict:
    """The head's weights, refused when any is NaN or infinite: such a head predicts one class and
    must never be cached and reused."""
    state = head.state_dict()
    bad = [name for name, tensor in state.items() if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if bad:
        raise FloatingPointError(f"head {key} trained to non-finite weights ({', '.join(bad)}): non-finite features? not cached")
    return state


class BackboneRun:
    trains_heads = True  # False for a finished model audited as it is (see trustser.models.run)

    def __init__(
        self,
        backbone: str,
        corpus: Corpus,
        folds: list[Fold],
        cache: Cache,
        seed: int = 0,
        head_config: HeadConfig = HeadConfig(),
        encoder: Encoder | None = None,
        on_predictions: "Callable[[BackboneRun, Predictions], None] | None" = None,
        *,
        extraction: ExtractionSettings = ExtractionSettings(),
        progress: Progress = stderr_progress,
        max_epochs: int = TrainConfig.max_epochs,
    ):
        self.backbone = backbone
        self.corpus = corpus
        self.folds = folds
        self.cache = cache
        self.head_config = head_config
        self.train_config = TrainConfig(seed=seed, max_epochs=max_epochs)
        self._encoder = encoder
        self._on_predictions = on_predictions
        self.extraction, self.progress = extraction, progress

    @property
    def device(self):
        """Where extraction, head training, attacks and noise run (--device)."""
        return self.extraction.compute.device

    @cached_property
    def encoder(self) -> Encoder:
        return self._encoder if self._encoder is not None else create_encoder(self.backbone)

    @cached_property
    def features(self) -> StoredFeatures:
        return extract_features(self.encoder, self.corpus, self.cache, self.extraction, progress=self.progress)

    @cached_property
    def labels(self) -> np.ndarray:
        return self.corpus.labels()

    def indices(self, speakers: tuple[str, ...]) -> np.ndarray:
        wanted = set(speakers)
        return np.array([i for i, u in enumerate(self.corpus.utterances) if u.speaker in wanted], dtype=np.int64)

    def head_key(self, fold: Fold) -> str:
        """Content key of the fold's trained head: features, labels, split and every setting."""
        return content_key(
            step="train",
            version=TRAINING_VERSION,
            features=feature_key(self.encoder, self.corpus, self.extraction),
            labels=self.labels.tolist(),
            fold=[fold.train_speakers, fold.dev_speakers],
            head=self.head_config.as_dict(),
            train=self.train_config.as_dict(),
            device=self.device.type,  # GPU kernels change the weights
        )

    @cached_property
    def fingerprint(self) -> str:
        """Content key of the whole run (encoder, corpus, folds, heads): what its evaluations depend on."""
        return content_key(heads=[self.head_key(fold) for fold in self.folds], test=[f.test_speakers for f in self.folds])

    def head(self, fold: Fold) -> EmotionHead:
        """The fold's trained head, from the cache when it was trained before."""
        train = lambda: train_head(  # noqa: E731
            self.features,
            self.labels,
            self.indices(fold.train_speakers),
            self.indices(fold.dev_speakers),
            len(self.corpus.emotions),
            self.head_config,
            self.train_config,
            device=self.device,
            progress=lambda line: self.progress(f"{self.backbone} fold {fold.index} head: {line}"),
        )
        return self.cached_head(self.head_key(fold), train, self.features.audio_seconds(self.indices(fold.train_speakers)))

    def cached_head(self, key: str, train: Callable[[], EmotionHead], audio_seconds: float | None = None) -> EmotionHead:
        """The head stored under `key`, trained by `train()` and stored on first use.

        With `audio_seconds` (the training audio), training runs under codecarbon and its energy is
        stored with the weights (see `training_energy`).
        """
        path = self.cache.path("heads", key)
        with self.cache.lock("heads", key):
            if not self.cache.intact(path):
                if audio_seconds is None:
                    self.cache.save_tensors(path, finite_weights(train(), key))
                else:
                    trained: list[EmotionHead] = []
                    energy = measure_energy(lambda: trained.append(train()), audio_seconds, label=f"train {self.backbone}")
                    metadata = {"energy": json.dumps(dataclasses.asdict(energy))}
                    self.cache.save_tensors(path, finite_weights(trained[0], key), metadata)
        head = EmotionHead(self.features.num_layers, self.features.hidden_size, len(self.corpus.emotions), self.head_config)
        head.load_state_dict(self.cache.load_tensors(path))
        return head.eval()

    def require_training_recipe(self, what: str) -> None:
        """Evaluations that retrain the head (membership target, DP) call this; finished models refuse."""

    def training_energy(self, fold: Fold) -> dict:
        """EnergyResult fields of training the fold's head, as measured when it was trained."""
        self.head(fold)
        return json.loads(self.cache.load_metadata(self.cache.path("heads", self.head_key(fold)))["energy"])

    @cached_property
    def heads(self) -> list[EmotionHead]:
        heads = [self.head(fold) for fold in self.folds]
        release_free_memory()  # training's freed batches would otherwise add to the next step's peak
        return heads

    @cached_property
    def predictions(self) -> Predictions:
        rows, folds, predicted = [], [], []
        for fold, head in zip(self.folds, self.heads):
            test = self.indices(fold.test_speakers)
            rows.append(test)
            folds.append(np.full(len(test), fold.index))
            predicted.append(predict_logits(head, self.features, test).argmax(1).numpy())
        index = np.concatenate(rows)
        predictions = Predictions(index, np.concatenate(folds), self.labels[index], np.concatenate(predicted))
        release_free_memory()
        if self._on_predictions is not None:
            self._on_predictions(self, predictions)
        return predictions

    def sibling(self, backbone: str) -> "BackboneRun":
        """The same corpus, folds, cache, seed and head recipe with another backbone (e.g. an attack surrogate)."""
        return BackboneRun(backbone, self.corpus, self.folds, self.cache, self.train_config.seed, self.head_config,
                           extraction=self.extraction, progress=self.progress, max_epochs=self.train_config.max_epochs)

    def waveform_model(self, fold: Fold) -> WaveformClassifier:
        """Encoder and the fold's head as one model from waveforms to logits."""
        model = WaveformClassifier(self.encoder, self.heads[fold.index]).to(self.device).eval()
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        return model

    def deployment(self) -> dict:
        """What a fresh process needs to rebuild the released model (see sustainability.footprint)."""
        fold = self.folds[0]
        self.head(fold)  # trained and stored before a child process loads it
        shape = {"num_layers": self.features.num_layers, "hidden_size": self.features.hidden_size,
                 "num_classes": len(self.corpus.emotions), "config": self.head_config.as_dict()}
        return {"backbone": self.backbone, "head": str(self.cache.path("heads", self.head_key(fold))), "shape": shape}

    def column(self, field: str, index: np.ndarray) -> np.ndarray:
        return self.corpus.column(field)[index]
