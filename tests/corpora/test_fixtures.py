"""The committed fixture corpora are what make_fixtures.py writes, and they stay tiny."""

from __future__ import annotations

import importlib.util

import soundfile

from tests.corpora.conftest import FIXTURES


def generator():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def files(root):
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file() and p.suffix != ".py"}


def test_make_fixtures_reproduces_the_committed_files_byte_for_byte(tmp_path):
    generator().main(tmp_path)
    assert files(tmp_path) == files(FIXTURES)


def test_fixture_audio_is_tiny():
    wavs = list(FIXTURES.rglob("*.wav"))
    assert len(wavs) > 200
    for wav in wavs:
        assert soundfile.info(str(wav)).duration <= 0.5
        assert wav.stat().st_size <= 16044  # 0.5 s of 16-bit 16 kHz mono, with its header
    assert sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file()) < 1_500_000
