"""Content fingerprints of decoded audio, and the pairs of utterances that are one recording.

A fingerprint must survive what happens to a copied file (another container or codec, another
sample rate, another gain) yet tell apart two takes of one sentence by one speaker. The audio, at
16 kHz, is trimmed to where it starts and ends (relative to its peak, so gain does not move the cut)
and read at `FRAMES` positions spread evenly over it. At each position the log energies of `BANDS`
mel bands between 100 and 3800 Hz (what an 8 kHz or a lossy copy keeps) give two bits per pair of
neighbouring bands, as in Haitsma and Kalker's (2002) audio fingerprint: which of the two is louder
(the spectral shape: pitch and formants), and whether their difference grew since the frame one hop
earlier (the recording's own fluctuation, which a copy keeps and another take does not). Differences
of log energies do not change with gain. Positions where either recording is near silence carry no
bits of their own (silence would agree with silence); a position loud in one and silent in the other
counts as half its bits wrong.

Two utterances are one recording when their trimmed lengths agree (within `LENGTH_TOLERANCE`) and
their bit error rate is at most `MATCH_BIT_ERROR_RATE`. On the default synthetic corpus distinct
utterances of similar length differ on at least 27% of their bits (two emotions of one sentence by
one speaker come closest), while a copy resampled through 8 kHz, gain-changed, or re-encoded as FLAC,
MP3 or Ogg Vorbis differs on at most about 10% (tests/protocol/test_fingerprints.py).

Each fingerprint is `FRAMES` positions of 128 bits (1 KiB) whatever the utterance's length, and audio
is decoded one utterance at a time, so fingerprinting a corpus holds 1 KiB per utterance in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trustser.corpora.audio import load_waveform
from trustser.corpora.base import Corpus

RATE = 16000  # Hz: every fingerprint is computed at this rate, whatever the file's
FRAME, HOP = 2048, 256  # samples: 128 ms windows (resolving the harmonics of a voice); frames compared 16 ms apart
BANDS = 65  # mel bands, so 64 neighbouring pairs: 64 shape bits and 64 change bits per position
LOW_HZ, HIGH_HZ = 100.0, 3800.0
FRAMES = 64  # positions read per utterance
TRIM = 0.01  # audio starts and ends where it first and last reaches 1% of its peak (-40 dB)
FLOOR = 1e-6  # band powers below this share of the loudest (-60 dB) are flattened into silence
ACTIVE_DB = 30.0  # a position is silent when its energy is more than 30 dB below the loudest position's
MATCH_BIT_ERROR_RATE = 0.18
"""Largest share of differing bits for two fingerprints to be one recording."""
LENGTH_TOLERANCE = 0.02  # trimmed lengths of one recording agree within 2% (plus `LENGTH_SLACK`)
LENGTH_SLACK = 160  # samples (10 ms)
MIN_SAMPLES = FRAME + HOP  # 144 ms once trimmed: anything shorter is not fingerprinted
BITS = 2 * (BANDS - 1)  # per position
FINGERPRINT_VERSION = "1"  # bump when anything above or below changes which pairs match


@dataclass(frozen=True)
class Fingerprint:
    words: np.ndarray  # [FRAMES, 2] uint64: shape bits, change bits
    active: np.ndarray  # [FRAMES] bool: the position is not near silence
    samples: int  # trimmed length at RATE


def _mel(hz: float) -> float:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _band_matrix() -> np.ndarray:
    """[BANDS, FRAME // 2 + 1]: triangular mel bands over the FFT bins."""
    edges = 700.0 * (10 ** (np.linspace(_mel(LOW_HZ), _mel(HIGH_HZ), BANDS + 2) / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(FRAME, 1.0 / RATE)
    rising = (bins[None, :] - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
    falling = (edges[2:, None] - bins[None, :]) / (edges[2:, None] - edges[1:-1, None])
    return np.clip(np.minimum(rising, falling), 0.0, None)


_BAND_MATRIX = _band_matrix()
_WINDOW = np.hanning(FRAME)
_OFFSETS = np.stack([np.arange(FRAME) - HOP, np.arange(FRAME)])[None]
_WEIGHTS = np.left_shift(np.uint64(1), np.arange(BANDS - 1, dtype=np.uint64))


def _packed(bits: np.ndarray) -> np.ndarray:
    """[..., 64] booleans as uint64 words."""
    return np.bitwise_or.reduce(np.where(bits, _WEIGHTS, np.uint64(0)), axis=-1)


def fingerprint(wave: np.ndarray) -> Fingerprint | None:
    """The fingerprint of a mono waveform at `RATE`; None when it is silent or, trimmed, shorter than
    `MIN_SAMPLES`."""
    wave = np.asarray(wave, dtype=np.float64)
    peak = float(np.abs(wave).max()) if len(wave) else 0.0
    if not peak > 0.0:
        return None
    loud = np.flatnonzero(np.abs(wave) >= TRIM * peak)
    segment = wave[loud[0] : loud[-1] + 1] / peak
    if len(segment) < MIN_SAMPLES:
        return None
    starts = HOP + np.round(np.linspace(0, len(segment) - MIN_SAMPLES, FRAMES)).astype(np.int64)
    frames = segment[(starts[:, None, None] + _OFFSETS).astype(np.int64)]  # [FRAMES, 2, FRAME]: one hop earlier, now
    bands = (np.abs(np.fft.rfft(frames * _WINDOW, axis=-1)) ** 2) @ _BAND_MATRIX.T  # [FRAMES, 2, BANDS]
    loudest = max(float(bands.max()), np.finfo(float).tiny)
    energy = np.log(bands + FLOOR * loudest)
    neighbours = energy[..., :-1] - energy[..., 1:]  # [FRAMES, 2, BANDS - 1]
    shape = neighbours[:, 1] > 0  # which band of each pair is louder
    change = neighbours[:, 1] - neighbours[:, 0] > 0  # did the difference grow since one hop earlier
    total = bands.sum(axis=-1).min(axis=1)  # the quieter of the two frames at each position
    active = total >= total.max() * 10 ** (-ACTIVE_DB / 10)
    return Fingerprint(np.stack([_packed(shape), _packed(change)], axis=1), active, len(segment))


def bit_error_rates(one: Fingerprint, words: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Share of differing bits between `one` and each of n others (`words` [n, FRAMES, 2], `active`
    [n, FRAMES]): positions silent in both are left out, one loud in only one counts half wrong."""
    differing = np.bitwise_count(np.bitwise_xor(words, one.words[None])).sum(axis=-1)  # [n, FRAMES]
    both, either = active & one.active[None], active | one.active[None]
    errors = (differing * both).sum(axis=1) + (BITS / 2) * (either & ~both).sum(axis=1)
    return errors / np.maximum(BITS * either.sum(axis=1), 1)


def matching_pairs(prints: list[Fingerprint | None]) -> list[tuple[int, int, float]]:
    """(i, j, bit error rate) for every pair i < j of fingerprints that are one recording.

    Only pairs of similar trimmed length are compared (a sweep over the lengths, sorted), so the work
    grows with the corpus times the number of utterances of about one length, not with its square.
    """
    order = sorted((i for i, p in enumerate(prints) if p is not None), key=lambda i: prints[i].samples)
    if not order:
        return []
    lengths = np.array([prints[i].samples for i in order], dtype=np.int64)
    words = np.stack([prints[i].words for i in order])
    active = np.stack([prints[i].active for i in order])
    pairs = []
    for position, index in enumerate(order):
        limit = lengths[position] * (1 + LENGTH_TOLERANCE) + LENGTH_SLACK
        end = int(np.searchsorted(lengths, limit, side="right"))
        if end <= position + 1:
            continue
        rates = bit_error_rates(prints[index], words[position + 1 : end], active[position + 1 : end])
        for offset in np.flatnonzero(rates <= MATCH_BIT_ERROR_RATE):
            other = order[position + 1 + int(offset)]
            pairs.append((min(index, other), max(index, other), round(float(rates[offset]), 4)))
    return sorted(pairs)


@dataclass(frozen=True)
class CorpusScan:
    pairs: tuple[tuple[int, int, float], ...]  # (utterance index i < j, bit error rate) of one recording twice
    fingerprinted: int
    too_short: int  # utterances silent or too short to fingerprint


def scan(corpus: Corpus) -> CorpusScan:
    """Every pair of the corpus's utterances that is one recording; audio is decoded one utterance at a time."""
    prints = [fingerprint(load_waveform(corpus, utterance.id, RATE)) for utterance in corpus.utterances]
    missing = sum(p is None for p in prints)
    return CorpusScan(tuple(matching_pairs(prints)), len(prints) - missing, missing)
