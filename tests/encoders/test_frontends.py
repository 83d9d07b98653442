"""The torch frontends against librosa 0.11 and scipy on a random 1 s signal.

Tolerance: max |ours - reference| <= 1e-5 x max |reference| (float32 throughout; measured ~2e-7 for
spectra and ~3e-7 for MFCCs). DCT and deltas are compared at 1e-6 / 1e-5 absolute on unit-scale data.
"""

import librosa
import numpy as np
import pytest
import scipy.fft
import scipy.signal
import torch

from trustser.encoders import frontends

SR = 16000
RELATIVE = 1e-5


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    return (0.1 * np.random.default_rng(0).standard_normal(SR)).astype(np.float32)


def assert_close(ours: np.ndarray, reference: np.ndarray) -> None:
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).max() <= RELATIVE * np.abs(reference).max()


@pytest.mark.parametrize("n_fft, hop, win_length", [(400, 160, None), (512, 128, 400)])
def test_stft_power_matches_librosa(signal, n_fft, hop, win_length):
    ours = frontends.stft_power(torch.from_numpy(signal), n_fft, hop, win_length)
    reference = np.abs(librosa.stft(signal, n_fft=n_fft, hop_length=hop, win_length=win_length)) ** 2
    assert_close(ours.numpy().T, reference)
    assert ours.shape[0] == int(frontends.num_frames(torch.tensor(len(signal)), hop))


def test_mel_spectrogram_matches_librosa(signal):
    mel, frame_lengths = frontends.MelSpectrogram(SR, 400, 160, 40)(torch.from_numpy(signal)[None], torch.tensor([SR]))
    reference = librosa.feature.melspectrogram(y=signal, sr=SR, n_fft=400, hop_length=160, n_mels=40)
    assert_close(mel[0].numpy().T, reference)
    assert frame_lengths.tolist() == [reference.shape[1]]


def test_mfcc_matches_librosa_without_top_db(signal):
    power = frontends.stft_power(torch.from_numpy(signal), 400, 160)
    ours = frontends.mfcc(frontends.log_mel(power, frontends.mel_filterbank(SR, 400, 40)), n_mfcc=20)
    mel = librosa.feature.melspectrogram(y=signal, sr=SR, n_fft=400, hop_length=160, n_mels=40)
    reference = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=None), n_mfcc=20)
    assert_close(ours.numpy().T, reference)


def test_dct_matrix_is_scipy_orthonormal_dct_ii():
    x = np.random.default_rng(1).standard_normal((40, 7))
    ours = frontends.dct_ii_ortho(40).double().numpy() @ x
    assert np.abs(ours - scipy.fft.dct(x, type=2, norm="ortho", axis=0)).max() < 1e-6


@pytest.mark.parametrize("order", [1, 2])
def test_deltas_match_librosa_interp_mode_everywhere(order):
    """Edges included: for polyorder == deriv, interp mode's edge values are exact by construction."""
    x = np.random.default_rng(2).standard_normal((5, 37)).astype(np.float32)
    ours = frontends.deltas(torch.from_numpy(x.T)[None], order=order)[0].numpy().T
    assert np.abs(ours - librosa.feature.delta(x, width=9, order=order)).max() < 1e-5


def test_deltas_of_short_utterances_replicate_edges():
    """librosa rejects fewer frames than the width; we fall back to savgol's "nearest" mode."""
    x = np.random.default_rng(3).standard_normal((5, 6)).astype(np.float32)
    ours = frontends.deltas(torch.from_numpy(x.T)[None])[0].numpy().T
    reference = scipy.signal.savgol_filter(x, 9, 1, deriv=1, mode="nearest", axis=-1)
    assert np.abs(ours - reference).max() < 1e-5


def test_batched_deltas_see_only_their_own_frames():
    rng = np.random.default_rng(4)
    lengths = [30, 12, 5]
    batch = torch.from_numpy(rng.standard_normal((3, 30, 4)).astype(np.float32))
    out = frontends.deltas(batch, torch.tensor(lengths), order=2)
    for row, length in enumerate(lengths):
        alone = frontends.deltas(batch[row : row + 1, :length], order=2)[0]
        assert torch.equal(out[row, :length], alone)
        assert not out[row, length:].any()
