"""Where a run's models come from: our emotion head trained on an encoder's features per fold
(`TrainedHeads`), or a finished model audited as it is (`FinishedModelSource`). Evaluators ask a
source what it can do (`can_retrain`) instead of calling methods that refuse.

A finished model's run has every fold use the same head, the model's own, so the folds' test sets
cover each utterance once and the pillars need no special case: utility and fairness judge the
model's predictions, privacy attacks its hidden layers, penultimate representation and posteriors
(attackers still train and test on disjoint speakers of the folds), safety attacks the model end to
end, sustainability measures it. What needs the training recipe (membership inference against a head
trained on known members, DP retraining, training energy) is not applicable: the source says it
cannot retrain, and those evaluations skip.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from functools import cached_property
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import torch

from trustser.cache.store import Cache, content_key
from trustser.compute.energy import measure_energy, shares_of
from trustser.corpora.folds import Fold
from trustser.corpora.split import CorpusSplit
from trustser.encoders import create as create_encoder
from trustser.encoders.base import Encoder
from trustser.errors import ModelOutputError
from trustser.features.extraction import feature_key
from trustser.features.store import StoredFeatures
from trustser.models.context import RunContext
from trustser.models.finished.formats import load_finished_model
from trustser.models.finished.model import FinishedModel, ModelOutputs
from trustser.models.head import EmotionHead
from trustser.models.head_group import HeadJob, train_heads
from trustser.models.objectives import DIMENSIONAL_VERSION
from trustser.models.remote_heads import train_on_cluster
from trustser.models.training import TRAINING_VERSION, predict_logits


class ModelSource(Protocol):
    can_retrain: (
        bool  # whether evaluations may train new heads with the recipe (membership target, DP, training energy)
    )

    @property
    def encoder(self) -> Encoder: ...

    @property
    def features(self) -> StoredFeatures: ...

    def head(self, fold: Fold) -> EmotionHead: ...

    def heads(self, folds: list[Fold]) -> list[EmotionHead]: ...

    def head_key(self, fold: Fold) -> str: ...

    def deployment(self, fold: Fold) -> dict: ...


def finite_weights(head: EmotionHead, key: str) -> dict:
    """The head's weights, refused when any is NaN or infinite: such a head predicts one class and
    must never be cached and reused."""
    state = head.state_dict()
    bad = [name for name, tensor in state.items() if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if bad:
        raise FloatingPointError(
            f"head {key} trained to non-finite weights ({', '.join(bad)}): non-finite features? not cached"
        )
    return state


def _audited_attributes(split: CorpusSplit) -> tuple[str, ...]:
    """The attributes a finished model must predict: the corpus's, in a dimensional audit; else none."""
    return split.attribute_names if split.dimensional else ()


