"""The bad-data battery: bad files are named and skipped (counted) or fail; odd but valid files are decoded.

Valid: stereo (downmixed), 8 kHz and 48 kHz (resampled to 16 kHz), 24-bit. Bad: missing, truncated,
zero bytes, zero samples, NaN, finite but absurdly loud (1e20), digital silence, too short for any
encoder, an unknown emotion label.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from trustser.corpora import create
from trustser.corpora.audio import BadAudio, decode
from trustser.corpora.files import BadData
from trustser.corpora.summary import summarise

RATE = 16000


def sine(seconds: float, rate: int, hz: float = 440.0) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def write_battery(folder: Path) -> dict[str, str]:
    """Files of every kind; returns name -> expected reason (None for valid)."""
    soundfile.write(folder / "ok.wav", sine(0.25, RATE), RATE, subtype="PCM_16")
    soundfile.write(folder / "stereo.wav", np.stack([sine(0.25, RATE), np.zeros(4000, np.float32)], 1), RATE)
    soundfile.write(folder / "8k.wav", sine(0.25, 8000), 8000, subtype="PCM_16")
    soundfile.write(folder / "48k.wav", sine(0.25, 48000), 48000, subtype="PCM_16")
    soundfile.write(folder / "24bit.wav", sine(0.25, RATE), RATE, subtype="PCM_24")
    data = (folder / "ok.wav").read_bytes()
    (folder / "truncated.wav").write_bytes(data[: len(data) // 2])
    (folder / "zero_bytes.wav").write_bytes(b"")
    soundfile.write(folder / "no_samples.wav", np.zeros(0, np.float32), RATE)
    nan = sine(0.25, RATE)
    nan[100] = np.nan
    soundfile.write(folder / "nan.wav", nan, RATE, subtype="FLOAT")
    soundfile.write(folder / "loud.wav", sine(0.25, RATE) * 1e20, RATE, subtype="FLOAT")  # finite, but not audio
    soundfile.write(folder / "silent.wav", np.zeros(4000, np.float32), RATE, subtype="PCM_16")
    soundfile.write(folder / "short.wav", sine(0.01, RATE), RATE, subtype="PCM_16")  # below any encoder's first frame
    return {
        "ok": None,
        "stereo": None,
        "8k": None,
        "48k": None,
        "24bit": None,
        "missing": "missing file",
        "truncated": "truncated audio",
        "zero_bytes": "undecodable audio",
        "no_samples": "empty audio",
        "nan": "NaN or infinite samples",
        "loud": "absurd amplitude",
        "silent": "digital silence",
        "short": "too short",
    }


@pytest.fixture
def battery(tmp_path):
    expected = write_battery(tmp_path)
    rows = [f"{name}.wav,neutral,spk{i},{'F' if i % 2 else 'M'}" for i, name in enumerate(expected)]
    rows.append("ok.wav,confused,spk99,F")  # an emotion label nobody defined
    table = tmp_path / "battery.csv"
    table.write_text(
        "path,emotion,speaker,gender,id\n"
        + "\n".join(f"{r},{r.split('.')[0]}" for r in rows[:-1])
        + "\n"
        + rows[-1]
        + ",ok_confused\n"
    )
    return table, expected


def test_skip_names_and_counts_every_bad_item_and_keeps_the_valid_ones(battery, tmp_path):
    table, expected = battery
    corpus = create(f"manifest:{table}", tmp_path / "cache", on_bad_audio="skip")
    assert sorted(corpus.column("id")) == sorted(n for n, reason in expected.items() if reason is None)
    reasons = {Path(d.item).stem: d.reason for d in corpus.dropped}
    assert reasons == {**{n: r for n, r in expected.items() if r}, "ok": "unknown emotion label"}
    assert all(d.bad for d in corpus.dropped)
    text = summarise(corpus, [], f"manifest:{table}", 4).render()
    for name, reason in expected.items():
        if reason:
            assert f"{name}.wav: {reason}" in text
    assert "unknown emotion label ('confused'" in text


@pytest.mark.parametrize(
    "name", ["missing", "truncated", "zero_bytes", "no_samples", "nan", "loud", "silent", "short", "unknown_label"]
)
def test_fail_stops_at_the_bad_item_naming_it(battery, tmp_path, name):
    table, expected = battery
    keep = [line for line in table.read_text().splitlines() if line.startswith(("path", "ok.wav,neutral"))]
    line = "ok.wav,confused,spk99,F,x" if name == "unknown_label" else f"{name}.wav,neutral,spk7,F,{name}"
    bad = tmp_path / f"{name}.csv"
    bad.write_text("\n".join([*keep, line]) + "\n")
    reason = "unknown emotion label" if name == "unknown_label" else expected[name]
    with pytest.raises(BadData, match=rf"ok.wav: {reason}" if name == "unknown_label" else rf"{name}.wav: {reason}"):
        create(f"manifest:{bad}", tmp_path / "cache", on_bad_audio="fail")


def test_valid_odd_formats_are_decoded_downmixed_and_resampled(tmp_path):
    write_battery(tmp_path)
    reference = sine(0.25, RATE)
    for name in ("8k", "48k"):
        wave = decode(tmp_path / f"{name}.wav", RATE)
        assert len(wave) == 4000 and wave.dtype == np.float32
        assert np.argmax(np.abs(np.fft.rfft(wave))) == np.argmax(np.abs(np.fft.rfft(reference)))  # still 440 Hz
        assert np.abs(wave[200:-200] - reference[200:-200]).max() < 0.01
    stereo = decode(tmp_path / "stereo.wav", RATE)
    np.testing.assert_allclose(stereo, reference / 2, atol=1 / 2**15)  # mean of the two (16-bit) channels
    np.testing.assert_allclose(decode(tmp_path / "24bit.wav", RATE), reference, atol=1e-6)


def test_bad_audio_error_names_file_and_reason(tmp_path):
    with pytest.raises(BadAudio, match=r"gone\.wav: missing file"):
        decode(tmp_path / "gone.wav", RATE)


def test_a_git_lfs_pointer_is_recognised(tmp_path):
    pointer = tmp_path / "1001_DFA_ANG_XX.wav"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n")
    with pytest.raises(BadAudio, match="git-lfs pointer"):
        decode(pointer, RATE)
