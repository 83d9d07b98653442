"""A baseline matches however the corpus spec orders its options; what it cannot match is said, and a
malformed baseline is a usage error naming the record (issue: hostile inputs, item 6)."""

from __future__ import annotations

import json

import pytest

from trustser.report.baseline import BaselineError, load_baseline, normalised_corpus, unmatched


def _baseline(tmp_path, records) -> str:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"schema_version": "1", "records": records}))
    return str(path)


def test_option_order_does_not_matter():
    assert normalised_corpus("synthetic:sentences=4,speakers=4") == normalised_corpus(
        "synthetic:speakers=4,sentences=4"
    )
    assert normalised_corpus("manifest:/data/a.csv") == "manifest:/data/a.csv"
    assert normalised_corpus("synthetic") == "synthetic"


def test_a_baseline_written_with_other_option_order_matches(tmp_path):
    path = _baseline(
        tmp_path,
        [{"metric": "utility.uar", "backbone": "mfcc", "corpus": "synthetic:sentences=4,speakers=4", "value": 0.7}],
    )
    baseline = load_baseline(path)
    assert baseline[("utility.uar", "mfcc", normalised_corpus("synthetic:speakers=4,sentences=4"))] == 0.7
    assert unmatched(baseline, ["mfcc", "ge2e"], "synthetic:speakers=4,sentences=4") == ["ge2e"]


@pytest.mark.parametrize(
    "record, named",
    [
        ({"metric": "utility.uar", "backbone": "mfcc", "corpus": "synthetic", "value": "high"}, r"records\[0\]\.value"),
        ({"metric": ["utility.uar"], "backbone": "mfcc", "corpus": "synthetic", "value": 0.7}, r"records\[0\]: metric"),
        ("not a record", r"records\[0\] lacks"),
    ],
)
def test_a_malformed_record_is_a_baseline_error_naming_it(tmp_path, record, named):
    with pytest.raises(BaselineError, match=named):
        load_baseline(_baseline(tmp_path, [record]))
