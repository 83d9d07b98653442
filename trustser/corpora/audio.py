"""Audio files of real corpora: decoded once (soundfile), downmixed, resampled (soxr), then cached.

Decoded audio is stored as float32 `.npy` under a key of the file's resolved path, size and
modification time and the target rate, so an edited or replaced file is decoded again. Bad files
(missing, undecodable, truncated, empty, NaN or infinite samples, absurd amplitude, digital silence,
shorter than the encoders can use) raise `BadAudio` with a message naming the file; what happens next
is the corpus's bad-data policy.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile
import soxr
from scipy.signal import resample_poly

from trustser.cache.store import Cache, atomic_path, content_key

if TYPE_CHECKING:
    from trustser.corpora.base import Corpus

DECODING_VERSION = "2"  # bump when decoding, downmixing, resampling or the checks change
MAX_PEAK = 16.0
"""Largest plausible sample magnitude. Float audio is expected within [-1, 1]; a few dB of overshoot
happens, but a file peaking far above (e.g. 1e20) is corrupt or not audio, and would drive every
encoder's features to NaN or infinity."""
MIN_SECONDS = 0.025
"""Shortest clip any encoder can use: the SSL encoders' convolutional front end needs 400 samples at
16 kHz for one frame. Encoders that need more say so (`Encoder.min_seconds`) and the audit drops
shorter files for them (`FileCorpus.without_shorter_than`)."""
# libsndfile's log for a WAV whose data chunk is shorter than its header says, e.g.
# "data : 16000 (should be 7978)": the file was cut off (an interrupted copy or download).
_TRUNCATED = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


class BadAudio(ValueError):
    """A corpus file that cannot serve as audio; `reason` is a short category for the summary."""

    def __init__(self, path: Path, reason: str, detail: str = ""):
        self.path, self.reason, self.detail = Path(path), reason, detail
        super().__init__(f"{path}: {reason}" + (f" ({detail})" if detail else ""))


def decode(path: Path, sample_rate: int) -> np.ndarray:
    """The file as a mono float32 waveform at `sample_rate`: channels averaged, soxr HQ resampling."""
    path = Path(path)
    if not path.is_file():
        raise BadAudio(path, "missing file")
    try:
        info = soundfile.info(str(path))
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, EOFError, ValueError) as error:
        with open(path, "rb") as handle:
            pointer = handle.read(23) == b"version https://git-lfs"
        if pointer:  # e.g. CREMA-D cloned without git-lfs
            raise BadAudio(path, "undecodable audio", "a git-lfs pointer, not audio: run `git lfs pull`") from None
        raise BadAudio(path, "undecodable audio", str(error)) from None
    truncated = _TRUNCATED.search(info.extra_info or "")
    if truncated:
        declared, present = truncated.groups()
        raise BadAudio(path, "truncated audio", f"header declares {declared} bytes of samples, file holds {present}")
    if data.shape[0] == 0:
        raise BadAudio(path, "empty audio", "0 samples")
    if not np.isfinite(data).all():
        raise BadAudio(path, "NaN or infinite samples")
    peak = float(np.abs(data).max())
    if peak > MAX_PEAK:
        raise BadAudio(path, "absurd amplitude", f"peak {peak:.3g}; audio is expected within [-1, 1]")
    if peak == 0.0:
        raise BadAudio(path, "digital silence", "every sample is 0")
    if data.shape[0] < MIN_SECONDS * rate:
        raise BadAudio(path, "too short", f"{data.shape[0] / rate:.3f} s; every encoder needs at least {MIN_SECONDS} s")
    mono = data.mean(axis=1)
    if rate != sample_rate:
        mono = soxr.resample(mono, rate, sample_rate, quality="HQ")
    return np.ascontiguousarray(mono, dtype=np.float32)


def file_identity(path: Path) -> dict[str, object]:
    """What names a file's current content cheaply: resolved path, size and modification time."""
    stat = Path(path).stat()
    return {"path": str(Path(path).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


class AudioStore:
    """Decoded, resampled audio of corpus files, cached under `cache_root/audio/`."""

    def __init__(self, cache_root: Path, sample_rate: int):
        self.cache = Cache(cache_root)
        self.sample_rate = sample_rate
        self._verified: set[str] = set()  # keys checked against their checksum by this process

    def _intact(self, key: str) -> bool:
        if key not in self._verified and self.cache.intact(self.cache.path("audio", key, ".npy")):
            self._verified.add(key)
        return key in self._verified

    def key(self, path: Path) -> str:
        return content_key(step="decode", version=DECODING_VERSION, rate=self.sample_rate, file=file_identity(path))

    def prepare(self, path: Path) -> tuple[str, int]:
        """Decode `path` into the cache unless it is there; its key and length in samples.

        Raises `BadAudio` for a bad file (bad files are not cached, so a fixed file is read again).
        """
        if not Path(path).is_file():
            raise BadAudio(path, "missing file")
        key = self.key(path)
        cached = self.cache.path("audio", key, ".npy")
        if self._intact(key):
            return key, int(np.load(cached, mmap_mode="r").shape[0])
        wave = decode(path, self.sample_rate)
        with atomic_path(cached) as tmp, open(tmp, "wb") as handle:
            np.save(handle, wave, allow_pickle=False)
        self.cache.seal(cached)
        self._verified.add(key)
        return key, len(wave)

    def load(self, path: Path, key: str) -> np.ndarray:
        """The cached waveform of `path` (decoded again if the cache entry has gone)."""
        if not self._intact(key):
            key = self.prepare(path)[0]
        return np.load(self.cache.path("audio", key, ".npy"), allow_pickle=False)


def load_waveform(corpus: Corpus, utterance_id: str, sample_rate: int) -> np.ndarray:
    """The utterance's audio at `sample_rate` (polyphase resampling when the rates differ)."""
    audio = corpus.load_audio(utterance_id)
    if corpus.sample_rate != sample_rate:
        divisor = np.gcd(corpus.sample_rate, sample_rate)
        audio = resample_poly(audio, sample_rate // divisor, corpus.sample_rate // divisor).astype(np.float32)
    return audio
