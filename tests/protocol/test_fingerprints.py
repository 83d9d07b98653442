"""Audio fingerprints: one recording matches itself through another container, sample rate or gain;
distinct utterances of the synthetic corpus (the same sentence by the same voice in another emotion
included) do not match."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile
import soxr

from trustser.pillars.protocol.fingerprints import (
    MATCH_BIT_ERROR_RATE,
    MIN_SAMPLES,
    RATE,
    bit_error_rates,
    fingerprint,
    matching_pairs,
)


def round_trip(wave: np.ndarray, rate: int, container: str, subtype: str, gain: float = 1.0) -> np.ndarray:
    """`wave` (at RATE) scaled, resampled to `rate`, written as `container` and read back at RATE, as the
    audit's decoder does (soundfile, then soxr)."""
    moved = soxr.resample(gain * wave, RATE, rate) if rate != RATE else gain * wave
    encoded = io.BytesIO()
    soundfile.write(encoded, moved.astype(np.float32), rate, format=container, subtype=subtype)
    encoded.seek(0)
    decoded, decoded_rate = soundfile.read(encoded, dtype="float32")
    return soxr.resample(decoded, decoded_rate, RATE) if decoded_rate != RATE else decoded


COPIES = {
    "44.1 kHz 16-bit WAV": (44100, "WAV", "PCM_16", 1.0),
    "8 kHz WAV": (8000, "WAV", "PCM_16", 1.0),
    "22.05 kHz FLAC at -6 dB": (22050, "FLAC", "PCM_16", 0.5),
    "-26 dB": (RATE, "WAV", "FLOAT", 0.05),
    "MP3 at 44.1 kHz": (44100, "MP3", "MPEG_LAYER_III", 1.0),
    "Ogg Vorbis": (RATE, "OGG", "VORBIS", 1.0),
}


@pytest.mark.parametrize("copy", COPIES, ids=list(COPIES))
def test_a_copy_in_another_container_rate_or_gain_matches_its_original(small_corpus, copy):
    waves = [small_corpus.load_audio(u.id) for u in small_corpus.utterances[::9]]
    for wave in waves:
        original, copied = fingerprint(wave), fingerprint(round_trip(wave, *COPIES[copy]))
        [rate] = bit_error_rates(original, copied.words[None], copied.active[None])
        assert rate <= MATCH_BIT_ERROR_RATE / 1.5, (copy, rate)  # with a margin
        assert matching_pairs([original, copied]) == [(0, 1, pytest.approx(rate, abs=1e-4))]


def test_distinct_utterances_never_match(small_corpus):
    prints = [fingerprint(small_corpus.load_audio(u.id)) for u in small_corpus.utterances]
    assert all(p is not None for p in prints)
    assert matching_pairs(prints) == []
    # the closest distinct pair is far from the bound: compare every pair, lengths ignored
    words, active = np.stack([p.words for p in prints]), np.stack([p.active for p in prints])
    closest = min(bit_error_rates(p, words[i + 1 :], active[i + 1 :]).min() for i, p in enumerate(prints[:-1]))
    assert closest > 1.2 * MATCH_BIT_ERROR_RATE


def test_padding_with_silence_leaves_the_fingerprint_as_it_was(small_corpus):
    wave = small_corpus.load_audio(small_corpus.utterances[0].id)
    padded = np.concatenate([np.zeros(4000, np.float32), wave, np.zeros(800, np.float32)])
    assert np.array_equal(fingerprint(padded).words, fingerprint(wave).words)


def test_silent_or_too_short_audio_has_no_fingerprint():
    assert fingerprint(np.zeros(RATE, np.float32)) is None
    assert fingerprint(np.ones(MIN_SAMPLES - 1, np.float32)) is None
    assert fingerprint(np.zeros(0, np.float32)) is None
