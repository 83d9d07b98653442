"""The genders a gender gate compares (fairness between genders, gender inference): with one, there
is nothing to compare, and the gate is not applicable rather than an error."""

from __future__ import annotations

import numpy as np

from trustser.errors import NotApplicable


def require_two_genders(genders: np.ndarray, *, where: str = "the corpus") -> None:
    """NotApplicable, naming the one gender found, unless `genders` (per utterance) holds two or more."""
    found = sorted({str(g) for g in np.asarray(genders).tolist()})
    if len(found) < 2:
        has = f"one gender ({found[0]})" if found else "no utterance"
        raise NotApplicable(f"{where} has {has}: gender gates need two")
