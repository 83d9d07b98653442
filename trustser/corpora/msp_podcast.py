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
from trustser.corpora.emotions import mapping, parse_source
from trustser.corpora.files import Candidate, FileCorpus, build, gender
from trustser.corpora.registry import register

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


@register("msp_podcast", reads_files=True)
def msp_podcast_corpus(argument: str | None, cache_root: Path, on_bad_audio: str = "skip") -> FileCorpus:
    root, options = parse_source(argument, "msp_podcast")
    labels = mapping(CODES, options)  # checked before the corpus is read
    found, dropped = candidates(root)
    return build(
        "msp_podcast",
        root,
        found,
        labels=labels,
        cache_root=cache_root,
        on_bad_audio=on_bad_audio,
        folding="partition",
        dropped=dropped,
    )
