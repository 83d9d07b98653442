"""The heads benchmark's logic, run on the CPU at a tiny scale (its GPU section is run by hand on a GPU)."""

from __future__ import annotations

import benchmarks.gpu_check as gpu_check


def test_the_gpu_checks_heads_section_runs_and_reports_its_ratios(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gpu_check, "DEVICE", "cpu")
    monkeypatch.setattr(gpu_check, "SCALE", 0.0125)  # 8 and 32 utterances
    monkeypatch.setattr(gpu_check, "RESULTS", {})
    gpu_check.heads_epoch(tmp_path)
    [result] = gpu_check.RESULTS.values()
    assert "error" not in result, result.get("error")
    small, large = result["rows"]
    assert (small["utterances"], large["utterances"]) == (8, 32)
    for row in result["rows"]:
        for key in ("epoch_s", "sequential_s", "read_s", "compute_s", "packed_compute_s"):
            assert row[key] > 0, key
        assert row["ratio"] == row["epoch_s"] / (row["read_s"] + row["compute_s"])
    assert "| together / (read + compute) |" in capsys.readouterr().out
