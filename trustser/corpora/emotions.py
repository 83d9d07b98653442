"""From a corpus's own emotion codes to the audit's label set, configurable per corpus.

Each adapter names what its codes mean (CREMA-D `ANG` = angry, IEMOCAP `exc` = happy, as is
customary). The label set is the study's four classes unless the spec asks for others; an utterance
whose emotion is outside the set is dropped and counted, a code the corpus does not define is bad
data. Spec options, after the corpus path:

    iemocap:/data/IEMOCAP,emotions=neutral+happy+sad+angry+frustrated,map=exc:excited+fru:frustrated

`emotions=` is the label set in class-index order; `map=` overrides or adds `code:emotion` pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trustser.corpora.base import EMOTIONS

# Spellings of emotion names met in manifests and corpus documentation, by canonical name.
SYNONYMS = {
    "neutral": ("neutral", "neu", "n", "neutrality"),
    "happy": ("happy", "hap", "happiness", "joy", "h"),
    "sad": ("sad", "sadness", "s"),
    "angry": ("angry", "ang", "anger", "a"),
    "fear": ("fear", "fea", "fearful", "afraid"),
    "disgust": ("disgust", "dis", "disgusted"),
    "surprise": ("surprise", "sur", "surprised"),
    "calm": ("calm",),
    "boredom": ("boredom", "bored"),
    "contempt": ("contempt",),
    "frustrated": ("frustrated", "fru", "frustration"),
    "excited": ("excited", "exc", "excitement"),
}


def canonical(name: str) -> str | None:
    """The canonical emotion for a spelling (case-insensitive), or None if unknown."""
    wanted = name.strip().lower()
    return next((emotion for emotion, spellings in SYNONYMS.items() if wanted in spellings), None)


@dataclass(frozen=True)
class EmotionMapping:
    codes: dict[str, str]  # the corpus's code -> emotion name
    emotions: tuple[str, ...] = EMOTIONS  # the audit's label set, in class-index order

    def emotion(self, code: str) -> str | None:
        """The emotion `code` stands for, None if it is outside the label set; KeyError if unknown."""
        emotion = self.codes[code]
        return emotion if emotion in self.emotions or not self.emotions else None


UNCATEGORISED = EmotionMapping({"": ""}, emotions=())
"""The mapping of a corpus that rates attributes only: every utterance's code and emotion are ""."""


def mapping(codes: dict[str, str], options: dict[str, str]) -> EmotionMapping:
    """The adapter's `codes` adjusted by the spec's `emotions=` and `map=` options."""
    codes = dict(codes)
    for pair in filter(None, options.get("map", "").split("+")):
        code, sep, emotion = pair.partition(":")
        if not sep or not emotion:
            raise ValueError(f"map entries are code:emotion, got {pair!r}")
        codes[code] = emotion
    emotions = tuple(filter(None, options.get("emotions", "").split("+"))) or EMOTIONS
    if len(emotions) < 2 or len(set(emotions)) != len(emotions):
        raise ValueError(f"the label set needs at least two distinct emotions, got {emotions}")
    reachable = set(codes.values())
    if any(e not in reachable for e in emotions):
        missing = [e for e in emotions if e not in reachable]
        raise ValueError(f"no corpus code maps to {missing}; codes map to {sorted(reachable)} (add map=code:emotion)")
    return EmotionMapping(codes, emotions)


SOURCE_OPTIONS = ("emotions", "map", "scale")  # scale: a manifest's attribute scale (LOW-HIGH)


def parse_source(argument: str | None, corpus: str) -> tuple[Path, dict[str, str]]:
    """Split a file corpus's spec argument into its path and `key=value` options."""
    if not argument:
        raise ValueError(f"corpus {corpus} needs a path: --corpus {corpus}:/path/to/{corpus}")
    path, *items = argument.split(",")
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in SOURCE_OPTIONS:
            raise ValueError(f"unknown corpus option {item!r}; known: {', '.join(SOURCE_OPTIONS)}")
        options[key.strip()] = value.strip()
    root = Path(path).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"{corpus} corpus not found at {root}")
    return root, options
