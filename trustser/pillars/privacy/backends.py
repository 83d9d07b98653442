"""Speaker verification back-ends that an informed attacker learns from speakers other than those it scores.

An untrained cosine scorer weighs every direction of a representation alike, so identity that lives
in a direction of small variance, under a nuisance of large variance (loudness, channel, what is
said), escapes it. VoicePrivacy's attackers train their back-end on other speakers' labelled
utterances; two are implemented here, both fitted on a labelled set of speakers and applied to
utterances of others:

- WCCN (within-class covariance normalisation, Hatch, Kajarekar and Stolcke 2006): the embeddings
  are whitened by the within-speaker covariance, then scored by cosine. Directions in which one
  speaker's utterances vary a lot are shrunk, those in which they hardly vary are stretched.
- PLDA, the two-covariance model (Brümmer and de Villiers 2010; Sizov, Lee and Kinnunen 2014): an
  embedding is a speaker's mean plus noise, means ~ N(0, B) and noise ~ N(0, W); a pair is scored by
  the log-likelihood ratio of "same mean" against "two means". B and W are moment estimates (the
  covariance of the speakers' means, less its sampling noise W / utterances, and the within-speaker
  covariance), not EM.

Both take embeddings standardised over every utterance, those it learns from and those it scores
(what the cosine attacker does too, and what needs no labels: the attacker holds all of them), so
that with W = I, WCCN is the cosine attacker. W is estimated with Ledoit-Wolf shrinkage, which keeps
the whitening stable when a representation has more dimensions than the training speakers have
utterances to spare (a 256-dim layer learned from 4 speakers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.covariance import ledoit_wolf

CHUNK = 4096  # pairs scored at a time: no n x n matrix, whatever the corpus


def standardised(x: np.ndarray) -> np.ndarray:
    """Each dimension centred and scaled to unit deviation over the given utterances (a constant one kept at 0)."""
    x = np.asarray(x, np.float64)
    scale = x.std(0)
    return (x - x.mean(0)) / np.where(scale > 0, scale, 1.0)


def _speaker_means(z: np.ndarray, speakers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(speaker of each row as 0..k-1, each speaker's mean [k, d], each speaker's utterance count)."""
    owner = np.unique(speakers, return_inverse=True)[1]
    counts = np.bincount(owner)
    means = np.zeros((len(counts), z.shape[1]))
    np.add.at(means, owner, z)
    return owner, means / counts[:, None], counts


def within_speaker_covariance(z: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf shrunk covariance of the utterances about their own speaker's mean."""
    owner, means, _ = _speaker_means(z, speakers)
    return ledoit_wolf(z - means[owner], assume_centered=True)[0]


def _inverse_sqrt(matrix: np.ndarray) -> np.ndarray:
    """matrix^(-1/2) of a covariance, its smallest eigenvalues floored; the identity for a zero matrix (no
    variation to normalise: utterances that repeat their speaker's exactly, or a constant representation)."""
    values, vectors = np.linalg.eigh(matrix)
    if values.max() <= 0:
        return np.eye(len(matrix))
    return (vectors / np.sqrt(np.clip(values, 1e-12 * values.max(), None))) @ vectors.T


def pair_sums(left: np.ndarray, right: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Σ_k left[first, k] · right[second, k] for each pair, a chunk of pairs at a time."""
    out = np.empty(len(first))
    for start in range(0, len(first), CHUNK):
        rows = slice(start, start + CHUNK)
        out[rows] = np.einsum("ij,ij->i", left[first[rows]], right[second[rows]])
    return out


@dataclass(frozen=True)
class WCCN:
    """Cosine scoring after whitening by the training speakers' within-speaker covariance."""

    whitening: np.ndarray  # [d, d], W^(-1/2) of the standardised training utterances

    def score(self, x: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        y = np.asarray(x, np.float64) @ self.whitening
        y /= np.linalg.norm(y, axis=1, keepdims=True).clip(1e-12)
        return pair_sums(y, y, first, second)


def fit_wccn(x: np.ndarray, speakers: np.ndarray) -> WCCN:
    return WCCN(_inverse_sqrt(within_speaker_covariance(np.asarray(x, np.float64), np.asarray(speakers))))


@dataclass(frozen=True)
class PLDA:
    """Two-covariance PLDA, in the basis where W is the identity and B is diagonal (`between`); the
    speakers' overall mean is taken as 0, that of the standardised embeddings."""

    transform: np.ndarray  # [d, d]: embedding -> that basis
    between: np.ndarray  # [d], B's variances in that basis (W's are 1)

    def score(self, x: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Log-likelihood ratio (nats) of "one speaker" against "two speakers" for each pair.

        Per dimension, with between-speaker variance b, total variance s = b + 1 and d = s² − b²:
        LLR = Σ_k a_k (x_k² + y_k²) + c_k x_k y_k − ½ log(d_k / s_k²), a = ½ (1/s − s/d), c = b / d.
        """
        y = np.asarray(x, np.float64) @ self.transform
        b = self.between
        s = b + 1.0
        d = 2.0 * b + 1.0  # s² − b², without its cancellation for large b
        a, c = 0.5 * (1.0 / s - s / d), b / d
        own = (y**2) @ a  # each utterance's share of the quadratic terms
        return own[first] + own[second] + pair_sums(y * c, y, first, second) - 0.5 * np.log(d / s**2).sum()


def fit_plda(x: np.ndarray, speakers: np.ndarray) -> PLDA:
    z, speakers = np.asarray(x, np.float64), np.asarray(speakers)
    within = within_speaker_covariance(z, speakers)
    _, means, counts = _speaker_means(z, speakers)
    centred = means - means.mean(0)
    # The speakers' means scatter by B plus W / utterances; B is what is left, its negative part dropped below
    between = centred.T @ centred / len(counts) - within * np.mean(1.0 / counts)
    root = _inverse_sqrt(within)
    values, vectors = np.linalg.eigh(root @ between @ root)
    return PLDA(transform=root @ vectors, between=np.clip(values, 0.0, None))


BACKENDS: dict[str, Callable[[np.ndarray, np.ndarray], WCCN | PLDA]] = {"wccn": fit_wccn, "plda": fit_plda}
"""The informed attackers, by the name the result reports; each `fit(x, speakers)` gives a scorer."""
