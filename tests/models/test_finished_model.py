"""A finished HF classifier, split into encoder and `FinishedHead`, computes what the model itself computes.

Tolerance: log-probabilities within 1e-4 absolute of the model's own `log_softmax(logits)` on the
checkpoint's feature-extractor input (float32; measured differences are ~1e-6).
"""

import numpy as np
import pytest
import torch

from tests.encoders.tiny_checkpoints import tiny_checkpoints  # noqa: F401  (session fixture)
from trustser.models.finished.huggingface import load_finished_model
from trustser.models.head import WaveformClassifier

EMOTIONS = ("neutral", "happy", "sad", "angry")
SR = 16000


def waves() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [(0.05 * rng.standard_normal(int(seconds * SR))).astype(np.float32) for seconds in (1.0, 0.43, 2.2)]


def reference_log_probabilities(directory, wave: np.ndarray) -> torch.Tensor:
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    model = AutoModelForAudioClassification.from_pretrained(directory, local_files_only=True).eval()
    inputs = AutoFeatureExtractor.from_pretrained(directory, local_files_only=True)(
        wave, sampling_rate=SR, return_tensors="pt"
    )
    with torch.no_grad():
        return torch.log_softmax(model(**inputs).logits, dim=-1)[0]


@pytest.mark.parametrize("name", ["wav2vec2_classifier", "whisper_classifier"])
def test_split_model_matches_the_checkpoint(tiny_checkpoints, name):  # noqa: F811
    finished = load_finished_model(f"hf:{tiny_checkpoints[name]}", EMOTIONS, {})
    model = WaveformClassifier(finished.encoder, finished.head).eval()
    for wave in waves():
        with torch.no_grad():
            ours = model(torch.from_numpy(wave)[None], torch.tensor([len(wave)]))[0]
        torch.testing.assert_close(ours, reference_log_probabilities(tiny_checkpoints[name], wave), atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", ["wav2vec2_classifier", "whisper_classifier"])
def test_gradient_reaches_the_waveform_of_a_finished_model(tiny_checkpoints, name):  # noqa: F811
    finished = load_finished_model(f"hf:{tiny_checkpoints[name]}", EMOTIONS, {})
    model = WaveformClassifier(finished.encoder, finished.head).eval()
    wave = torch.from_numpy(waves()[0])[None].requires_grad_(True)
    model(wave, torch.tensor([wave.shape[1]]))[0, 1].backward()
    assert torch.isfinite(wave.grad).all() and wave.grad.abs().sum() > 0


def test_labels_the_model_lacks_are_named(tiny_checkpoints):  # noqa: F811
    with pytest.raises(ValueError, match="calm"):
        load_finished_model(f"hf:{tiny_checkpoints['wav2vec2_classifier']}", ("neutral", "calm"), {})
