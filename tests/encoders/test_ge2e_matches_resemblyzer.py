"""The torch GE2E encoder reproduces Resemblyzer 0.1.4 step by step on a synthetic voiced signal.

Tolerances (float32): volume normalisation max |diff| < 1e-6 (waveform peak ~0.1; measured ~3e-8);
mel max |diff| <= 1e-5 x max mel (measured ~1e-7 absolute); embeddings max |diff| < 1e-4 and
cosine > 0.9999 (measured ~1e-7 and 1 - cosine ~1e-7).
"""

import numpy as np
import pytest
import torch

from trustser.encoders.ge2e import GE2EEncoder, normalize_volume

resemblyzer = pytest.importorskip("resemblyzer")
SR = 16000


def speech_like(seconds: float, level: float) -> np.ndarray:
    """A voiced 'utterance': 11 harmonics of a gliding 120-160 Hz pitch, amplitude-modulated at a
    syllable rate of 3 Hz."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(140 + 20 * np.sin(2 * np.pi * 0.7 * t)) / SR
    harmonics = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (level * harmonics * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


@pytest.fixture(scope="module")
def ours() -> GE2EEncoder:
    return GE2EEncoder().eval()


@pytest.fixture(scope="module")
def theirs():
    return resemblyzer.VoiceEncoder("cpu")


@pytest.mark.parametrize("level", [0.005, 0.02, 0.5], ids=["quiet", "medium", "loud (left unchanged)"])
def test_volume_normalisation(level):
    wave = speech_like(1.0, level)
    reference = resemblyzer.audio.normalize_volume(wave, -30, increase_only=True)
    normalised = normalize_volume(torch.from_numpy(wave)[None], torch.tensor([len(wave)]))[0].numpy()
    assert np.abs(normalised - reference).max() < 1e-6


def test_mel_spectrogram(ours):
    wave = resemblyzer.preprocess_wav(speech_like(3.0, 0.02))
    reference = resemblyzer.audio.wav_to_mel_spectrogram(wave)
    mel, _ = ours.mel(torch.from_numpy(wave)[None], torch.tensor([len(wave)]))
    assert mel.shape[1:] == reference.shape
    assert np.abs(mel[0].numpy() - reference).max() <= 1e-5 * reference.max()


@pytest.mark.parametrize("seconds", [1.2, 3.0, 4.1])
def test_utterance_embedding(ours, theirs, seconds):
    """1.2 s: one zero-padded window; 3.0 s and 4.1 s: several windows, with and without a padded last one."""
    wave = resemblyzer.preprocess_wav(speech_like(seconds, 0.02))
    reference = theirs.embed_utterance(wave)
    embedding = ours.utterance_embedding(wave)
    assert np.abs(embedding - reference).max() < 1e-4
    assert embedding @ reference / np.linalg.norm(embedding) / np.linalg.norm(reference) > 0.9999


def test_forward_last_layer_is_resemblyzers_partial_embedding(ours, theirs):
    """Frame 159 of layer 4 has seen exactly the first 1.6 s window, so it is Resemblyzer's first partial."""
    wave = resemblyzer.preprocess_wav(speech_like(3.0, 0.02))
    _, partials, _ = theirs.embed_utterance(wave, return_partials=True)
    with torch.no_grad():
        layers, _ = ours(torch.from_numpy(wave)[None], torch.tensor([len(wave)]))
    assert np.abs(layers[0, 3, 159].numpy() - partials[0]).max() < 1e-4
