"""A corpus described by a table: CSV or TSV with one row per audio file (teams' own data).

Required columns: `path` (relative to the table's folder, or absolute), `emotion`, `speaker`,
`gender` (female/male, F/M). Optional: `split` (train, dev|development|valid, test*; when present the
folds are these partitions, otherwise speaker-independent k-fold), `age`, `id` (default: the file
stem), `text` (the transcript) or `sentence` (a sentence id; the transcript wins where both are
given: the protocol pillar's lexical overlap and `--folds-disjoint sentence` read it), `session`; any
`arousal`, `valence`, `dominance` (attribute ratings, on the scale the spec names with
`scale=LOW-HIGH`, e.g. `manifest:/data/ours.csv,scale=1-7`; required where the table has them; an empty
cell leaves that utterance without the attribute); any other column is kept as a demographic. Emotion
names are read case-insensitively with common spellings (neu, hap, anger, happiness, ...); `map=` adds others.
A table with attribute columns may leave out `emotion`: a dimensional-only corpus (no categories; the
audit's task is then dimensional unless --task says otherwise).
"""

from __future__ import annotations

import csv
from pathlib import Path

from trustser.corpora.attributes import ATTRIBUTES, Scale, parse_rating
from trustser.corpora.base import Dropped
from trustser.corpora.emotions import SYNONYMS, UNCATEGORISED, mapping, parse_source
from trustser.corpora.files import Candidate, FileCorpus, build, gender, on_sample
from trustser.corpora.registry import register
from trustser.corpora.samples import tone, write_csv

REQUIRED = ("path", "emotion", "speaker", "gender")
KNOWN = (*REQUIRED, "split", "age", "id", "sentence", "text", "session", *ATTRIBUTES)
CODES = {spelling: emotion for emotion, spellings in SYNONYMS.items() for spelling in spellings}


def rows(table: Path) -> list[dict[str, str]]:
    delimiter = "\t" if table.suffix.lower() in (".tsv", ".tab") else ","
    with open(table, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        columns = reader.fieldnames or []
        # ratings can stand in for categories: a dimensional-only corpus
        optional = ("emotion",) if any(name in columns for name in ATTRIBUTES) else ()
        missing = [c for c in REQUIRED if c not in columns and c not in optional]
        if missing:
            raise ValueError(f"{table}: missing column(s) {missing}; found {reader.fieldnames}")
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]


def candidates(table: Path) -> tuple[list[Candidate], list[Dropped]]:
    found, dropped = [], []
    for line, row in enumerate(rows(table), start=2):
        age = row.get("age", "")
        if age and not age.isdigit():
            dropped.append(Dropped(f"{table}:{line}", "invalid age", repr(age), bad=True))
            continue
        try:
            attributes = {
                name: parse_rating(row[name], where=f"{table}:{line} {name}") for name in ATTRIBUTES if row.get(name)
            }
        except ValueError as error:
            dropped.append(Dropped(f"{table}:{line}", "invalid attribute rating", str(error), bad=True))
            continue
        path = Path(row["path"]).expanduser()
        extra = tuple((k, v) for k, v in sorted(row.items()) if k not in KNOWN and v)
        found.append(
            Candidate(
                path if path.is_absolute() else table.parent / path,
                row.get("emotion", "").lower(),  # "" in a dimensional-only table (no emotion column)
                row["speaker"],
                gender(row["gender"]),
                id=row.get("id", ""),
                sentence=row.get("text", "") or row.get("sentence", ""),
                age=int(age) if age else None,
                session=row.get("session", ""),
                split=row.get("split", ""),
                demographics=extra,
                attributes=attributes,
            )
        )
    return found, dropped


