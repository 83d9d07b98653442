"""The demographic attributes a corpus carries, as per-utterance groups an attacker can try to infer.

Gender is a field of every utterance. Age (years, where documented) becomes age groups at the gate's
cut points, because an attacker guessing a band is what a release must not allow, and because per-year
classes would leave most groups with one speaker. Each key of `Utterance.demographics` (a manifest's
extra columns: accent, native language, ...) is an attribute of its own. Unknown values (no age, an
empty demographic) are left out of that attribute's attack, not counted as a group.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from trustser.corpora.base import Utterance
from trustser.corpora.folds import Fold

UNKNOWN = ""


def age_group(age: int | None, age_bands: Sequence[float]) -> str:
    """The band of `age` between increasing cut points (years): "under 40", "40-59", "60 and over"."""
    if age is None:
        return UNKNOWN
    edges = [f"{c:g}" for c in age_bands]
    reached = sum(age >= c for c in age_bands)  # cut points at or below the age
    if reached == 0:
        return f"under {edges[0]}"
    if reached == len(edges):
        return f"{edges[-1]} and over"
    return f"{edges[reached - 1]} to under {edges[reached]}"


def age_groups(utterances: Sequence[Utterance], age_bands: Sequence[float]) -> np.ndarray:
    cuts = [float(c) for c in age_bands]
    if not cuts or any(b <= a for a, b in zip(cuts, cuts[1:])):
        raise ValueError(f"age cut points must be a non-empty increasing list of years, got {list(age_bands)}")
    return np.array([age_group(u.age, cuts) for u in utterances])


def demographic_columns(utterances: Sequence[Utterance]) -> dict[str, np.ndarray]:
    """One column per key of `Utterance.demographics` found in the corpus (UNKNOWN where an utterance lacks it)."""
    names = sorted({name for u in utterances for name, _ in u.demographics})
    values = [dict(u.demographics) for u in utterances]
    return {name: np.array([v.get(name, UNKNOWN).strip() for v in values]) for name in names}


def why_not_attackable(values: np.ndarray, speakers: np.ndarray, folds: list[Fold]) -> str | None:
    """Why a speaker-disjoint attacker cannot be trained on this attribute, or None when it can.

    Every fold's training speakers must cover every group among the known values: an attacker that
    never saw a group cannot predict it, and its UAR would understate the leak.
    """
    known = values != UNKNOWN
    groups = sorted(set(values[known].tolist()))
    if len(groups) < 2:
        return "no speaker has it" if not groups else f"every speaker with it is in one group ({groups[0]!r})"
    for fold in folds:
        train = known & ~np.isin(speakers, fold.test_speakers)
        missing = sorted(set(groups) - set(values[train].tolist()))
        if missing:
            return f"fold {fold.index}'s training speakers include no one in group(s) {missing}"
    return None
