"""The HTML trust report: radar per backbone, escaping of every data string, rendering in Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from trustser.report.html import render_html
from trustser.report.radar import gate_margin, radar_axes
from trustser.report.records import TrustRecord

PLANTED = "<script>alert('x')</script>"


def record(metric: str, backbone: str, value: float | None, threshold: float, bound: str, **extra) -> TrustRecord:
    pillar = metric.split(".")[0]
    verdict = "SKIP" if value is None else "PASS"
    return TrustRecord(pillar, metric, extra.pop("label", metric), backbone, "synthetic", value, threshold, bound,
                       verdict, 10, extra.pop("message", "m"), extra.pop("details", {}))


def sample_records() -> list[TrustRecord]:
    return [
        record("utility.uar", "mfcc", 0.4, 0.6, "min"),
        record("utility.uar", PLANTED, 0.9, 0.6, "min", label=PLANTED, message=PLANTED,
               details={"attribute": "gender", "point": {"uar_by_group": {PLANTED: 0.5, "male": 0.7}}}),
        record("privacy.gender_inference_uar", "mfcc", 0.9, 0.75, "max"),
        record("privacy.gender_inference_uar", PLANTED, 0.5, 0.75, "max"),
        record("safety.fgsm_success_rate", "mfcc", 0.6, 0.2, "max", details={"curve": [[20, 0.9], [40, 0.6], [60, 0.1]]}),
        record("safety.fgsm_success_rate", PLANTED, None, 0.2, "max"),
    ]


def test_margins_put_the_gate_on_the_middle_ring_scaled_by_the_data():
    records = sample_records()
    assert gate_margin(records[0]) == pytest.approx((0.4 - 0.6) / 0.6)
    assert gate_margin(records[2]) == pytest.approx((0.75 - 0.9) / 0.75)
    axes = {a.metric: a for a in radar_axes(records, ["mfcc", PLANTED])}
    uar = axes["utility.uar"].radii
    # the larger |margin| (0.5 for 0.9 vs 0.6) reaches the rim; 0.4 sits inside by the same ratio
    assert uar[PLANTED] == pytest.approx(1.0)
    assert uar["mfcc"] == pytest.approx(0.5 - 0.5 * (0.2 / 0.6) / 0.5)
    assert axes["safety.fgsm_success_rate"].radii[PLANTED] is None  # not measured: no radius


def test_every_data_string_is_escaped():
    page = render_html(sample_records(), {"corpus": PLANTED, "backbones": ["mfcc", PLANTED], "seed": 0})
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count('class="radar"') == 2
    assert '<svg class="chart"' in page and '<svg class="bars"' in page


def _chromium() -> str | None:
    for name in ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


@pytest.mark.skipif(_chromium() is None, reason="no Chromium found (apt-get install chromium-headless-shell)")
def test_chromium_renders_the_radar_and_shows_a_planted_script_as_text(tmp_path: Path):
    page = tmp_path / "report.html"
    page.write_text(render_html(sample_records(), {"corpus": "synthetic", "backbones": ["mfcc", PLANTED], "seed": 0}))
    browser = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    shot = tmp_path / "report.png"
    subprocess.run([*browser, "--window-size=1280,1400", f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    dom = subprocess.run([*browser, "--dump-dom", page.as_uri()], check=True, capture_output=True, text=True, timeout=120).stdout
    assert 'id="trust-profile-0"' in dom and 'class="radar"' in dom
    assert "<script" not in dom  # the planted label did not become an element...
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in dom  # ...it is shown as text
