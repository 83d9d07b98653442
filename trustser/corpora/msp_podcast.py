"""MSP-Podcast (Lotfian & Busso, 2019): naturalistic podcast segments, as they ship.

Layout: `Audios/<FileName>` and `Labels/labels_consensus.csv` with columns FileName, EmoClass
(A, S, H, U, F, D, C, N, O, X), EmoAct, EmoVal, EmoDom, SpkrID, Gender and Split_Set (Train,
Development, Test1, Test2, ...). Segments whose speaker or gender is "Unknown" are dropped and
counted: speaker-independent evaluation and gender audits need both. Folds: the official partitions
(train on Train, early stopping on Development, one fold per test set).
"""

from __future__ import annotations

import csv
from pathlib import Path

from trustser.corpora.base import Dropped
from trustser.corpora.files import Candidate, gender, register_dataset

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


def candidates(root: Path) -> tuple[list[Candidate], list[Dropped]]:
    found = []
    with open(root / "Labels" / "labels_consensus.csv", newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            speaker = row["SpkrID"].strip()
            found.append(
                Candidate(
                    root / "Audios" / row["FileName"].strip(),
                    row["EmoClass"].strip(),
                    "" if speaker.lower() == "unknown" else f"spk{speaker}",
                    gender(row["Gender"]),
                    split=row["Split_Set"].strip(),
                )
            )
    return found, []


register_dataset("msp_podcast", codes=CODES, candidates=candidates, folding="partition")
