"""The corpus contract: utterances with labels and demographics, their audio, and a fingerprint."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry")
"""The four classes of the original TrustSER study, in label-index order."""


@dataclass(frozen=True)
class Utterance:
    id: str
    speaker: str
    gender: str  # "female" | "male"
    emotion: str
    sentence: str = ""


class Corpus:
    """Base class for corpora. Subclasses fill `name`, `sample_rate`, `utterances` and `load_audio`."""

    name: str = "corpus"
    sample_rate: int = 16000
    emotions: tuple[str, ...] = EMOTIONS

    def __init__(self, utterances: list[Utterance]):
        self.utterances = list(utterances)
        self._by_id = {u.id: u for u in self.utterances}

    def __len__(self) -> int:
        return len(self.utterances)

    def load_audio(self, utterance_id: str) -> np.ndarray:
        """Mono float32 waveform at `sample_rate`."""
        raise NotImplementedError

    def audio_fingerprint(self) -> str:
        """What identifies the audio content (e.g. generator version and settings, or file hashes)."""
        raise NotImplementedError

    def fingerprint(self) -> str:
        """Content hash of metadata and audio identity, used in cache keys."""
        payload = json.dumps(
            {
                "name": self.name,
                "sample_rate": self.sample_rate,
                "emotions": self.emotions,
                "audio": self.audio_fingerprint(),
                "utterances": [asdict(u) for u in self.utterances],
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def labels(self) -> np.ndarray:
        """Emotion class indices in `emotions` order, one per utterance."""
        index = {emotion: i for i, emotion in enumerate(self.emotions)}
        return np.array([index[u.emotion] for u in self.utterances], dtype=np.int64)

    def column(self, field: str) -> np.ndarray:
        return np.array([getattr(u, field) for u in self.utterances])
