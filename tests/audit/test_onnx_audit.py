"""An ONNX export of a tiny `torch:` SER model, as a file and as an audonnx folder, audited as users run it:
`pytest trust_tests --model onnx:<file>,onnx:<folder> --export-parity torch:...,torch:...` (faithful exports:
the export-parity gates PASS), and planted unfaithful exports (a changed weight, a dropped normalisation)
failing them, on the tones corpus of tests/planted.

The exports are written with `torch.onnx.export` (trustser/models/finished/tiny_onnx.py) in a scratch directory.
Every pillar measures each export with 0 errors; the white-box attacks SKIP naming ONNX; privacy attacks the
graph's hidden-state output; the parameter count is the graph's initialisers; `model_card.md`'s `model-index`
lists every measured gate with its value. Energy windows are shortened (the measurement is not under test)
and peak memory is measured on the folder only (a child process each: 10 s), to keep the run short.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import yaml

from tests.suite_runs import ROOT, audit_thresholds, report_records, run_suite

pytest.importorskip("onnxruntime", reason="--model onnx: needs trustser[onnx]")
pytest.importorskip("onnx", reason="--model onnx: needs trustser[onnx]")

from trustser.models.finished.tiny_onnx import FLAWS, TinyConvSER, export_tiny_model  # noqa: E402

TORCH = "torch:trustser.models.finished.tiny_onnx:tiny_conv_model"
CORPUS = ("-p", "tests.planted.tones", "--corpus", "tones:speakers=4,per_emotion=2")
PILLARS = ("protocol", "utility", "privacy", "fairness", "safety", "sustainability")
PARITY = ("utility.export_agreement", "utility.export_max_posterior_delta", "utility.export_p99_posterior_delta")
CHANGES = {
    "safety.export_adversarial_carryover": {"budget_db": 10.0, "per_fold": 4},
}


def audit(tmp_path, name: str, models: list[str], exports: list[str], *extra: str):
    report = tmp_path / name
    done = run_suite(
        ROOT / "trust_tests",
        cwd=tmp_path,
        report=report,
        cache=tmp_path / "cache",
        options=(
            *CORPUS,
            *("--model", ",".join(models), "--export-parity", ",".join(exports)),
            *("--thresholds", str(audit_thresholds(tmp_path, CHANGES))),
            *extra,
        ),
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]  # 1: a random model fails gates
    suite = ET.parse(report / "junit.xml").getroot().find("testsuite")
    assert suite.get("errors") == "0", done.stdout[-3000:]
    return report, {(r["backbone"], r["metric"]): r for r in report_records(report)}


def test_an_onnx_export_and_its_audonnx_folder_are_audited_in_every_pillar(tmp_path):
    file = f"onnx:{export_tiny_model(tmp_path / 'file')},labels=neu:hap:sad:ang"
    folder = f"onnx:{export_tiny_model(tmp_path / 'folder', audonnx_folder=True)}"
    memory_of_file = f"trust_tests/test_sustainability.py::test_peak_memory[model:{file}]"
    report, records = audit(tmp_path, "report", [file, folder], [TORCH, TORCH], "--deselect", memory_of_file)

    parameters = sum(p.numel() for p in TinyConvSER().parameters())
    for model in (f"model:{file}", f"model:{folder}"):
        measured = {r["pillar"] for (backbone, _), r in records.items() if backbone == model and r["value"] is not None}
        assert measured == set(PILLARS), (model, measured)
        for attack in ("safety.fgsm_success_rate", "safety.pgd_success_rate"):
            assert records[model, attack]["verdict"] == "SKIP" and "ONNX graph" in records[model, attack]["message"]
        for black_box in ("safety.blackbox_success_rate", "safety.transfer_success_rate"):
            assert records[model, black_box]["value"] is not None, records[model, black_box]["message"]
        # the graph's hidden_states output (layer0) is attacked beside its logits (layer1)
        representations = records[model, "privacy.gender_inference_uar"]["details"]["uar_by_representation"]
        assert {"layer0", "layer1"} <= set(representations), representations
        assert records[model, "sustainability.parameters"]["value"] == parameters  # the graph's initialisers
        for metric in PARITY:  # a faithful export: the same predictions, posteriors within float32 rounding
            assert records[model, metric]["verdict"] == "PASS", records[model, metric]["message"]
        assert records[model, "utility.export_agreement"]["value"] == 1.0
        carryover = records[model, "safety.export_adversarial_carryover"]
        assert carryover["verdict"] == "PASS" and carryover["value"] == 1.0, carryover["message"]
    assert records[f"model:{folder}", "sustainability.peak_memory_mb"]["value"] > 0

    front = re.match(r"---\n(.*?)\n---\n", (report / "model_card.md").read_text(), re.S)
    listed = {
        (entry["name"], metric["type"]): metric["value"]
        for entry in yaml.safe_load(front.group(1))["model-index"]
        for result in entry["results"]
        for metric in result["metrics"]
    }
    gated = {key: r["value"] for key, r in records.items() if r["verdict"] in ("PASS", "WARN", "FAIL")}
    assert listed == gated


def test_unfaithful_exports_fail_parity_naming_the_share_of_changed_predictions(tmp_path):
    flawed = {flaw: f"onnx:{export_tiny_model(tmp_path / flaw, audonnx_folder=True, flaw=flaw)}" for flaw in FLAWS}
    parity_only = "test_export_agreement or test_export_max or test_export_p99"  # not the attack: it is tested above
    _, records = audit(tmp_path, "report", list(flawed.values()), [TORCH] * len(flawed), "-k", parity_only)
    for model in flawed.values():
        share = 1 - records[f"model:{model}", "utility.export_agreement"]["value"]
        for metric in PARITY:
            record = records[f"model:{model}", metric]
            assert record["verdict"] == "FAIL", record["message"]
            assert f"of 32 utterances ({share:.1%}) change their predicted emotion" in record["message"]
