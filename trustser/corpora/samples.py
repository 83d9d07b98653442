"""What the corpus modules' `write_sample` functions share: tiny tone audio and CSV tables.

A dataset module declares `write_sample(root)`, writing a tiny sample of the corpus's native layout
(folders, file names, metadata formats) into `root`; the contract test (tests/corpora/test_corpus_contract.py)
checks the corpus on it, and fixtures/corpora/make_fixtures.py writes the committed fixtures with it.
Deterministic: the same bytes on every run. Audio is 60 ms of a harmonic tone whose pitch depends on
speaker and emotion, so every file is a few kilobytes.
"""

from __future__ import annotations

import csv
import zlib
from pathlib import Path

import numpy as np
import soundfile

PITCH = {"neutral": 1.0, "happy": 1.3, "sad": 0.85, "angry": 1.15}


def tone(path: Path, speaker: str, emotion: str, seconds: float = 0.06, rate: int = 16000) -> None:
    """A short harmonic tone with a little noise, seeded by the file name."""
    rng = np.random.default_rng(zlib.crc32(path.name.encode()))
    f0 = (120 + zlib.crc32(speaker.encode()) % 120) * PITCH.get(emotion, 1.0)
    t = np.arange(int(seconds * rate)) / rate
    wave = sum(0.2 / h * np.sin(2 * np.pi * h * f0 * t) for h in (1, 2, 3)) + 0.01 * rng.standard_normal(len(t))
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, wave.astype(np.float32), rate, subtype="PCM_16")


def write_csv(path: Path, header: list[str], rows: list[list[object]], delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
