"""Attacks with each fold a Ray task (white-box, black-box, transfer): the same successes, adversarial
audio and curves as in this process, whichever worker ran which fold; a unit's error names the node
and the unit."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from tests.scale_out.ray_runtime import fails_on_odd
from tests.scale_out.test_ray_extraction import LOCAL
from trustser.cache.store import Cache
from trustser.compute.executor import Executor
from trustser.compute.units_of_work import UnitFailure, map_units
from trustser.corpora.split import CorpusSplit
from trustser.features.extraction import Progress, stderr_progress
from trustser.models.context import RunContext
from trustser.models.training import TrainConfig
from trustser.pillars.safety.checks import (
    AttackSettings,
    BlackBoxSettings,
    TransferSettings,
    black_box_attack_audit,
    transfer_attack_audit,
    white_box_attack,
)
from trustser.run.backbone_run import trained_run

pytest.importorskip("ray", reason="Ray is not installed: pip install 'trustser[ray]'")
pytest.importorskip("torchattacks", reason="torchattacks is not installed: pip install 'torchattacks>=3.5' --no-deps")
ATTACKS = [  # (backbone, attack, per fold, curve budgets)
    ("mfcc", "FGSM", 8, (30.0,)),
    ("mfcc", "PGD", 6, ()),
    ("mfcc", "APGD", 4, ()),  # draws its start from the seed
    ("ge2e", "FGSM", 4, ()),
]


def runs(backbone: str, small_corpus, root, progress: Progress = stderr_progress):
    """The same trained run twice, local and on Ray (its progress lines to `progress`): the second cache
    holds the first's features and heads but no results, so the attacks run again."""
    split = CorpusSplit(small_corpus, small_corpus.folds(2, 0))
    recipe = TrainConfig(seed=0, max_epochs=1)  # any trained head will do: both runs share it
    local = trained_run(backbone, RunContext(split, Cache(root / "local"), recipe, extraction=LOCAL))
    _ = local.heads
    for kind in ("features", "heads"):
        shutil.copytree(root / "local" / kind, root / "ray" / kind)
    on_ray = dataclasses.replace(LOCAL, executor=Executor("ray"))
    return local, trained_run(
        backbone, RunContext(split, Cache(root / "ray"), recipe, extraction=on_ray, progress=progress)
    )


@pytest.mark.parametrize(("backbone", "attack", "per_fold", "curve"), ATTACKS)
def test_folds_on_ray_give_the_local_attack(backbone, attack, per_fold, curve, ray_runtime, small_corpus, tmp_path):
    lines = []
    local, on_ray = runs(backbone, small_corpus, tmp_path, progress=lines.append)
    settings = AttackSettings(budget_db=45.0, per_fold=per_fold, curve_db=curve)
    expected, got = (white_box_attack(run, settings, attack=attack, curve_per_fold=4) for run in (local, on_ray))
    assert got.n_attacked > 0 and got.n_total == 2 * per_fold
    for field in ("success_rate", "n_attacked", "n_success", "flipped", "curve", "snr_db_min", "snr_db_median"):
        np.testing.assert_equal(getattr(got, field), getattr(expected, field), err_msg=field)  # NaN == NaN here
    for ours, theirs in zip(got.adversarial, expected.adversarial, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    done = [line for line in lines if f"{attack}@45dB on {backbone} fold" in line]
    assert len(done) == 2 and all(" done by pid " in line for line in done)  # one task per fold


def test_a_failing_unit_names_its_node_and_itself(ray_runtime):
    ray = Executor("ray")
    assert map_units(ray, fails_on_odd, [(0,), (2,)], names=["zero", "two"]) == [0, 2]
    with pytest.raises(
        UnitFailure, match=r"unit three failed in worker pid \d+ on node .+/\w{8}: ValueError: odd value 3"
    ):
        map_units(ray, fails_on_odd, [(0,), (3,)], names=["unit zero", "unit three"])


def test_black_box_and_transfer_attacks_on_ray_match_local(ray_runtime, small_corpus, tmp_path):
    local, on_ray = runs("egemaps", small_corpus, tmp_path)  # gradients cannot reach it: these two apply
    black_box = BlackBoxSettings(budget_db=45.0, per_fold=4, max_queries=12)
    transfer = TransferSettings(attack="FGSM", budget_db=45.0, per_fold=6, surrogate="mfcc")
    for evaluate, settings in ((black_box_attack_audit, black_box), (transfer_attack_audit, transfer)):
        expected, got = evaluate(local, settings), evaluate(on_ray, settings)
        assert got.n_attacked > 0, evaluate.__name__
        for field in ("success_rate", "n_attacked", "n_success", "flipped", "snr_db_min", "snr_db_median"):
            np.testing.assert_equal(getattr(got, field), getattr(expected, field), err_msg=field)
        for ours, theirs in zip(got.adversarial, expected.adversarial, strict=True):
            np.testing.assert_array_equal(ours, theirs)
    assert got.attack == expected.attack == "FGSM transferred from mfcc"
