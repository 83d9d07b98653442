"""A corpus as a table (CSV or TSV): required and optional columns, splits, synonyms, mistakes."""

from collections import Counter

import pytest

from tests.corpora.conftest import by_id
from trustser.corpora import create
from trustser.errors import SpecError


def test_csv_rows_give_emotion_speaker_gender_age_and_other_demographics(load):
    corpus = load("manifest", "manifest/manifest.csv")
    u = by_id(corpus)["08a02Fa"]  # path ../emodb/wav/08a02Fa.wav, emotion "Happiness"
    assert (u.emotion, u.speaker, u.gender, u.age) == ("happy", "spk08", "female", 28)
    assert u.demographics == (("native_language", "de"),)
    assert Counter(d.reason for d in corpus.dropped) == {"emotion outside the label set: boredom": 10}
    assert len(corpus.folds(4, seed=0)) == 4  # no split column: speaker-independent k-fold


def test_tsv_with_a_split_column_uses_its_partitions(load):
    corpus = load("manifest", "manifest/manifest_split.tsv")
    assert by_id(corpus)["03a04Ta"].split == "test" and by_id(corpus)["03a04Ta"].emotion == "sad"
    (fold,) = corpus.folds(4, seed=0)
    assert fold.test_speakers == ("spk03", "spk08") and fold.dev_speakers == ("spk09", "spk10")
    assert len(fold.train_speakers) == 6


def write(path, text):
    path.write_text(text)
    return path


def test_missing_required_column_is_named(tmp_path):
    table = write(tmp_path / "m.csv", "path,emotion,speaker\nx.wav,neutral,a\n")
    with pytest.raises(SpecError, match=r"missing column\(s\) \['gender'\]"):
        create(f"manifest:{table}", tmp_path)


def test_unknown_options_and_missing_paths_are_named(tmp_path):
    with pytest.raises(SpecError, match="unknown corpus option 'emotion=x'"):
        create(f"manifest:{tmp_path},emotion=x", tmp_path)
    with pytest.raises(SpecError, match="nowhere"):
        create(f"cremad:{tmp_path / 'nowhere'}", tmp_path)
    with pytest.raises(SpecError, match="needs a path"):
        create("iemocap", tmp_path)
    with pytest.raises(SpecError, match=r"no corpus code maps to \['joy-ish'\]"):
        create(f"cremad:{tmp_path},emotions=neutral+joy-ish", tmp_path)
