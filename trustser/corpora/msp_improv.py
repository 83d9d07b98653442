"""MSP-IMPROV (Busso et al., 2017): six dyadic sessions, one actress and one actor each, as it ships.

Layout: `session1..6/<S01A>/<P|R|S|T>/MSP-IMPROV-S01A-F01-P-FM01.wav` and `Evaluation.txt`. A file
name holds the sentence and its target emotion (`S01A`), the speaking actor (`F01`: female actor of
session 1; the letter is the gender), and the scenario (P, R, S, T). `Evaluation.txt` gives each
clip's consensus label on a line `UTD-IMPROV-S01A-F01-P-FM01.avi; A; A:4.0; V:2.0; D:3.0 ; N:1.0;`
(A angry, H happy, S sad, N neutral, O other, X no agreement), followed by one line per rater.
Folds: one per session (6).
"""

from __future__ import annotations

import re
from pathlib import Path

from trustser.corpora.base import Dropped
from trustser.corpora.files import Candidate, register_dataset

CODES = {"N": "neutral", "H": "happy", "S": "sad", "A": "angry", "O": "other", "X": "no agreement"}
CONSENSUS = re.compile(r"^UTD-IMPROV-([A-Z0-9-]+)\.avi\s*;\s*([A-Z])\s*;")
NAME = re.compile(r"^MSP-IMPROV-(S\d\d)([A-Z])-([FM])(\d\d)-([A-Z])-([A-Z0-9]+)$")


def consensus(root: Path) -> dict[str, str]:
    """Consensus label code by clip name (`MSP-IMPROV-S01A-F01-P-FM01`), from Evaluation.txt."""
    labels = {}
    for line in (root / "Evaluation.txt").read_text(encoding="utf-8", errors="replace").splitlines():
        match = CONSENSUS.match(line.strip())
        if match:
            labels[f"MSP-IMPROV-{match.group(1)}"] = match.group(2)
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
        found.append(
            Candidate(
                path, labels[path.stem], f"{letter}{session}", sex, sentence=sentence, session=f"session{int(session)}"
            )
        )
    return found, dropped


register_dataset("msp_improv", codes=CODES, candidates=candidates, folding="session")
