"""The corpus summary: counts per emotion × gender, speakers, duration, folds, drops; text and JSON."""

import json

from trustser.corpora.summary import summarise


def test_summary_counts_what_the_audit_uses_and_what_it_dropped(load, tmp_path):
    corpus = load("iemocap")
    summary = summarise(corpus, corpus.folds(4), "iemocap:x", 4)
    assert summary.counts["happy"] == {"female": 10, "male": 10}
    assert summary.speakers_by_gender == {"female": 5, "male": 5}
    assert abs(summary.hours * 3600 - 50 * 0.06) < 1e-6  # 50 files of 60 ms
    assert summary.dropped == {
        "emotion outside the label set: frustrated": 10,
        "emotion outside the label set: no agreement": 5,
    }
    assert (summary.folds, summary.fold_scheme) == (5, "leave-one-session-out (5 sessions)")
    text = summary.render()
    assert "50 utterances, 3.0 s, 10 speakers (5 female, 5 male)" in text
    assert (
        "dropped 15: 10 emotion outside the label set: frustrated; 5 emotion outside the label set: no agreement"
        in text
    )
    summary.save(tmp_path / "corpus_summary.json")
    assert json.loads((tmp_path / "corpus_summary.json").read_text())["counts"]["sad"] == {"female": 5, "male": 5}
