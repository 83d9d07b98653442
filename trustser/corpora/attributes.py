"""Emotional attributes (arousal, dominance, valence): the dimensional labels a corpus may carry.

An utterance's attributes are kept in its corpus's own units (MSP-Podcast rates on 1-7, IEMOCAP and
MSP-IMPROV on 1-5): reports and gates that speak of an error in attribute points use them. Heads
train on and predict the normalised value, `(value - low) / (high - low)`, in [0, 1] on every corpus;
the concordance correlation coefficient is the same on either scale (it is invariant under one affine
map applied to prediction and truth alike).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ATTRIBUTES: tuple[str, ...] = ("arousal", "dominance", "valence")
"""The attributes in output order: the order of the attribute-track models (audeering's wav2vec 2.0
MSP-Podcast model outputs arousal, dominance, valence)."""

SYNONYMS = {
    "arousal": ("arousal", "activation", "act", "a", "emoact"),
    "dominance": ("dominance", "dom", "d", "emodom"),
    "valence": ("valence", "val", "v", "emoval"),
}


def canonical_attribute(name: str) -> str | None:
    """The attribute a spelling names (`EmoAct`, `activation`, `VAL`, ...), or None."""
    wanted = str(name).strip().lower()
    return next((attribute for attribute, spellings in SYNONYMS.items() if wanted in spellings), None)


@dataclass(frozen=True)
class Scale:
    """A corpus's rating scale for its attributes, e.g. 1-7 for MSP-Podcast."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.high > self.low:
            raise ValueError(f"an attribute scale needs high > low, got {self.low}..{self.high}")

    @property
    def span(self) -> float:
        return self.high - self.low

    def normalise(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=np.float64) - self.low) / self.span

    def in_units(self, normalised: np.ndarray) -> np.ndarray:
        """Normalised values back in the corpus's units."""
        return self.low + np.asarray(normalised, dtype=np.float64) * self.span

    def describe(self) -> str:
        return f"{self.low:g}-{self.high:g}"


def parse_rating(value: str, *, where: str) -> float:
    """A rating as the corpus writes it (`4.0`, ` 3.5 `); ValueError naming `where` otherwise."""
    try:
        rating = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{where}: attribute rating {value!r} is not a number") from None
    if not np.isfinite(rating):
        raise ValueError(f"{where}: attribute rating {value!r} is not finite")
    return rating


def ordered(values: dict[str, float]) -> tuple[tuple[str, float], ...]:
    """(attribute, value) pairs in ATTRIBUTES order, for `Utterance.attributes`."""
    return tuple((name, float(values[name])) for name in ATTRIBUTES if name in values)
