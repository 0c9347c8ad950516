"""The throughput benchmark's smoke mode runs in seconds and writes every field."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_throughput_quick_writes_its_json(tmp_path):
    out = tmp_path / "throughput.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--quick", "--device", "cpu",
                             "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    for key in ("date", "command", "machine", "load_average_before", "config", "trainer_images_per_s",
                "bare_images_per_s", "overhead", "overhead_limit", "within_limit", "runs_images_per_s"):
        assert key in data, f"{key} missing from the benchmark's JSON"
    assert data["quick"] is True and "--quick" in data["command"]
    assert data["machine"].startswith("cpu")
    assert len(data["runs_images_per_s"]["trainer"]) == len(data["runs_images_per_s"]["bare"]) >= 5
    assert data["trainer_images_per_s"] > 0 and data["bare_images_per_s"] > 0
    assert data["overhead_limit"] == 0.05



def test_committed_result_is_a_full_run():
    data = json.loads((ROOT / "benchmarks" / "results" / "throughput.json").read_text())
    assert data["quick"] is False and data["config"]["repeats"] >= 5
    assert data["within_limit"], f"the committed run measured a Trainer overhead of {data['overhead']:.1%}"


def test_transfer_quick_runs_end_to_end(tmp_path):
    """benchmarks/transfer.py --quick: one pair, 10 images, scratch and finetune, 20 steps, in seconds."""
    out = tmp_path / "transfer.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "transfer.py"), "--quick", "--out", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["command"].endswith("--quick") and data["source"] == "dcgan-mnist"
    assert [(a["target"], a["size"], a["strategy"]) for a in data["arms"]] == [
        ("mnist-edges", 10, "scratch"), ("mnist-edges", 10, "finetune")]
    for arm in data["arms"]:
        assert arm["steps"] == [0, 10, 20] and len(arm["fd_mean"]) == 3 and arm["final_fd"][0] > 0
    assert "steps_to" in data["arms"][1] and data["headlines"], "thresholds and headline are computed"


def test_committed_transfer_result_is_the_full_measurement():
    data = json.loads((ROOT / "benchmarks" / "results" / "transfer.json").read_text())
    settings = data["settings"]
    assert not data["command"].endswith("--quick")
    assert len(settings["seeds"]) >= 3 and {10, 100, 1000} <= set(settings["sizes"])
    assert {"mnist-edges", "digits", "glyphs"} <= set(settings["targets"])
    assert len(data["arms"]) == len(settings["targets"]) * len(settings["sizes"]) * len(settings["strategies"])
