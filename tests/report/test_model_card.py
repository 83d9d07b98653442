"""model_card.md: its `model-index` front matter parses as YAML and lists every measured gate with its value
(SKIPs and ERRORs have none), whatever the backbone names hold; the body lists every gate and the caveats."""

from __future__ import annotations

import re

import yaml

from trustser.report.completion import Completion
from trustser.report.model_card import render_model_card
from trustser.report.records import TrustRecord

MODEL = "model:onnx:/models/ser: v2.onnx,labels=neu:hap:sad:ang"  # colons, commas and a space: YAML must quote it


def record(metric: str, verdict: str, value: float | None, backbone: str = MODEL, **fields) -> TrustRecord:
    pillar = metric.split(".")[0]
    return TrustRecord(
        pillar,
        metric,
        metric.split(".")[1],
        backbone,
        "tones",
        value,
        0.6,
        "min",
        verdict,
        32,
        f"{verdict} msg",
        **fields,
    )


RECORDS = [
    record("utility.uar", "FAIL", 0.31, ci_low=0.2, ci_high=0.4),
    record("utility.export_agreement", "PASS", 1.0),
    record("privacy.gender_inference_uar", "WARN", 0.55),
    record("safety.pgd_success_rate", "SKIP", None),
    record("protocol.lexical_overlap", "SKIP", None),
    record("utility.uar", "PASS", 0.7, backbone="mfcc"),
]


def front_matter(text: str) -> dict:
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, text[:200]
    return yaml.safe_load(match.group(1))


def test_the_model_index_lists_every_measured_gate_with_its_value():
    card = render_model_card(RECORDS, {"corpus": "tones", "folds": 4, "seed": 0, "backbones": [MODEL, "mfcc"]})
    index = front_matter(card)["model-index"]
    assert [entry["name"] for entry in index] == [MODEL, "mfcc"]
    listed = {(e["name"], m["type"]): m for e in index for r in e["results"] for m in r["metrics"]}
    measured = {(r.backbone, r.metric): r for r in RECORDS if r.value is not None}
    assert {key: metric["value"] for key, metric in listed.items()} == {k: r.value for k, r in measured.items()}
    uar = listed[MODEL, "utility.uar"]
    assert uar["args"] == {"gate": "min 0.6", "verdict": "FAIL", "ci95": [0.2, 0.4], "n": 32}
    assert index[0]["results"][0]["dataset"] == {"type": "tones", "name": "tones"}
    assert index[0]["results"][0]["task"]["type"] == "audio-classification"


def test_the_body_lists_every_gate_and_the_caveats():
    card = render_model_card(RECORDS, {"corpus": "tones", "folds": 4, "seed": 0, "backbones": [MODEL]})
    body = card.split("\n---\n", 1)[1]
    assert "4 speaker-independent folds" in body
    assert body.count(f"| `{MODEL}` |") == 5 and "| FAIL |" in body and "[0.2, 0.4]" in body
    caveats = body.split("### Caveats", 1)[1]
    assert "lexical_overlap: SKIP msg" in caveats and "pgd_success_rate: SKIP msg" in caveats
    assert "uar: FAIL msg" not in caveats


def test_a_run_cut_short_says_so():
    cut = Completion(collected=10, reported=6, missing=("a", "b", "c", "d"), interrupted=True, reason="interrupted")
    card = render_model_card(RECORDS, {"corpus": "tones"}, completion=cut)
    assert "Interrupted after 6 of 10 trust tests: not a release verdict." in card
