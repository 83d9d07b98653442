"""MSP-Podcast (Lotfian & Busso, 2019): naturalistic podcast segments, as they ship.

Layout: `Audios/<FileName>` and `Labels/labels_consensus.csv` with columns FileName, EmoClass
(A, S, H, U, F, D, C, N, O, X), EmoAct, EmoVal, EmoDom (arousal, valence and dominance, the raters'
mean on MSP-Podcast's 1-7 scale: the corpus's primary labels, kept as the utterance's attributes),
SpkrID, Gender and Split_Set (Train, Development, Test1, Test2, ...). Segments whose speaker or gender
is "Unknown" are dropped and counted: speaker-independent evaluation and gender audits need both.
Folds: the official partitions (train on Train, early stopping on Development, one fold per test set).
"""

from __future__ import annotations

import csv
from pathlib import Path

from trustser.corpora.attributes import Scale, parse_rating
from trustser.corpora.base import Dropped
from trustser.corpora.files import Candidate, gender, register_dataset
from trustser.corpora.samples import tone, write_csv

CODES = {
    "N": "neutral",
    "H": "happy",
    "S": "sad",
    "A": "angry",
    "U": "surprise",
    "F": "fear",
    "D": "disgust",
    "C": "contempt",
    "O": "other",
    "X": "no agreement",
}


SCALE = Scale(1.0, 7.0)
ATTRIBUTE_COLUMNS = {"arousal": "EmoAct", "valence": "EmoVal", "dominance": "EmoDom"}


def candidates(root: Path) -> tuple[list[Candidate], list[Dropped]]:
    found, dropped = [], []
    table = root / "Labels" / "labels_consensus.csv"
    with open(table, newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            speaker = row["SpkrID"].strip()
            try:
                attributes = {
                    name: parse_rating(row[column], where=f"{table}:{line} {column}")
                    for name, column in ATTRIBUTE_COLUMNS.items()
                    if (row.get(column) or "").strip()
                }
            except ValueError as error:
                dropped.append(Dropped(f"{table}:{line}", "invalid attribute rating", str(error), bad=True))
                continue
            found.append(
                Candidate(
                    root / "Audios" / row["FileName"].strip(),
                    row["EmoClass"].strip(),
                    "" if speaker.lower() == "unknown" else f"spk{speaker}",
                    gender(row["Gender"]),
                    split=row["Split_Set"].strip(),
                    attributes=attributes,
                )
            )
    return found, dropped


# (EmoAct, EmoVal, EmoDom) of the sample's emotions, on the 1-7 scale
SAMPLE_RATINGS = {
    "neutral": (3.5, 4.0, 3.75),
    "happy": (5.0, 5.75, 4.5),
    "sad": (2.5, 2.5, 3.0),
    "angry": (6.0, 2.0, 5.5),
}


def write_sample(root: Path) -> None:
    """Twelve speakers over the partitions Train, Development, Test1 and Test2, four emotions each, rated on
    arousal, valence and dominance as such emotions typically are (`SAMPLE_RATINGS`, nudged per speaker);
    plus a surprise, a no-agreement and an unknown speaker's segment."""
    splits = ["Train"] * 6 + ["Development"] * 2 + ["Test1"] * 2 + ["Test2"] * 2
    rows, number = [], 0
    for speaker, split in enumerate(splits, start=101):
        sex = "Female" if speaker % 2 else "Male"
        for code, emotion in (("N", "neutral"), ("H", "happy"), ("S", "sad"), ("A", "angry")):
            number += 1
            name = f"MSP-PODCAST_{speaker:04d}_{number:04d}.wav"
            tone(root / "Audios" / name, str(speaker), emotion)
            act, val, dom = (rating + (speaker % 3 - 1) * 0.25 for rating in SAMPLE_RATINGS[emotion])
            rows.append([name, code, act, val, dom, speaker, sex, split])
    for code, speaker, sex in (("U", 101, "Female"), ("X", 102, "Male"), ("N", "Unknown", "Unknown")):
        number += 1
        name = f"MSP-PODCAST_0999_{number:04d}.wav"
        tone(root / "Audios" / name, str(speaker), "neutral")
        rows.append([name, code, 4.0, 4.0, 4.0, speaker, sex, "Train"])
    write_csv(
        root / "Labels" / "labels_consensus.csv",
        ["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"],
        rows,
    )


register_dataset(
    "msp_podcast", codes=CODES, candidates=candidates, folding="partition", sample=write_sample, scale=SCALE
)