class TrainedHeads:
    """An encoder's features, cached, and our emotion head trained on them per fold, cached."""

    can_retrain = True

    def __init__(self, backbone: str, context: RunContext, *, encoder: Encoder | None = None):
        self.backbone, self.context = backbone, context
        self._given_encoder = encoder

    @property
    def split(self) -> CorpusSplit:
        return self.context.split

    @property
    def cache(self) -> Cache:
        return self.context.cache

    @cached_property
    def encoder(self) -> Encoder:
        return self._given_encoder if self._given_encoder is not None else create_encoder(self.backbone)

    @cached_property
    def features(self) -> StoredFeatures:
        return self.context.extract(self.encoder)

    @property
    def device(self) -> torch.device:
        return self.context.device

    def head_key(self, fold: Fold) -> str:
        """Content key of the fold's trained head: features, labels, split and every setting."""
        return content_key(
            step="train",
            version=TRAINING_VERSION,
            features=feature_key(self.encoder, self.split.corpus, self.context.extraction),
            labels=self.split.labels.tolist(),
            # a dimensional head learns the attributes; categorical heads keep the key they always had
            **(
                {"task": "dimensional", "objective": DIMENSIONAL_VERSION, "targets": self.split.targets.tolist()}
                if self.split.dimensional
                else {}
            ),
            # a sentence-disjoint fold trains on fewer utterances; other folds keep the key they always had
            fold=[
                fold.train_speakers,
                fold.dev_speakers,
                *([fold.held_out_sentences] if fold.held_out_sentences else ()),
            ],
            head=self.context.head_config.as_dict(),
            train=self.context.train_config.as_dict(),
            device=self.device.type,  # GPU kernels change the weights
        )

    def head(self, fold: Fold) -> EmotionHead:
        """The fold's trained head, from the cache when it was trained before."""
        return self.heads([fold])[0]

    def heads(self, folds: list[Fold]) -> list[EmotionHead]:
        """The folds' trained heads, from the cache where trained before; the others trained together
        (one read of the features per epoch for all, trustser.models.head_group), or with `--executor
        ray` one Ray task per fold (trustser.models.remote_heads), and each stored with its weights."""
        keys = [self.head_key(fold) for fold in folds]
        with contextlib.ExitStack() as locks:
            for key in sorted(set(keys)):  # in one order everywhere: two processes never wait on each other
                locks.enter_context(self.cache.lock("heads", key))
            missing = {
                key: fold for key, fold in zip(keys, folds) if not self.cache.intact(self.cache.path("heads", key))
            }
            if missing:
                # under `writing`: once storing a head has failed (a full disk), the next is not trained in vain
                with self.cache.writing():
                    self._train_folds(list(missing.values()), list(missing))
        return [self._stored_head(key) for key in keys]

    def _train_folds(self, folds: list[Fold], keys: list[str]) -> None:
        jobs = [
            HeadJob(
                self.split.train_rows(fold), self.split.dev_rows(fold), label=f"{self.backbone} fold {fold.index} head"
            )
            for fold in folds
        ]
        seconds = [self.features.audio_seconds(job.train_indices) for job in jobs]
        options = dict(
            num_classes=self.split.num_outputs,
            head_config=self.context.head_config,
            train_config=self.context.train_config,
            device=self.device,
            feature_memory=self.context.feature_memory,
        )
        if self.context.extraction.executor.distributed:
            trained = train_on_cluster(
                self.context.extraction.executor,
                self.features,
                self.split.targets,
                jobs,
                seconds,
                progress=self.context.progress,
                **options,
            )
        else:
            heads: list[EmotionHead] = []
            energy = measure_energy(
                lambda: heads.extend(
                    train_heads(self.features, self.split.targets, jobs, progress=self.context.progress, **options)
                ),
                sum(seconds),
                label=f"train {self.backbone}",
            )
            trained = list(zip(heads, shares_of(energy, seconds)))
        for key, (head, energy) in zip(keys, trained):
            metadata = {"energy": json.dumps(dataclasses.asdict(energy))}
            self.cache.save_tensors(self.cache.path("heads", key), finite_weights(head, key), metadata)

    def _stored_head(self, key: str) -> EmotionHead:
        head = EmotionHead(
            self.features.num_layers, self.features.hidden_size, self.split.num_outputs, self.context.head_config
        )
        head.load_state_dict(self.cache.load_tensors(self.cache.path("heads", key)))
        return head.eval()

    def cached_head(
        self, key: str, train: Callable[[], EmotionHead], *, audio_seconds: float | None = None
    ) -> EmotionHead:
        """The head stored under `key`, trained by `train()` and stored on first use.

        With `audio_seconds` (the training audio), training runs under codecarbon and its energy is
        stored with the weights (see `training_energy`).
        """
        path = self.cache.path("heads", key)
        with self.cache.lock("heads", key):
            if not self.cache.intact(path):
                # under `writing`: once storing a head has failed (a full disk), the next is not trained in vain
                with self.cache.writing():
                    self._train_and_store(path, key, train, audio_seconds)
        return self._stored_head(key)

    def _train_and_store(
        self, path: Path, key: str, train: Callable[[], EmotionHead], audio_seconds: float | None
    ) -> None:
        if audio_seconds is None:
            self.cache.save_tensors(path, finite_weights(train(), key))
            return
        trained: list[EmotionHead] = []
        energy = measure_energy(lambda: trained.append(train()), audio_seconds, label=f"train {self.backbone}")
        metadata = {"energy": json.dumps(dataclasses.asdict(energy))}
        self.cache.save_tensors(path, finite_weights(trained[0], key), metadata)

    def training_energy(self, fold: Fold) -> dict:
        """EnergyResult fields of training the fold's head, as measured when it was trained."""
        self.head(fold)
        return json.loads(self.cache.load_metadata(self.cache.path("heads", self.head_key(fold)))["energy"])

    def deployment(self, fold: Fold) -> dict:
        """What a fresh process needs to rebuild the released model (see sustainability.footprint)."""
        self.head(fold)  # trained and stored before a child process loads it
        shape = {
            "num_layers": self.features.num_layers,
            "hidden_size": self.features.hidden_size,
            "num_classes": self.split.num_outputs,
            "config": self.context.head_config.as_dict(),
        }
        return {"backbone": self.backbone, "head": str(self.cache.path("heads", self.head_key(fold))), "shape": shape}


