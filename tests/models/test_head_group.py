"""Heads trained together: the same weights as alone, resident or streamed; packed frames give the module's logits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import trustser.models.head_group as head_group
from tests.features.noise_corpus import NoiseCorpus
from trustser.cache.store import Cache
from trustser.compute.energy import EnergyResult, combined_energy, shares_of
from trustser.encoders import create
from trustser.features.extraction import ExtractionSettings, extract_features
from trustser.features.frames import LayerFeatures
from trustser.features.resident import prefetched_blocks, read_block
from trustser.models.head import EmotionHead, HeadConfig
from trustser.models.head_group import HeadJob, train_heads
from trustser.models.packed import packed_logits
from trustser.models.recipe import TrainConfig
from trustser.models.training import predict_logits, train_head
from trustser.pytest_plugin.settings import MIN_FEATURE_MEMORY_GIB

HEAD = HeadConfig(conv_dim=8, mlp_dim=8)
RECIPE = TrainConfig(learning_rate=1e-2, max_epochs=8, patience=3, batch_size=8)


def _separable(n: int = 96, layers: int = 3, hidden: int = 8) -> tuple[LayerFeatures, np.ndarray]:
    """Frames whose first dimensions carry the label: a head that trains at all separates them."""
    generator = torch.Generator().manual_seed(0)
    counts = torch.randint(3, 30, (n,), generator=generator)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    labels = np.arange(n) % 4
    frames = torch.randn(int(offsets[-1]), layers, hidden, generator=generator)
    owner = torch.repeat_interleave(torch.arange(n), counts)
    frames[:, :, :4] += 3.0 * torch.nn.functional.one_hot(torch.as_tensor(labels)[owner], 4)[:, None, :]
    return LayerFeatures([f"u{i}" for i in range(n)], frames * 5 + 2, offsets, samples=counts * 160), labels


def _jobs(n: int, count: int = 3) -> list[HeadJob]:
    rng = np.random.default_rng(1)
    rows = [rng.permutation(n) for _ in range(count)]
    return [HeadJob(np.sort(r[: n // 2]), np.sort(r[n // 2 : n // 2 + n // 4])) for r in rows]


def _same(a: EmotionHead, b: EmotionHead) -> bool:
    return all(torch.equal(a.state_dict()[name], value) for name, value in b.state_dict().items())


@pytest.mark.parametrize("pooling", ["mean", "attentive"])
def test_packed_frames_give_the_modules_logits(pooling):
    features, _ = _separable(24)
    head = EmotionHead(3, 8, 4, HeadConfig(conv_dim=8, mlp_dim=8, pooling=pooling))
    head.fit_standardisation(torch.randn(3, 8), torch.rand(3, 8) + 0.5)
    with torch.no_grad():
        head.layer_logits.normal_()
    rows = np.random.default_rng(0).permutation(24)
    padded = head.eval()(*features.batch(rows))
    torch.testing.assert_close(packed_logits(head, read_block(features, rows), rows), padded, rtol=1e-5, atol=1e-6)


def test_heads_together_have_the_weights_of_heads_alone_and_learn():
    features, labels = _separable()
    jobs = _jobs(len(labels))
    together = train_heads(features, labels, jobs, num_classes=4, head_config=HEAD, train_config=RECIPE)
    for job, head in zip(jobs, together):
        alone = train_head(
            features, labels, job.train_indices, job.dev_indices, num_classes=4, head_config=HEAD, train_config=RECIPE
        )
        assert _same(head, alone)
        test = np.setdiff1d(np.arange(len(labels)), job.train_indices)
        assert (predict_logits(head, features, test).argmax(1).numpy() == labels[test]).mean() > 0.6
    assert not _same(together[0], together[1])  # each on its own rows


def test_a_recipe_that_cannot_learn_stays_at_chance():
    """The control of the test above: with the labels shuffled the same loop learns nothing."""
    features, labels = _separable()
    shuffled = np.random.default_rng(0).permutation(labels)
    [job] = _jobs(len(labels), 1)
    [head] = train_heads(features, shuffled, [job], num_classes=4, head_config=HEAD, train_config=RECIPE)
    test = np.setdiff1d(np.arange(len(labels)), job.train_indices)
    assert (predict_logits(head, features, test).argmax(1).numpy() == shuffled[test]).mean() < 0.45


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    corpus = NoiseCorpus(48)
    settings = ExtractionSettings(batch_seconds=6.0, shard_mib=0.05, loader_workers=0)
    features = extract_features(create("mfcc"), corpus, Cache(tmp_path_factory.mktemp("c")), settings)
    return features, np.arange(48) % 4


def test_blocks_read_from_the_store_hold_each_utterances_frames(store):
    features, _ = store
    assert len(features.shards) > 2
    rows = np.random.default_rng(0).permutation(48)[:30]
    block = read_block(features, rows)
    for row in rows:
        start, count = block.span(row)
        np.testing.assert_array_equal(block.frames[start : start + count].numpy(), features.utterance_frames(row))
    groups = [rows[:10], rows[10:]]
    for group, streamed in zip(groups, prefetched_blocks(features, groups)):
        assert sorted(streamed.rows.tolist()) == sorted(group.tolist())


def test_float16_stores_are_read_into_float32_blocks(tmp_path, monkeypatch):
    import trustser.features.resident as resident

    settings = ExtractionSettings(batch_seconds=6.0, shard_mib=0.05, loader_workers=0, feature_dtype="float16")
    features = extract_features(create("mfcc"), NoiseCorpus(16), Cache(tmp_path), settings)
    monkeypatch.setattr(resident, "MAX_READ_BYTES", 1000)  # runs longer than one read
    block = read_block(features, np.arange(16))
    assert block.frames.dtype == torch.float32
    for row in range(16):
        start, count = block.span(row)
        np.testing.assert_array_equal(block.frames[start : start + count].numpy(), features.utterance_frames(row))


def test_streamed_and_resident_features_train_the_same_weights(store, monkeypatch):
    features, labels = store
    jobs = _jobs(48)
    resident = train_heads(features, labels, jobs, num_classes=4, head_config=HEAD, train_config=RECIPE)
    frame = features.num_layers * features.hidden_size * 4
    monkeypatch.setattr(head_group, "STREAM_BLOCK_BYTES", 400 * frame)  # several blocks per epoch
    monkeypatch.setattr(head_group, "EXTENT_BYTES", 60 * frame)
    lines: list[str] = []
    small = train_heads(
        features, labels, jobs, num_classes=4, head_config=HEAD, train_config=RECIPE, progress=lines.append
    )
    large = train_heads(
        features,
        labels,
        jobs,
        num_classes=4,
        head_config=HEAD,
        train_config=RECIPE,
        feature_memory=0,
        progress=lines.append,
    )
    assert len(head_group.epoch_blocks(features, 1, 0)) > 3
    assert "resident" in lines[0] and "streamed" in lines[-1]
    for b, c in zip(small, large):
        assert _same(b, c)  # the budget changes the speed, never the weights
    assert not _same(resident[0], small[0])  # the block size is part of the recipe


def test_a_group_measurement_splits_into_shares_that_combine_back():
    whole = EnergyResult(3.0, 1.5, 3.0 / (60 / 3600), 1.5 / (60 / 3600), 12.0, 60.0, "TDP", "cpu", "USA", "train")
    parts = shares_of(whole, [10.0, 20.0, 30.0])
    assert [p.audio_seconds for p in parts] == [10.0, 20.0, 30.0]
    assert all(p.kwh_per_audio_hour == whole.kwh_per_audio_hour for p in parts)
    combined = combined_energy(parts, "train")
    for field in ("kwh", "kg_co2eq", "kwh_per_audio_hour", "duration_s", "audio_seconds"):
        assert getattr(combined, field) == pytest.approx(getattr(whole, field)), field
    assert dataclasses.replace(combined, label=whole.label).power_source == whole.power_source


def test_the_options_least_feature_memory_is_two_streamed_blocks():
    assert MIN_FEATURE_MEMORY_GIB * 2**30 == head_group.MIN_FEATURE_MEMORY


def test_streaming_holds_two_blocks_whatever_the_corpus(store, monkeypatch):
    """The bound `MIN_FEATURE_MEMORY` promises: when a block is read, at most one other is alive (the one in use)."""
    import weakref

    import trustser.features.resident as resident

    features, labels = store
    frame = features.num_layers * features.hidden_size * 4
    monkeypatch.setattr(head_group, "STREAM_BLOCK_BYTES", 400 * frame)
    monkeypatch.setattr(head_group, "EXTENT_BYTES", 60 * frame)
    alive: list[weakref.ref] = []
    most = []
    original = resident.read_block

    def counted(source, rows):
        most.append(sum(ref() is not None for ref in alive))
        block = original(source, rows)
        alive.append(weakref.ref(block.frames))
        return block

    monkeypatch.setattr(resident, "read_block", counted)
    train_heads(features, labels, _jobs(48), num_classes=4, head_config=HEAD, train_config=RECIPE, feature_memory=0)
    assert len(most) > 10
    assert max(most) == 1
