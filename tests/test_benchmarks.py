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
