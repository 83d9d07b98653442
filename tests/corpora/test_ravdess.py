"""RAVDESS as it ships: Actor_NN/03-01-EE-II-SS-RR-AA.wav, odd actors male, 48 kHz audio."""

import shutil
from collections import Counter

import numpy as np

from tests.corpora.conftest import FIXTURES, by_id, test_fold
from trustser.corpora import create


def test_fields_of_the_file_name_give_emotion_speaker_and_gender(load):
    utterances = by_id(load("ravdess"))
    expected = {
        "03-01-01-01-01-01-01": ("neutral", "Actor_01", "male"),
        "03-01-03-02-01-01-02": ("happy", "Actor_02", "female"),
        "03-01-04-02-01-01-07": ("sad", "Actor_07", "male"),
        "03-01-05-02-01-01-08": ("angry", "Actor_08", "female"),
    }
    for name, fields in expected.items():
        u = utterances[name]
        assert (u.emotion, u.speaker, u.gender) == fields
    for u in utterances.values():
        assert u.gender == ("male" if int(u.id[-2:]) % 2 else "female")


def test_calm_and_song_files_are_dropped_and_counted(load):
    corpus = load("ravdess")
    assert Counter(d.reason for d in corpus.dropped) == {
        "emotion outside the label set: calm": 8,
        "not audio-only speech": 1,
    }
    assert len(corpus) == 32


def test_48khz_files_are_resampled_to_16khz(load):
    corpus = load("ravdess")
    wave = corpus.load_audio("03-01-01-01-01-01-01")
    assert corpus.sample_rate == 16000 and wave.dtype == np.float32 and len(wave) == 640  # 40 ms


def test_folds_keep_each_actor_in_one_test_fold(load):
    corpus = load("ravdess")
    folds = corpus.folds(4, seed=0)
    assert len(folds) == 4
    assert {test_fold(folds, s) for s in corpus.column("speaker")} == {0, 1, 2, 3}


def test_actor_folders_inside_the_archive_folder_are_found(tmp_path):
    shutil.copytree(FIXTURES / "ravdess", tmp_path / "Audio_Speech_Actors_01-24")
    assert len(create(f"ravdess:{tmp_path}", tmp_path / "cache")) == 32
