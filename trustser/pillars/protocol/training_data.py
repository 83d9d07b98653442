"""Whether an audited model declares it was trained on the corpus it is audited on.

An encoder or finished model declares its training data as dataset names (`Encoder.trained_on`: an
encoder registration's `trained_on`, a Hugging Face checkpoint's model card `datasets`, a team module's
`trained_on` attribute). A declared name names the audited corpus when its last path segment (a hub id's
dataset name) contains one of the corpus's spellings as a run of words: `AbstractTTS/IEMOCAP`,
`iemocap_audio` and `IEMOCAP` name `iemocap`; `crema-d-parquet` names `cremad`. A corpus without a
known spelling (the synthetic one, a manifest, a team's corpus) is named only by its own name, whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SPELLINGS = {  # how dataset ids spell the corpora this package reads as they ship
    "cremad": ("crema-d",),
    "emodb": ("emodb", "emo-db", "berlin database of emotional speech"),
    "iemocap": ("iemocap",),
    "msp_improv": ("msp-improv",),
    "msp_podcast": ("msp-podcast",),
    "ravdess": ("ravdess",),
}


@dataclass(frozen=True)
class TrainingDataOverlap:
    corpus: str
    declared: tuple[str, ...]  # every dataset the model declares it was trained on
    overlapping: tuple[str, ...]  # those naming the audited corpus

    @property
    def note(self) -> str:
        if self.overlapping:
            return f"declares training on {', '.join(self.overlapping)}: the audited corpus ({self.corpus})"
        if not self.declared:
            return "declares no training data"
        return f"declares training on {', '.join(self.declared)}, not on {self.corpus}"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.casefold())


def names_corpus(declared: str, corpus: str) -> bool:
    """Whether the declared dataset name names `corpus` (see the module's docstring)."""
    words = _words(declared.rsplit("/", 1)[-1])
    if "".join(words) == "".join(_words(corpus)):
        return True
    for spelling in SPELLINGS.get(corpus, ()):
        wanted = "".join(_words(spelling))
        runs = ("".join(words[start:end]) for start in range(len(words)) for end in range(start + 1, len(words) + 1))
        if wanted in runs:
            return True
    return False


def training_data_overlap(declared: tuple[str, ...], corpus: str) -> TrainingDataOverlap:
    """The declared training datasets that name the audited corpus."""
    return TrainingDataOverlap(corpus, tuple(declared), tuple(name for name in declared if names_corpus(name, corpus)))
