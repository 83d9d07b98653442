"""CREMA-D (Cao et al., 2014): 7,442 clips of 91 actors, six emotions, as it ships.

Layout: `AudioWAV/<ActorID>_<Sentence>_<Emotion>_<Level>.wav` (e.g. `1001_DFA_ANG_XX.wav`) and
`VideoDemographics.csv` (ActorID, Age, Sex, Race, Ethnicity). Emotions: ANG, DIS, FEA, HAP, NEU,
SAD. Folds: speaker-independent, gender-balanced k-fold.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from trustser.corpora.base import Dropped
from trustser.corpora.files import Candidate, gender, register_dataset
from trustser.corpora.samples import tone, write_csv

CODES = {"NEU": "neutral", "HAP": "happy", "SAD": "sad", "ANG": "angry", "FEA": "fear", "DIS": "disgust"}
NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")


def demographics(root: Path) -> dict[str, dict[str, str]]:
    """VideoDemographics.csv rows by ActorID."""
    with open(root / "VideoDemographics.csv", newline="", encoding="utf-8-sig") as handle:
        return {row["ActorID"].strip(): row for row in csv.DictReader(handle)}


def candidates(root: Path) -> tuple[list[Candidate], list[Dropped]]:
    actors = demographics(root)
    found, dropped = [], []
    for path in sorted((root / "AudioWAV").glob("*.wav")):
        match = NAME.match(path.stem)
        if match is None:
            dropped.append(Dropped(str(path), "unrecognised file name", "expected e.g. 1001_DFA_ANG_XX.wav", bad=True))
            continue
        actor, sentence, code, _level = match.groups()
        row = actors.get(actor, {})
        age = row.get("Age", "").strip()
        found.append(
            Candidate(
                path,
                code,
                actor,
                gender(row.get("Sex", "")),
                sentence=sentence,
                age=int(age) if age.isdigit() else None,
            )
        )
    return found, dropped


def write_sample(root: Path) -> None:
    """Eight actors (ages invented), five emotions each, one of them outside the label set (disgust)."""
    actors = [(1001 + i, "Female" if i % 2 else "Male", 20 + 5 * i) for i in range(8)]
    write_csv(
        root / "VideoDemographics.csv",
        ["ActorID", "Age", "Sex", "Race", "Ethnicity"],
        [[a, age, sex, "Caucasian", "Not Hispanic"] for a, sex, age in actors],
    )
    codes = {"NEU": "neutral", "HAP": "happy", "SAD": "sad", "ANG": "angry", "DIS": "disgust"}
    sentences = ("DFA", "IEO", "ITH", "TIE", "WSI")
    for actor, _, _ in actors:
        for (code, emotion), sentence in zip(codes.items(), sentences):
            level = "XX" if code in ("NEU", "DIS") else "MD"
            tone(root / "AudioWAV" / f"{actor}_{sentence}_{code}_{level}.wav", str(actor), emotion)


register_dataset("cremad", codes=CODES, candidates=candidates, folding="speaker", sample=write_sample)
