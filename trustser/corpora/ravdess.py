"""RAVDESS (Livingstone & Russo, 2018), audio-only speech: 1,440 files of 24 actors, as it ships.

Layout: `Actor_01/03-01-05-01-02-01-01.wav`, seven two-digit fields: modality (03 = audio-only),
vocal channel (01 = speech, 02 = song), emotion (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry,
06 fearful, 07 disgust, 08 surprised), intensity, statement, repetition, actor. Odd-numbered actors
are male, even-numbered female. Song files (vocal channel 02, a separate archive with the same
actor folders) are dropped and counted. Folds: speaker-independent, gender-balanced k-fold.
"""

from __future__ import annotations

import re
from pathlib import Path

from trustser.corpora.base import Dropped
from trustser.corpora.files import Candidate, register_dataset
from trustser.corpora.samples import tone

CODES = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}
NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


def candidates(root: Path) -> tuple[list[Candidate], list[Dropped]]:
    found, dropped = [], []
    # The archives unpack to Actor_NN/ directly or inside Audio_Speech_Actors_01-24/ (and .._Song_..).
    for path in sorted(root.glob("Actor_*/*.wav")) + sorted(root.glob("*/Actor_*/*.wav")):
        match = NAME.match(path.stem)
        if match is None:
            dropped.append(
                Dropped(str(path), "unrecognised file name", "expected e.g. 03-01-05-01-02-01-01.wav", bad=True)
            )
            continue
        modality, channel, code, _intensity, statement, _repetition, actor = match.groups()
        if modality != "03" or channel != "01":
            dropped.append(Dropped(str(path), "not audio-only speech", f"modality {modality}, vocal channel {channel}"))
            continue
        sex = "male" if int(actor) % 2 else "female"
        found.append(Candidate(path, code, f"Actor_{actor}", sex, sentence=f"statement{statement}"))
    return found, dropped


def write_sample(root: Path) -> None:
    """Eight actors, five emotions each (calm outside the label set), 40 ms at RAVDESS's 48 kHz; one song file."""
    codes = {"01": "neutral", "03": "happy", "04": "sad", "05": "angry", "02": "calm"}
    for actor in range(1, 9):
        for code, emotion in codes.items():
            intensity = "01" if code == "01" else "02"
            name = f"03-01-{code}-{intensity}-01-01-{actor:02d}.wav"
            tone(root / f"Actor_{actor:02d}" / name, f"a{actor}", emotion, seconds=0.04, rate=48000)
    tone(root / "Actor_01" / "03-02-03-01-01-01-01.wav", "a1", "happy", seconds=0.04, rate=48000)  # a song file


register_dataset("ravdess", codes=CODES, candidates=candidates, folding="speaker", sample=write_sample)
