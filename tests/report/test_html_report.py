"""The HTML trust report: a five-pillar radar and margin bars per backbone, labels that fit, escaping
of every data string, rendering in Chromium."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from trustser.gates.thresholds import load_gates
from trustser.pillars import declared_metrics
from trustser.report.html import render_html
from trustser.report.profile import PILLARS
from trustser.report.records import TrustRecord
from trustser.report.text_boxes import Box, TextLabel, fitted, overlapping_pairs

ROOT = Path(__file__).resolve().parents[2]
PLANTED = "<script>alert('x')</script>"
LONG_NAME = "hf:some-organisation/an-unusually-long-speech-model-name-v2-large-finetuned"
VIEWPORT_WIDTH = 1280


def record(metric: str, backbone: str, value: float | None, threshold: float, bound: str, **extra) -> TrustRecord:
    pillar = metric.split(".")[0]
    verdict = extra.pop("verdict", "SKIP" if value is None else "PASS")
    return TrustRecord(
        pillar,
        metric,
        extra.pop("label", metric),
        backbone,
        "synthetic",
        value,
        threshold,
        bound,
        verdict,
        10,
        extra.pop("message", "m"),
        extra.pop("details", {}),
    )


def sample_records() -> list[TrustRecord]:
    return [
        record("utility.uar", "mfcc", 0.4, 0.6, "min", verdict="FAIL"),
        record(
            "utility.uar",
            PLANTED,
            0.9,
            0.6,
            "min",
            label=PLANTED,
            message=PLANTED,
            details={"attribute": "gender", "point": {"uar_by_group": {PLANTED: 0.5, "male": 0.7}}},
        ),
        record("privacy.gender_inference_uar", "mfcc", 0.9, 0.75, "max", verdict="FAIL"),
        record("privacy.gender_inference_uar", PLANTED, 0.5, 0.75, "max"),
        record(
            "safety.fgsm_success_rate",
            "mfcc",
            0.6,
            0.2,
            "max",
            verdict="FAIL",
            details={"curve": [[20, 0.9], [40, 0.6], [60, 0.1]]},
        ),
        record("safety.fgsm_success_rate", PLANTED, None, 0.2, "max"),
    ]


RELIABILITY = {  # an overconfident model's diagram, as the calibration evaluator writes it
    "ece": 0.3,
    "reliability": {"confidence": [0.5, 0.8, 0.99], "accuracy": [0.4, 0.5, 0.6], "count": [4, 3, 3]},
}


def full_audit_records() -> list[TrustRecord]:
    """Every gate of thresholds.toml for three backbones, with values inside, on, outside and far beyond
    their gates, skips and crashes, long names, curves and per-group bars: the most a page has to fit."""
    factors = (0.0, 0.5, 0.95, 1.0, 1.05, 2.0, 1e6, None)
    records = []
    for b, backbone in enumerate(("mfcc", LONG_NAME, PLANTED)):
        for g, gate in enumerate(load_gates(ROOT / "thresholds.toml", declared_metrics()).values()):
            factor = factors[(g + b) % len(factors)]
            value = None if factor is None else gate.threshold * factor
            inside = value is not None and (value >= gate.threshold if gate.bound == "min" else value <= gate.threshold)
            verdict = (
                ("SKIP", "ERROR")[g % 2]
                if value is None
                else "PASS"
                if inside
                else "WARN"
                if gate.level == "warn"
                else "FAIL"
            )
            records.append(
                record(gate.metric, backbone, value, gate.threshold, gate.bound, verdict=verdict, label=gate.label)
            )
    records.append(
        record(
            "utility.uar",
            "mfcc",
            0.7,
            0.6,
            "min",
            label="a metric label far longer than any gate of thresholds.toml has " * 3,
            details={
                "attribute": "speaker",
                "point": {"uar_by_group": {f"speaker-{LONG_NAME}-{i}": 0.1 * i for i in range(8)}},
            },
        )
    )
    for backbone in (LONG_NAME, PLANTED):
        records.append(record("utility.ece", backbone, 0.3, 0.1, "max", verdict="FAIL", details=RELIABILITY))
    records.append(
        record(
            "safety.fgsm_success_rate",
            LONG_NAME,
            0.6,
            0.2,
            "max",
            verdict="FAIL",
            details={
                "curve": [[20, 0.9], [40, 0.6], [60, 0.1]],
                "conditions": [{"noise": f"babble-{LONG_NAME}", "snr_db": s, "uar": 0.5} for s in (0, 10, 20)],
            },
        )
    )
    return records


def full_audit_page() -> str:
    return render_html(
        full_audit_records(), {"corpus": "synthetic", "backbones": ["mfcc", LONG_NAME, PLANTED], "seed": 0}
    )


def svgs_of(page: str) -> list[ElementTree.Element]:
    return [ElementTree.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", page, flags=re.S)]


def labels_of(svg: ElementTree.Element) -> list[TextLabel]:
    return [
        TextLabel(
            float(t.get("x", 0)),
            float(t.get("y", 0)),
            "".join(t.itertext()),
            float(t.get("font-size", 11)),
            t.get("text-anchor", "start"),
        )
        for t in svg.iter("text")
    ]


def test_each_backbone_has_a_radar_with_the_six_pillars_in_order():
    page = render_html(sample_records(), {"corpus": "synthetic", "backbones": ["mfcc", PLANTED], "seed": 0})
    radars = [svg for svg in svgs_of(page) if svg.get("class") == "radar"]
    assert len(radars) == 2
    mfcc, planted = ([label.text for label in labels_of(radar)] for radar in radars)
    assert mfcc[0::2] == list(PILLARS)
    assert mfcc[1::2] == [
        "not measured",  # the protocol: no record of it here
        "worst margin -0.33",
        "worst margin -0.20",
        "not measured",
        "worst margin -1.00",
        "not measured",
    ]
    assert planted[1::2] == [
        "not measured",
        "worst margin +0.50",
        "worst margin +0.33",
        "not measured",
        "not measured",
        "not measured",
    ]
    dots = [c for c in radars[0].iter("circle") if c.get("r") == "4"]
    assert len(dots) == 3  # one point per measured pillar, none for the three not measured
    gate_ring = [c for c in radars[0].iter("circle") if "stroke-dasharray" in c.attrib]
    assert len(gate_ring) == 1 and float(gate_ring[0].get("r")) == pytest.approx(55.0)  # margin 0: half the radius


def test_margin_bars_group_every_gate_under_its_pillar():
    page = render_html(sample_records(), {"corpus": "synthetic", "backbones": ["mfcc", PLANTED], "seed": 0})
    bars = [svg for svg in svgs_of(page) if svg.get("class") == "margins"]
    assert len(bars) == 2
    texts = [label.text for label in labels_of(bars[1])]
    assert texts == [
        "−1",
        "0 = gate",
        "+1",
        "utility",
        PLANTED,
        "+0.50 PASS",
        "privacy",
        "privacy.gender_inference_uar",
        "+0.33 PASS",
        "safety",
        "safety.fgsm_success_rate",
        "SKIP",
    ]


def test_estimated_label_boxes_stay_inside_each_svg_and_apart():
    svgs = svgs_of(full_audit_page())
    assert {svg.get("class") for svg in svgs} == {"radar", "margins", "chart", "bars", "reliability"}
    for svg in svgs:
        _, _, width, height = (float(v) for v in svg.get("viewBox").split())
        assert width <= VIEWPORT_WIDTH - 80  # the page's margins
        boxes = [label.box() for label in labels_of(svg)]
        assert all(box.inside(width, height) for box in boxes), svg.findtext("title")
        assert overlapping_pairs(boxes) == [], svg.findtext("title")


def test_a_reliability_diagram_per_backbone_from_its_calibration_record():
    records = [
        record("utility.ece", "mfcc", 0.3, 0.1, "max", verdict="FAIL", details=RELIABILITY),
        record("utility.brier", "mfcc", 0.5, 0.6, "max", details=RELIABILITY),  # the same evaluation: drawn once
        record("utility.ece", "ge2e", 0.05, 0.1, "max", details={**RELIABILITY, "ece": 0.05}),
        record("utility.ece", "bad", 0.1, 0.1, "max", details={"reliability": {"confidence": [None], "accuracy": [1]}}),
    ]
    page = render_html(records, {"corpus": "synthetic", "backbones": ["ge2e", "mfcc", "bad"], "seed": 0})
    diagrams = [svg for svg in svgs_of(page) if svg.get("class") == "reliability"]
    assert [svg.findtext("title") for svg in diagrams] == [
        "reliability of ge2e on synthetic",  # in the order of the backbones; none for a diagram with a hole
        "reliability of mfcc on synthetic",
    ]
    mfcc = diagrams[1]
    assert "ECE 0.3, 3 equal-mass bins" in [label.text for label in labels_of(mfcc)]
    points = [float(c.get("cx")) for c in mfcc.iter("circle")]
    assert len(points) == 3 and points == sorted(points)  # one point per bin, by confidence
    gaps = [line for line in mfcc.iter("line") if line.get("stroke") == "#cf222e"]
    assert len(gaps) == 3  # each bin's gap, from the diagonal down to its accuracy: overconfident
    assert all(float(gap.get("y2")) > float(gap.get("y1")) for gap in gaps)
    assert "<h2>Calibration</h2>" in page


def test_text_box_estimate_follows_the_anchor_and_long_names_are_shortened():
    assert TextLabel(100, 50, "abcde", 10, "start").box() == Box(100, 41, 130, 52.5)
    assert TextLabel(100, 50, "abcde", 10, "middle").box() == Box(85, 41, 115, 52.5)
    assert TextLabel(100, 50, "abcde", 10, "end").box() == Box(70, 41, 100, 52.5)
    assert not Box(0, 0, 10, 10).overlaps(Box(10, 0, 20, 10))  # touching is not overlapping
    assert Box(0, 0, 10, 10).overlaps(Box(9, 9, 20, 20))
    assert fitted("abcdef", 4) == "abc…" and fitted("abcd", 4) == "abcd"


def test_every_data_string_is_escaped():
    page = render_html(sample_records(), {"corpus": PLANTED, "backbones": ["mfcc", PLANTED], "seed": 0})
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count('class="radar"') == 2 and page.count('class="margins"') == 2
    assert '<svg class="chart"' in page and '<svg class="bars"' in page


def _chromium() -> str | None:
    for name in ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


BROWSER_OPTIONS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    f"--window-size={VIEWPORT_WIDTH},1400",
]

# Appended to a copy of the page only: the report itself carries no script. It measures what the
# browser laid out and leaves the result in the DOM, which --dump-dom prints.
MEASURE = """<script>
window.addEventListener("load", () => {
  const apart = (a, b) => a.right <= b.left + 0.5 || b.right <= a.left + 0.5
    || a.bottom <= b.top + 0.5 || b.bottom <= a.top + 0.5;
  const found = {viewport: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
                 clipped: [], overlapping: []};
  for (const svg of document.querySelectorAll("svg")) {
    const frame = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll("text")].map(t => [t.textContent, t.getBoundingClientRect()]);
    for (const [text, box] of texts)
      if (box.left < frame.left - 0.5 || box.right > frame.right + 0.5
          || box.top < frame.top - 0.5 || box.bottom > frame.bottom + 0.5)
        found.clipped.push(text);
    if (svg.matches(".radar, .margins"))
      texts.forEach(([a, boxA], i) => texts.slice(i + 1).forEach(([b, boxB]) => {
        if (!apart(boxA, boxB)) found.overlapping.push([a, b]);
      }));
  }
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify(found);
  document.body.append(out);
});
</script>"""


def _dom(page: Path) -> str:
    return subprocess.run(
        [_chromium(), *BROWSER_OPTIONS, "--dump-dom", page.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


@pytest.mark.skipif(_chromium() is None, reason="no Chromium found (apt-get install chromium-headless-shell)")
def test_chromium_renders_the_radar_and_shows_a_planted_script_as_text(tmp_path: Path):
    page = tmp_path / "report.html"
    page.write_text(render_html(sample_records(), {"corpus": "synthetic", "backbones": ["mfcc", PLANTED], "seed": 0}))
    shot = tmp_path / "report.png"
    subprocess.run(
        [_chromium(), *BROWSER_OPTIONS, f"--screenshot={shot}", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert int.from_bytes(shot.read_bytes()[16:20], "big") == VIEWPORT_WIDTH  # the PNG's width
    dom = _dom(page)
    assert 'id="trust-profile-0"' in dom and 'class="radar"' in dom and 'class="margins"' in dom
    assert "<script" not in dom  # the planted label did not become an element...
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in dom  # ...it is shown as text


@pytest.mark.skipif(_chromium() is None, reason="no Chromium found (apt-get install chromium-headless-shell)")
def test_chromium_lays_out_every_label_inside_a_1280_px_page_without_overlaps(tmp_path: Path):
    page = tmp_path / "measured.html"
    page.write_text(full_audit_page().replace("</body>", MEASURE + "</body>"))
    measured = json.loads(html.unescape(re.search(r'<pre id="measured">(.*?)</pre>', _dom(page), flags=re.S).group(1)))
    assert measured["viewport"] == VIEWPORT_WIDTH
    assert measured["scrollWidth"] <= VIEWPORT_WIDTH
    assert measured["clipped"] == []
    assert measured["overlapping"] == []
