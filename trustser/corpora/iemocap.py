"""IEMOCAP (Busso et al., 2008): five dyadic sessions, one actress and one actor each, as it ships.

Layout: `Session1..5/sentences/wav/<dialog>/<utterance>.wav` and
`Session1..5/dialog/EmoEvaluation/<dialog>.txt`, whose turn lines read
`[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]` (start, end,
utterance, consensus category, and the raters' mean valence, activation (arousal) and dominance on
IEMOCAP's 1-5 scale, kept as the utterance's attributes); `Session1..5/dialog/transcriptions/<dialog>.txt`
(where the copy has them) gives each turn's words, `Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.`,
kept as the utterance's sentence (scripted dialogs repeat their lines in every session: the protocol
pillar's lexical overlap counts them). The speaker's gender is the letter
before the utterance index (`..._F000`); each session has one speaker of each gender. "excited" is
merged into happy, as is customary; `xxx` (no majority) and `oth` fall outside the label set.
Folds: leave-one-session-out (5).
"""

from __future__ import annotations

import re
from pathlib import Path

from trustser.corpora.attributes import Scale
from trustser.corpora.base import Dropped
from trustser.corpora.files import Candidate, register_dataset
from trustser.corpora.samples import tone

CODES = {
    "neu": "neutral",
    "hap": "happy",
    "exc": "happy",
    "sad": "sad",
    "ang": "angry",
    "fru": "frustrated",
    "sur": "surprise",
    "fea": "fear",
    "dis": "disgust",
    "oth": "other",
    "xxx": "no agreement",
}
TURN = re.compile(
    r"^\[\s*([\d.]+)\s*-\s*([\d.]+)\s*\]\s+(\S+)\s+(\S+)\s+\[(?:\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*\])?"
)
SCALE = Scale(1.0, 5.0)
TRANSCRIPT = re.compile(r"^(\S+)\s+\[[\d.]+\s*-\s*[\d.]+\]:\s*(.*?)\s*$")
UTTERANCE = re.compile(r"^Ses(\d\d)[FM]_(.+)_([FM])\d+$")


def evaluations(session: Path) -> list[tuple[str, str, dict[str, float]]]:
    """(utterance id, category code, attributes) of every turn in a session's EmoEvaluation files."""
    turns = []
    for path in sorted((session / "dialog" / "EmoEvaluation").glob("*.txt")):
        if path.name.startswith("._"):  # macOS resource forks found in some copies of the corpus
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = TURN.match(line)
            if match:
                valence, arousal, dominance = match.group(5, 6, 7)
                ratings = {} if valence is None else {"valence": valence, "arousal": arousal, "dominance": dominance}
                turns.append((match.group(3), match.group(4), {k: float(v) for k, v in ratings.items()}))
    return turns


def transcriptions(session: Path) -> dict[str, str]:
    """Utterance id -> its words, from a session's transcription files (empty where the copy has none)."""
    words = {}
    for path in sorted((session / "dialog" / "transcriptions").glob("*.txt")):
        if path.name.startswith("._"):
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = TRANSCRIPT.match(line)
            if match:
                words[match.group(1)] = match.group(2)
    return words


def candidates(root: Path) -> tuple[list[Candidate], list[Dropped]]:
    found, dropped = [], []
    sessions = sorted(p for p in root.glob("Session[1-9]") if p.is_dir())
    if not sessions:
        raise FileNotFoundError(f"no Session1..5 folders in {root}")
    for session in sessions:
        words = transcriptions(session)
        for utterance, code, attributes in evaluations(session):
            match = UTTERANCE.match(utterance)
            if match is None:
                dropped.append(Dropped(utterance, "unrecognised utterance id", f"in {session.name}", bad=True))
                continue
            number, _, letter = match.groups()
            dialog = utterance.rsplit("_", 1)[0]
            path = session / "sentences" / "wav" / dialog / f"{utterance}.wav"
            sex = "female" if letter == "F" else "male"
            found.append(
                Candidate(
                    path,
                    code,
                    f"Ses{number}{letter}",
                    sex,
                    id=utterance,
                    sentence=words.get(utterance, ""),
                    session=session.name,
                    attributes=attributes,
                )
            )
    return found, dropped


SAMPLE_HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
# (valence, activation, dominance) of the sample's emotions, on the 1-5 scale
SAMPLE_RATINGS = {
    "neutral": (3.0, 2.5, 2.5),
    "happy": (4.0, 3.5, 3.0),
    "sad": (1.5, 2.0, 2.0),
    "angry": (1.5, 4.0, 4.0),
    "frustrated": (2.0, 3.5, 3.5),
}
SAMPLE_CODES = {"neu": "neutral", "hap": "happy", "exc": "happy", "sad": "sad", "ang": "angry", "fru": "frustrated"}


def write_sample(root: Path) -> None:
    """The real session structure (five sessions, one actress and one actor each), two dialogs per session,
    six turns per speaker rated [V, A, D] as such emotions typically are (`SAMPLE_RATINGS`), and one turn
    without a majority (`xxx`); transcriptions whose scripted lines
    are the same in every session and whose improvised ones are each session's own."""
    for session in range(1, 6):
        dialogs = {f"Ses{session:02d}F_impro01": [], f"Ses{session:02d}M_script01_1": []}
        for letter in "FM":
            for position, (code, emotion) in enumerate(SAMPLE_CODES.items()):
                dialog = list(dialogs)[position // 3]
                turn = f"{dialog}_{letter}{position % 3:03d}"
                dialogs[dialog].append((turn, code, SAMPLE_RATINGS[emotion]))
                wav = root / f"Session{session}" / "sentences" / "wav" / dialog / f"{turn}.wav"
                tone(wav, f"{session}{letter}", emotion)
        impro = f"Ses{session:02d}F_impro01"
        dialogs[impro].append((f"{impro}_F003", "xxx", SAMPLE_RATINGS["neutral"]))
        tone(root / f"Session{session}" / "sentences" / "wav" / impro / f"{impro}_F003.wav", f"{session}F", "neutral")
        for dialog, turns in dialogs.items():
            said = [
                f"{turn} [{2.5 * i + 1.25:08.4f}-{2.5 * i + 3.15:08.4f}]: "
                + (f"Scripted line {i}." if "script" in dialog else f"Session {session} says {turn[-4:]}.")
                + "\n"
                for i, (turn, *_) in enumerate(turns)
            ]
            transcript = root / f"Session{session}" / "dialog" / "transcriptions" / f"{dialog}.txt"
            transcript.parent.mkdir(parents=True, exist_ok=True)
            transcript.write_text("".join(said))
            lines = [SAMPLE_HEADER]
            for index, (turn, code, (valence, arousal, dominance)) in enumerate(turns):
                start = 2.5 * index + 1.25
                vad = f"[{valence:.4f}, {arousal:.4f}, {dominance:.4f}]"
                lines.append(f"[{start:.4f} - {start + 1.9:.4f}]\t{turn}\t{code}\t{vad}\n")
                lines.append("C-E1:\tNeutral;\t()\nC-E2:\tNeutral;\t()\nA-E1:\tval 3; act 3; dom  3;\t()\n\n")
            target = root / f"Session{session}" / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("".join(lines))


register_dataset("iemocap", codes=CODES, candidates=candidates, folding="session", sample=write_sample, scale=SCALE)
