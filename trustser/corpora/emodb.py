"""EmoDB, the Berlin Database of Emotional Speech (Burkhardt et al., 2005): 535 files of 10 actors.

Layout: `wav/03a01Wa.wav`: speaker (two digits), text code (`a01`..`b10`), emotion letter (German
initial: W Ärger/anger, L Langeweile/boredom, E Ekel/disgust, A Angst/fear, F Freude/happiness,
T Trauer/sadness, N neutral) and version letter. Speakers' sex and age come from the corpus's
documentation (the table below). Folds: speaker-independent, gender-balanced k-fold.
"""

from __future__ import annotations

import re
from pathlib import Path

from trustser.corpora.base import Dropped
from trustser.corpora.files import Candidate, register_dataset
from trustser.corpora.samples import tone

CODES = {"N": "neutral", "F": "happy", "T": "sad", "W": "angry", "A": "fear", "E": "disgust", "L": "boredom"}
SPEAKERS = {  # speaker code: (sex, age in years), from the EmoDB documentation
    "03": ("male", 31),
    "08": ("female", 34),
    "09": ("female", 21),
    "10": ("male", 32),
    "11": ("male", 26),
    "12": ("male", 30),
    "13": ("female", 32),
    "14": ("female", 35),
    "15": ("male", 25),
    "16": ("female", 31),
}
NAME = re.compile(r"^(\d\d)([ab]\d\d)([A-Z])([a-z])$")


def candidates(root: Path) -> tuple[list[Candidate], list[Dropped]]:
    found, dropped = [], []
    for path in sorted((root / "wav").glob("*.wav")):
        match = NAME.match(path.stem)
        if match is None:
            dropped.append(Dropped(str(path), "unrecognised file name", "expected e.g. 03a01Wa.wav", bad=True))
            continue
        speaker, text, code, _version = match.groups()
        sex, age = SPEAKERS.get(speaker, (None, None))
        found.append(Candidate(path, code, speaker, sex, sentence=text, age=age))
    return found, dropped


def write_sample(root: Path) -> None:
    """The ten documented speakers, five emotions each (boredom outside the label set)."""
    codes = {"N": "neutral", "F": "happy", "T": "sad", "W": "angry", "L": "boredom"}
    texts = ("a01", "a02", "a04", "b01", "b02")
    for speaker in SPEAKERS:
        for (code, emotion), text in zip(codes.items(), texts):
            tone(root / "wav" / f"{speaker}{text}{code}a.wav", speaker, emotion)


register_dataset("emodb", codes=CODES, candidates=candidates, folding="speaker", sample=write_sample)
