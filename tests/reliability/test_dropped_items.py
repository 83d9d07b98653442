"""Every file left out is named and obeys `--on-bad-audio fail`, whatever the reason (issue: hostile inputs, item 6)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile

from trustser.corpora import create
from trustser.corpora.files import BadData
from trustser.corpora.summary import summarise


def _manifest(tmp_path, gender: str):
    for i in range(4):
        soundfile.write(tmp_path / f"a{i}.wav", (0.3 * np.sin(np.arange(8000) / (3 + i))).astype(np.float32), 16000)
    rows = [f"a{i}.wav,neutral,spk{i},{'F' if i % 2 else 'M'},a{i}" for i in range(3)] + [
        f"a3.wav,angry,spk3,{gender},a3"
    ]
    table = tmp_path / "corpus.csv"
    table.write_text("path,emotion,speaker,gender,id\n" + "\n".join(rows) + "\n")
    return table


def test_a_misspelled_gender_is_named_and_counted_as_bad(tmp_path):
    table = _manifest(tmp_path, "femal")
    corpus = create(f"manifest:{table}", tmp_path / "cache", on_bad_audio="skip")
    assert sorted(corpus.column("id")) == ["a0", "a1", "a2"]
    [dropped] = corpus.dropped
    assert dropped.bad and dropped.reason == "unrecognised gender" and "'femal'" in dropped.detail
    assert "a3.wav: unrecognised gender ('femal'" in summarise(corpus, [], f"manifest:{table}", 2).render()
    with pytest.raises(BadData, match="a3.wav: unrecognised gender"):
        create(f"manifest:{table}", tmp_path / "cache", on_bad_audio="fail")


def test_a_gender_the_corpus_declares_unknown_is_left_out_by_design(tmp_path):
    table = _manifest(tmp_path, "Unknown")
    corpus = create(f"manifest:{table}", tmp_path / "cache", on_bad_audio="fail")  # not bad data: no stop
    [dropped] = corpus.dropped
    assert not dropped.bad and dropped.reason == "unknown speaker or gender"
    summary = summarise(corpus, [], f"manifest:{table}", 2)
    assert summary.left_out == (f"{tmp_path / 'a3.wav'}: unknown speaker or gender ('spk3', None)",)  # named too
    assert f"left out: {tmp_path / 'a3.wav'}: unknown speaker or gender" in summary.render()


@pytest.mark.parametrize("backbones, kept", [(("mfcc",), 4), (("mfcc", "egemaps"), 3)])
def test_files_too_short_for_an_audited_encoder_are_dropped_naming_it(tmp_path, backbones, kept):
    from trustser.run.session import AuditSession, AuditSettings

    table = _manifest(tmp_path, "F")
    soundfile.write(tmp_path / "a3.wav", (0.3 * np.sin(np.arange(800) / 3)).astype(np.float32), 16000)  # 0.05 s
    settings = AuditSettings(backbones, f"manifest:{table}", tmp_path / "report", tmp_path / "cache", folds=2)
    corpus = AuditSession(settings).corpus
    assert len(corpus) == kept
    if kept == 3:
        [dropped] = corpus.dropped
        assert dropped.bad and dropped.reason == "too short" and "egemaps needs at least 0.1 s" in dropped.detail
        with pytest.raises(BadData, match="a3.wav: too short"):
            _ = AuditSession(dataclasses.replace(settings, on_bad_audio="fail")).corpus