class FinishedModelSource:
    """A finished model's encoder and head; the same head for every fold."""

    can_retrain = False

    def __init__(
        self, spec: str, context: RunContext, *, label_overrides: dict[str, str], model: FinishedModel | None = None
    ):
        self.spec, self.context = spec, context
        self.label_overrides = label_overrides
        self._loaded = model  # already loaded (the session reads its min_seconds before the corpus is final)
        self._failed: ModelOutputError | None = None

    @cached_property
    def model(self) -> FinishedModel:
        model = self._loaded or load_finished_model(
            self.spec,
            self.context.corpus.emotions,
            self.label_overrides,
            attributes=_audited_attributes(self.context.split),
        )
        for line in self._adjustments_at_load(model):
            self.context.progress(f"warning: model:{self.spec}: {line}")
        return model

    @property
    def loaded(self) -> bool:
        return "model" in self.__dict__

    @property
    def encoder(self):
        return self.model.encoder

    @cached_property
    def features(self) -> StoredFeatures:
        # a model's faulty answer stops every evaluation that needs its features: found once, not once per test
        if self._failed is not None:
            raise self._failed.with_traceback(None)
        try:
            return self.context.extract(self.encoder)
        except ModelOutputError as error:
            self._failed = error
            raise

    def head_key(self, fold: Fold) -> str:
        return content_key(
            step="finished-model",
            encoder=self.encoder.fingerprint(),
            head=self.model.head_fingerprint,
            groups=self.model.head.classifier.groups,
        )

    def head(self, fold: Fold) -> EmotionHead:
        return self.model.head.eval()

    def heads(self, folds: list[Fold]) -> list[EmotionHead]:
        return [self.head(fold) for fold in folds]

    def deployment(self, fold: Fold) -> dict:
        attributes = (
            {"attributes": list(_audited_attributes(self.context.split))} if self.context.split.dimensional else {}
        )
        return {
            "model": self.spec,
            "labels": self.label_overrides,
            "emotions": list(self.context.corpus.emotions),
            **attributes,
        }

    def adjustments(self, rows: np.ndarray | None = None) -> list[str]:
        """What the audit changed to judge the model, in words for the report: loading's adjustments and the
        labels left out or merged, with how many of the utterances `rows` (those predicted) each changed."""
        model = self.model
        if rows is None or not len(rows) or not (model.left_out or model.merged) or model.attributes:
            return self._adjustments_at_load(model)
        outputs = predict_logits(ModelOutputs(model.head), self.features, rows)
        emotion_of = torch.full((len(model.id2label),), -1, dtype=torch.long)  # model label -> audit emotion
        for emotion, group in enumerate(model.head.classifier.groups):
            emotion_of[group] = emotion
        own = emotion_of[outputs.argmax(1)]  # the emotion of the model's own top output (-1: left out)
        judged = model.head.classifier.merge(outputs).argmax(1)
        lines = list(model.adjustments)
        if model.left_out:
            lines.append(
                f"labels left out: {', '.join(model.left_out.values())} ({int((own < 0).sum())} of {len(rows)} "
                "utterances had one as their top output; each is judged on its runner-up among the audit's emotions)"
            )
        for group in model.merged:
            emotion = int(emotion_of[group[0]])
            changed = int((((own == emotion) != (judged == emotion)) & (own >= 0)).sum())
            lines.append(
                f"{self._merged(group)}; this changed the predicted emotion of {changed} of {len(rows)} utterances)"
            )
        return lines

    def _adjustments_at_load(self, model: FinishedModel) -> list[str]:
        """What the audit changed to judge `model`, in words, as known at load (no counts)."""
        lines = list(model.adjustments)
        if model.left_out and model.attributes:
            lines.append(
                f"outputs left out: {', '.join(model.left_out.values())} (attributes the corpus does not rate)"
            )
        elif model.left_out:
            lines.append(
                f"labels left out: {', '.join(model.left_out.values())} (outside the audit's emotions; an utterance "
                "whose top output is one of them is judged on its runner-up)"
            )
        lines += [f"{self._merged(group, model)})" for group in model.merged]
        return lines

    def _merged(self, group: list[int], model: FinishedModel | None = None) -> str:
        """`labels merged: exc, hap -> happy (probabilities summed`: the caller closes the parenthesis."""
        model = model or self.model
        emotion = self.context.corpus.emotions[model.head.classifier.groups.index(group)]
        return f"labels merged: {', '.join(model.id2label[i] for i in group)} -> {emotion} (probabilities summed"
