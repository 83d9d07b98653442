"""Decoded audio is cached once per file version; the corpus fingerprint follows the files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import numpy as np
import soundfile

from tests.corpora.conftest import FIXTURES
from trustser.corpora import create
from trustser.corpora.base import Corpus, Utterance


def copy_emodb(tmp_path):
    root = tmp_path / "emodb"
    shutil.copytree(FIXTURES / "emodb", root)
    return root


def test_files_are_decoded_once_then_read_from_the_cache(tmp_path):
    root, cache = copy_emodb(tmp_path), tmp_path / "cache"
    first = create(f"emodb:{root}", cache)
    stored = sorted((cache / "audio").glob("*.npy"))
    assert len(stored) == len(first)  # one float32 .npy per used file, nothing else
    before = {p: p.stat().st_mtime_ns for p in stored}
    second = create(f"emodb:{root}", cache)
    assert {p: p.stat().st_mtime_ns for p in stored} == before
    assert second.fingerprint() == first.fingerprint()
    wave = second.load_audio("03a01Na")
    assert wave.dtype == np.float32 and len(wave) == 960
    assert not list((cache / "audio").glob(".*"))  # no temporary files left behind


def test_fingerprint_changes_when_a_file_changes(tmp_path):
    root, cache = copy_emodb(tmp_path), tmp_path / "cache"
    before = create(f"emodb:{root}", cache)
    path = root / "wav" / "03a01Na.wav"
    wave, rate = soundfile.read(path, dtype="float32")
    soundfile.write(path, wave[::-1].copy(), rate, subtype="PCM_16")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    after = create(f"emodb:{root}", cache)
    assert after.fingerprint() != before.fingerprint()
    np.testing.assert_allclose(after.load_audio("03a01Na"), before.load_audio("03a01Na")[::-1], atol=1e-4)


def test_optional_utterance_fields_leave_existing_fingerprints_unchanged():
    class Plain(Corpus):
        def audio_fingerprint(self) -> str:
            return "x"

    utterances = [Utterance("u1", "s1", "female", "happy", "hello")]
    corpus = Plain(utterances)
    old_utterance = {"id": "u1", "speaker": "s1", "gender": "female", "emotion": "happy", "sentence": "hello"}
    old_payload = json.dumps(  # what fingerprint() hashed before Utterance had optional fields
        {
            "name": "corpus",
            "sample_rate": 16000,
            "emotions": corpus.emotions,
            "audio": "x",
            "utterances": [old_utterance],
        },
        sort_keys=True,
    )
    assert corpus.fingerprint() == hashlib.sha256(old_payload.encode()).hexdigest()[:16]
    aged = Plain([Utterance("u1", "s1", "female", "happy", "hello", age=30)])
    assert aged.fingerprint() != corpus.fingerprint()
