"""Per-layer frame features of a whole corpus: extracted once per (encoder, corpus), then cached.

Frames of all utterances are stored concatenated ([total_frames, layers, hidden]) with offsets, so
variable lengths cost no padding on disk. The cache key covers the encoder's weights fingerprint,
the corpus fingerprint, the sample rate and the preprocessing.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np
import torch
from scipy.signal import resample_poly
from tqdm.auto import tqdm

from trustser.cache import Cache, content_key
from trustser.corpora.base import Corpus
from trustser.encoders.base import Encoder, pad_waveforms
from trustser.sustainability.energy import measure_energy

EXTRACTION_VERSION = "2"  # bump when this module changes what it stores


@dataclass
class LayerFeatures:
    utterance_ids: list[str]
    frames: torch.Tensor  # [total_frames, num_layers, hidden_size], float32
    offsets: torch.Tensor  # [num_utterances + 1], int64
    samples: torch.Tensor | None = None  # [num_utterances] audio length in samples at `sample_rate`
    sample_rate: int = 16000
    extraction_energy: dict | None = None  # EnergyResult fields of the extraction run

    def audio_seconds(self, indices: list[int] | np.ndarray) -> float:
        """Duration of the given utterances' audio, seconds."""
        if self.samples is None:
            raise ValueError("these features were built without utterance lengths")
        return float(self.samples[torch.as_tensor(np.asarray(indices), dtype=torch.long)].sum()) / self.sample_rate

    @property
    def num_layers(self) -> int:
        return self.frames.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.frames.shape[2]

    def frame_count(self, index: int) -> int:
        return int(self.offsets[index + 1] - self.offsets[index])

    def batch(self, indices: list[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero-padded layers [batch, num_layers, frames, hidden] and frame lengths."""
        counts = [self.frame_count(i) for i in indices]
        out = torch.zeros(len(indices), self.num_layers, max(counts), self.hidden_size)
        for row, (i, count) in enumerate(zip(indices, counts)):
            start = int(self.offsets[i])
            out[row, :, :count] = self.frames[start : start + count].transpose(0, 1)
        return out, torch.tensor(counts, dtype=torch.long)

    def pooled(self) -> torch.Tensor:
        """Mean over each utterance's frames: [num_utterances, num_layers, hidden_size]."""
        sums = torch.zeros(len(self.utterance_ids), self.num_layers, self.hidden_size, dtype=torch.float64)
        owner = torch.repeat_interleave(torch.arange(len(self.utterance_ids)), self.offsets.diff())
        sums.index_add_(0, owner, self.frames.double())
        return (sums / self.offsets.diff().clamp_min(1)[:, None, None]).float()


def load_waveform(corpus: Corpus, utterance_id: str, sample_rate: int) -> np.ndarray:
    """The utterance's audio at `sample_rate` (polyphase resampling when the rates differ)."""
    audio = corpus.load_audio(utterance_id)
    if corpus.sample_rate != sample_rate:
        divisor = np.gcd(corpus.sample_rate, sample_rate)
        audio = resample_poly(audio, sample_rate // divisor, corpus.sample_rate // divisor).astype(np.float32)
    return audio


def feature_key(encoder: Encoder, corpus: Corpus) -> str:
    return content_key(
        step="extract",
        version=EXTRACTION_VERSION,
        encoder=encoder.name,
        weights=encoder.fingerprint(),
        corpus=corpus.fingerprint(),
        sample_rate=encoder.sample_rate,
        preprocessing="mono,resample_poly",
    )


def extract_features(encoder: Encoder, corpus: Corpus, cache: Cache, batch_size: int = 16) -> LayerFeatures:
    """Cached per-layer features of every utterance in `corpus` (computed on first use only).

    The encoder's pass over the corpus runs under codecarbon; its energy is stored with the features
    (safetensors metadata), so the audit reports what extraction cost when it actually ran.
    """
    key = feature_key(encoder, corpus)
    path = cache.path("features", key)
    with cache.lock("features", key):
        if not path.exists():
            waves = [load_waveform(corpus, u.id, encoder.sample_rate) for u in corpus.utterances]
            encoded: dict[str, torch.Tensor] = {}

            def work() -> None:
                encoded["frames"], encoded["offsets"] = _run_encoder(encoder, waves, f"{encoder.name} on {corpus.name}", batch_size)

            seconds = sum(len(w) for w in waves) / encoder.sample_rate
            energy = measure_energy(work, seconds, label=f"extract {encoder.name}")
            encoded["samples"] = torch.tensor([len(w) for w in waves], dtype=torch.long)
            cache.save_tensors(path, encoded, {"encoder": encoder.name, "energy": json.dumps(dataclasses.asdict(energy))})
    stored = cache.load_tensors(path)
    energy = json.loads(cache.load_metadata(path)["energy"])
    return LayerFeatures([u.id for u in corpus.utterances], stored["frames"], stored["offsets"], stored["samples"],
                         encoder.sample_rate, energy)


@torch.no_grad()
def _run_encoder(encoder: Encoder, waves: list[np.ndarray], what: str, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    order = np.argsort([len(w) for w in waves], kind="stable")  # length buckets: little padding
    per_utterance: list[torch.Tensor | None] = [None] * len(waves)
    encoder.eval()
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in tqdm(batches, desc=f"extract {what}", unit="batch", leave=False):
        padded, lengths = pad_waveforms([waves[i] for i in batch])
        layers, frame_lengths = encoder(padded, lengths)
        for row, i in enumerate(batch):
            per_utterance[i] = layers[row, :, : int(frame_lengths[row])].transpose(0, 1).float().clone()
    counts = torch.tensor([t.shape[0] for t in per_utterance])
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    return torch.cat(per_utterance), offsets