def write_sample(root: Path) -> None:
    """Eight speakers' tones in `audio/` and three tables over them: `manifest.csv` without splits (with an age and
    a further demographic column, and boredom, outside the label set), `manifest_split.tsv` with them, and
    `manifest_rated.csv` with arousal, valence and dominance on a 1-5 scale, `manifest_attributes.csv` with the same
    ratings and no emotion column (a dimensional-only corpus)."""
    spellings = {"neutral": "neutral", "happy": "Happiness", "sad": "sadness", "angry": "anger", "boredom": "boredom"}
    rows, split_rows, rated_rows = [], [], []
    for number in range(8):
        speaker, sex = f"spk{number + 1:02d}", "F" if number % 2 else "M"
        split = "test" if number < 2 else "dev" if number < 4 else "train"
        for emotion, spelling in spellings.items():
            relative = f"audio/{speaker}_{emotion}.wav"
            tone(root / relative, speaker, emotion)
            rows.append([relative, spelling, speaker, sex, 20 + 3 * number, "de" if number % 3 else "en"])
            if emotion != "boredom":
                split_rows.append([relative, spelling[:3].lower(), speaker, sex, split])
                rated_rows.append([relative, emotion, speaker, sex, *SAMPLE_RATINGS[emotion]])
    write_csv(root / "manifest.csv", ["path", "emotion", "speaker", "gender", "age", "native_language"], rows)
    write_csv(root / "manifest_split.tsv", ["path", "emotion", "speaker", "gender", "split"], split_rows, "\t")
    header = ["path", "emotion", "speaker", "gender", "arousal", "valence", "dominance"]
    write_csv(root / "manifest_rated.csv", header, rated_rows)
    unrated = [row[:1] + row[2:] for row in rated_rows]
    write_csv(root / "manifest_attributes.csv", header[:1] + header[2:], unrated)


# (arousal, valence, dominance) of the sample's emotions, on a 1-5 scale
SAMPLE_RATINGS = {
    "neutral": (2.5, 3.0, 2.5),
    "happy": (3.5, 4.0, 3.0),
    "sad": (2.0, 1.5, 2.0),
    "angry": (4.0, 1.5, 4.0),
}


@register(
    "manifest",
    reads_files=True,
    checked_as=[
        on_sample("manifest", write_sample, "manifest.csv"),
        on_sample("manifest", write_sample, "manifest_split.tsv"),
        on_sample("manifest", write_sample, "manifest_rated.csv,scale=1-5"),
        on_sample("manifest", write_sample, "manifest_attributes.csv,scale=1-5"),
    ],
)
def manifest_corpus(argument: str | None, cache_root: Path, on_bad_audio: str = "skip") -> FileCorpus:
    table, options = parse_source(argument, "manifest")
    labels = mapping(CODES, options)  # checked before the table is read
    found, dropped = candidates(table)
    if found and not any(c.code for c in found):  # no emotion column: attributes only
        if "map" in options or "emotions" in options:
            raise ValueError(f"{table} has no emotion column: map= and emotions= do not apply")
        labels = UNCATEGORISED
    scale = parse_scale(options.get("scale"), table, rated=any(c.attributes for c in found))
    folding = "partition" if any(c.split for c in found) else "speaker"
    return build(
        "manifest",
        table.parent,
        found,
        labels=labels,
        cache_root=cache_root,
        on_bad_audio=on_bad_audio,
        folding=folding,
        dropped=dropped,
        scale=scale,
    )


def parse_scale(text: str | None, table: Path, *, rated: bool) -> Scale | None:
    """The `scale=LOW-HIGH` option; required when the table rates attributes, refused when it rates none."""
    if text is None:
        if rated:
            raise ValueError(
                f"{table} has attribute columns ({', '.join(ATTRIBUTES)}): name their scale, e.g. "
                f"manifest:{table},scale=1-7"
            )
        return None
    low, sep, high = text.partition("-")
    try:
        scale = Scale(float(low), float(high)) if sep else None
    except ValueError:
        scale = None
    if scale is None:
        raise ValueError(f"scale= takes LOW-HIGH, e.g. scale=1-7, got {text!r}")
    if not rated:
        raise ValueError(f"{table}: scale={text} given, but the table has no {', '.join(ATTRIBUTES)} column")
    return scale
