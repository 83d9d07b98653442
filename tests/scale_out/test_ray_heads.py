"""Heads trained as Ray tasks, one per fold: the local executor's weights, utility values and verdicts."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
import torch

from tests.scale_out.test_ray_extraction import LOCAL
from trustser.cache.store import Cache
from trustser.compute.executor import Executor
from trustser.corpora.split import CorpusSplit
from trustser.gates.thresholds import Gate
from trustser.models.context import RunContext
from trustser.models.recipe import TrainConfig
from trustser.pillars.sustainability.checks import training_energy
from trustser.pillars.utility.checks import utility
from trustser.run.backbone_run import trained_run

pytest.importorskip("ray", reason="Ray is not installed: pip install 'trustser[ray]'")
UAR_GATE = Gate("utility.uar", "min", 0.60)


def test_heads_trained_on_ray_equal_the_local_executors(ray_runtime, small_corpus, tmp_path):
    split = CorpusSplit(small_corpus, small_corpus.folds(2, 0))
    recipe = TrainConfig(seed=0, max_epochs=2)
    local = trained_run("mfcc", RunContext(split, Cache(tmp_path / "local"), recipe, extraction=LOCAL))
    _ = local.heads
    shutil.copytree(tmp_path / "local" / "features", tmp_path / "ray" / "features")  # the heads train again
    lines: list[str] = []
    on_ray = trained_run(
        "mfcc",
        RunContext(
            split,
            Cache(tmp_path / "ray"),
            recipe,
            extraction=dataclasses.replace(LOCAL, executor=Executor("ray")),
            progress=lines.append,
        ),
    )
    for ours, theirs in zip(on_ray.heads, local.heads, strict=True):
        for name, value in theirs.state_dict().items():
            assert torch.equal(ours.state_dict()[name], value), name
    done = [line for line in lines if " head (" in line and " done by pid " in line]
    assert len(done) == 2  # one task per fold
    expected, got = utility(local), utility(on_ray)
    assert got == expected
    assert UAR_GATE.judge(got.uar, "ray").verdict == UAR_GATE.judge(expected.uar, "local").verdict
    assert training_energy(on_ray).audio_seconds == pytest.approx(training_energy(local).audio_seconds)
