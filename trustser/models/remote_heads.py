"""Heads trained on a Ray cluster (`--executor ray`): one task per head, each reading the shared store.

A head trained alone has the weights it has when trained beside the other folds' heads
(trustser.models.head_group), so spreading the folds over tasks (a GPU each where the cluster has
GPUs) changes no weight, value or verdict; the store must sit on a filesystem every node sees, as for
extraction (docs/scale.md). Each task measures its own training energy, in the worker.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from trustser.compute.energy import EnergyResult, measure_energy
from trustser.compute.executor import Executor
from trustser.compute.units_of_work import map_units
from trustser.features.store import StoredFeatures
from trustser.models.head import EmotionHead, HeadConfig
from trustser.models.head_group import HeadJob, train_heads
from trustser.models.recipe import TrainConfig


def train_on_cluster(
    executor: Executor,
    features: StoredFeatures,
    labels: np.ndarray,
    jobs: list[HeadJob],
    audio_seconds: list[float],
    *,
    num_classes: int,
    head_config: HeadConfig,
    train_config: TrainConfig,
    device: torch.device | str,
    feature_memory: int | None,
    progress: Callable[[str], None],
) -> list[tuple[EmotionHead, EnergyResult]]:
    """Each job's head and the energy its task measured, in the jobs' order."""
    options = {
        "num_classes": num_classes,
        "head_config": head_config,
        "train_config": train_config,
        "device": torch.device(device).type,
        "feature_memory": feature_memory,
    }
    units = [(str(features.directory), labels, job, seconds, options) for job, seconds in zip(jobs, audio_seconds)]
    names = [f"{job.label} ({len(job.train_indices)} utterances)" for job in jobs]
    results = map_units(executor, _train_one, units, names=names, progress=progress)
    trained = []
    for state, energy in results:
        head = EmotionHead(features.num_layers, features.hidden_size, num_classes, head_config)
        head.load_state_dict(state)
        trained.append((head.eval(), EnergyResult(**energy)))
    return trained


def _train_one(directory: str, labels: np.ndarray, job: HeadJob, audio_seconds: float, options: dict):
    """In a Ray worker: the job's head trained on the store at `directory`; (its weights, its energy's fields)."""
    features = StoredFeatures.open(Path(directory))
    heads: list[EmotionHead] = []
    energy = measure_energy(
        lambda: heads.extend(train_heads(features, labels, [job], **options)), audio_seconds, label=f"train {job.label}"
    )
    return heads[0].state_dict(), dataclasses.asdict(energy)
