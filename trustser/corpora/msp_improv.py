"""MSP-IMPROV (Busso et al., 2017): six dyadic sessions, one actress and one actor each, as it ships.

Layout: `session1..6/<S01A>/<P|R|S|T>/MSP-IMPROV-S01A-F01-P-FM01.wav` and `Evaluation.txt`. A file
name holds the sentence and its target emotion (`S01A`), the speaking actor (`F01`: female actor of
session 1; the letter is the gender), and the scenario (P, R, S, T). `Evaluation.txt` gives each
clip's consensus label on a line `UTD-IMPROV-S01A-F01-P-FM01.avi; A; A:4.0; V:2.0; D:3.0 ; N:1.0;`
(A angry, H happy, S sad, N neutral, O other, X no agreement; then the raters' mean arousal, valence
and dominance on MSP-IMPROV's 1-5 scale, kept as the clip's attributes, and naturalness), followed by
one line per rater.
Folds: one per session (6).
"""

from __future__ import annotations

import re
from pathlib import Path

from trustser.corpora.attributes import Scale
from trustser.corpora.base import Dropped
from trustser.corpora.files import Candidate, register_dataset
from trustser.corpora.samples import tone

CODES = {"N": "neutral", "H": "happy", "S": "sad", "A": "angry", "O": "other", "X": "no agreement"}
CONSENSUS = re.compile(r"^UTD-IMPROV-([A-Z0-9-]+)\.avi\s*;\s*([A-Z])\s*;")
RATING = re.compile(r"\b([AVD])\s*:\s*([\d.]+)")
RATED = {"A": "arousal", "V": "valence", "D": "dominance"}
SCALE = Scale(1.0, 5.0)
NAME = re.compile(r"^MSP-IMPROV-(S\d\d)([A-Z])-([FM])(\d\d)-([A-Z])-([A-Z0-9]+)$")


def consensus(root: Path) -> dict[str, tuple[str, dict[str, float]]]:
    """Consensus label code and attributes by clip name (`MSP-IMPROV-S01A-F01-P-FM01`), from Evaluation.txt."""
    labels = {}
    for line in (root / "Evaluation.txt").read_text(encoding="utf-8", errors="replace").splitlines():
        match = CONSENSUS.match(line.strip())
        if match:
            rest = line.strip()[match.end() :]
            ratings = {RATED[letter]: float(value) for letter, value in RATING.findall(rest)}
            labels[f"MSP-IMPROV-{match.group(1)}"] = (match.group(2), ratings)
    return labels


def candidates(root: Path) -> tuple[list[Candidate], list[Dropped]]:
    labels = consensus(root)
    found, dropped = [], []
    for path in sorted(root.glob("session*/*/*/*.wav")):
        match = NAME.match(path.stem)
        if match is None:
            dropped.append(
                Dropped(str(path), "unrecognised file name", "expected e.g. MSP-IMPROV-S01A-F01-P-FM01.wav", bad=True)
            )
            continue
        sentence, _target, letter, session, _scenario, _pair = match.groups()
        if path.stem not in labels:
            dropped.append(Dropped(str(path), "unknown emotion label", "no consensus line in Evaluation.txt", bad=True))
            continue
        sex = "female" if letter == "F" else "male"
        code, attributes = labels[path.stem]
        found.append(
            Candidate(
                path,
                code,
                f"{letter}{session}",
                sex,
                sentence=sentence,
                session=f"session{int(session)}",
                attributes=attributes,
            )
        )
    return found, dropped


def write_sample(root: Path) -> None:
    """Six sessions of one actress and one actor, five clips each (one labelled other) with two raters' lines."""
    consensus = {"N": "neutral", "H": "happy", "S": "sad", "A": "angry", "O": "other"}
    lines = []
    for session in range(1, 7):
        for letter in "FM":
            for sentence, (code, emotion) in enumerate(consensus.items(), start=1):
                target = code if code != "O" else "N"  # the acted target; the label is the raters' consensus
                scenario = "PRST"[sentence % 4]
                name = f"MSP-IMPROV-S{sentence:02d}{target}-{letter}{session:02d}-{scenario}-FM{session:02d}"
                wav = root / f"session{session}" / f"S{sentence:02d}{target}" / scenario / f"{name}.wav"
                tone(wav, f"{letter}{session}", emotion)
                lines.append(f"UTD-IMPROV-{name[11:]}.avi; {code}; A:3.0; V:3.2; D:3.0 ; N:4.0;\n")
                lines.append(f"Evaluator1; {emotion.capitalize()}; ; A:3; V:3; D:3; N:4\n")
                lines.append(f"Evaluator2; {emotion.capitalize()}; ; A:3; V:4; D:3; N:4\n\n")
    root.mkdir(parents=True, exist_ok=True)
    (root / "Evaluation.txt").write_text("".join(lines))


register_dataset("msp_improv", codes=CODES, candidates=candidates, folding="session", sample=write_sample, scale=SCALE)
