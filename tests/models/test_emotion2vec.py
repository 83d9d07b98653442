"""`--backbone emotion2vec:DIR` and `--model emotion2vec:DIR`: a tiny random emotion2vec in FunASR's layout
(trustser.encoders.tiny_emotion2vec), loaded through the registry and `load_finished_model` as users' copies
are, gives the features and scores FunASR's own `generate` gives, maps emotion2vec+'s labels, refuses a
checkpoint that does not match its config, and leaves the process's random streams and threads as they were.
Skipped without the extra.
"""

from __future__ import annotations

import importlib.util
import logging
import random

import numpy as np
import pytest
import torch

from trustser.encoders import create
from trustser.encoders.emotion2vec import auto_model_class
from trustser.encoders.tiny_emotion2vec import save_tiny_emotion2vec
from trustser.errors import SpecError
from trustser.models.finished.formats import load_finished_model
from trustser.models.finished.model import ModelOutputs

# find_spec, not importorskip: importing funasr (~15 s) at collection would cost every xdist worker that time
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("funasr") is None,
    reason="the emotion2vec extra is not installed: pip install 'trustser[emotion2vec]'",
)

EMOTIONS = ("neutral", "happy", "sad", "angry")


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("emotion2vec")
    return {
        "plus": save_tiny_emotion2vec(root / "plus", classifier=True),
        "base": save_tiny_emotion2vec(root / "base", classifier=False),
    }


@pytest.fixture(scope="module")
def funasr_model(folders):
    """FunASR's own AutoModel on the finished tiny model: the reference."""
    return auto_model_class()(model=str(folders["plus"]), device="cpu", disable_update=True, ncpu=1, log_level="ERROR")


def wave(seconds: float = 1.3) -> torch.Tensor:
    return 0.05 * torch.randn(int(seconds * 16000), generator=torch.Generator().manual_seed(0))


def test_the_backbone_gives_funasrs_frame_features_in_its_last_layer(folders, funasr_model):
    encoder = create(f"emotion2vec:{folders['base']}")
    assert (encoder.num_layers, encoder.hidden_size) == (3, 32)  # two blocks' input and outputs
    with torch.no_grad():
        layers, frames = encoder(wave()[None], torch.tensor([len(wave())]))
    reference = funasr_model.generate(wave().numpy(), granularity="frame", disable_pbar=True)[0]["feats"]
    assert frames.tolist() == [reference.shape[0]]  # the extra tokens removed
    torch.testing.assert_close(layers[0, -1], torch.from_numpy(reference), atol=1e-5, rtol=0)


def test_the_finished_model_gives_funasrs_scores_over_its_labels(folders, funasr_model):
    finished = load_finished_model(f"emotion2vec:{folders['plus']}", EMOTIONS, {})
    # the masked `unuse` output is dropped; labels by their English part
    assert list(finished.id2label.values()) == [
        *("angry", "disgusted", "fearful", "happy", "neutral", "other", "sad", "surprised", "<unk>")
    ]
    assert sorted(finished.left_out.values()) == ["<unk>", "disgusted", "fearful", "other", "surprised"]
    with torch.no_grad():
        layers, frames = finished.encoder(wave()[None], torch.tensor([len(wave())]))
        ours = torch.softmax(ModelOutputs(finished.head)(layers, frames)[0], dim=-1)
    result = funasr_model.generate(wave().numpy(), granularity="utterance", extract_embedding=False, disable_pbar=True)[
        0
    ]
    assert result["labels"][0] == "生气/angry" and len(result["scores"]) == len(ours)
    torch.testing.assert_close(ours, torch.tensor(result["scores"]), atol=1e-5, rtol=0)


def test_a_model_without_a_classifier_is_pointed_to_the_backbone(folders):
    with pytest.raises(SpecError, match=r"no classifier .* --backbone emotion2vec:"):
        load_finished_model(f"emotion2vec:{folders['base']}", EMOTIONS, {})


def test_a_checkpoint_that_does_not_match_its_config_is_refused(folders, tmp_path):
    broken = save_tiny_emotion2vec(tmp_path / "broken", classifier=False)
    state = torch.load(broken / "model.pt", weights_only=True)
    del state["model"]["blocks.1.mlp.fc1.weight"]  # FunASR would warn and leave it random
    torch.save(state, broken / "model.pt")
    with pytest.raises(SpecError, match=r"lacks 1 weights .*blocks\.1\.mlp\.fc1\.weight"):
        create(f"emotion2vec:{broken}")


def seeded() -> None:
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)


def test_loading_leaves_the_random_streams_threads_and_logging_alone(folders):
    seeded()
    expected = random.random(), np.random.rand(), torch.rand(1).item()
    seeded()
    threads, handlers = torch.get_num_threads(), list(logging.getLogger().handlers)
    create(f"emotion2vec:{folders['base']}")
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected  # FunASR reseeds all three
    assert torch.get_num_threads() == threads and logging.getLogger().handlers == handlers
