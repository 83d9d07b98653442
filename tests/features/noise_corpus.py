"""A corpus of seeded noise bursts of varied length, built in memory: fast, exact, no synthesis.

For the feature store's tests, which need many utterances of different lengths and nothing else.
Also importable by the subprocesses those tests start (`tests.features.noise_corpus`).
"""

from __future__ import annotations

import numpy as np

from trustser.corpora.base import EMOTIONS, Corpus, Utterance

SAMPLE_RATE = 16000


class NoiseCorpus(Corpus):
    name = "noise"
    sample_rate = SAMPLE_RATE

    def __init__(self, count: int = 40, *, min_seconds: float = 0.2, max_seconds: float = 3.0, seed: int = 0):
        rng = np.random.default_rng(seed)
        self._seconds = rng.uniform(min_seconds, max_seconds, size=count)
        self.seed = seed
        super().__init__(
            [
                Utterance(f"n{i:05d}", f"s{i % 4}", ("female", "male")[i % 2], EMOTIONS[i % len(EMOTIONS)])
                for i in range(count)
            ]
        )
        self._index = {u.id: i for i, u in enumerate(self.utterances)}

    def load_audio(self, utterance_id: str) -> np.ndarray:
        i = self._index[utterance_id]
        rng = np.random.default_rng([self.seed, i])
        samples = int(self._seconds[i] * SAMPLE_RATE)
        return (0.1 * rng.standard_normal(samples) * np.hanning(samples)).astype(np.float32)

    def seconds(self, utterance_id: str) -> float:
        return int(self._seconds[self._index[utterance_id]] * SAMPLE_RATE) / SAMPLE_RATE

    def audio_fingerprint(self) -> str:
        return f"noise-{self.seed}-{len(self)}"
