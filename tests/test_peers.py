"""benchmarks/peers.py: the book's two MNIST recipes against two DCGAN recipes people copy, time to quality."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "peers.py"
COMMITTED = ROOT / "benchmarks" / "results" / "peers.json"
NAMES = ["chapter-5", "chapter-5-cgan", "pytorch-examples-dcgan", "tensorflow-dcgan-tutorial"]
PEERS = ["pytorch-examples-dcgan", "tensorflow-dcgan-tutorial"]
GOALS = ["0.6", "0.8"]


def load_peers_module():
    spec = importlib.util.spec_from_file_location("peers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def crossing(curve: list[dict], goal: float, key: str) -> float | None:
    """Where the ratio first reaches ``goal``, linear between evaluations (written again, independently)."""
    previous = None
    for point in curve:
        if point["ratio"] >= goal:
            if previous is None:
                return float(point[key])
            share = (goal - previous["ratio"]) / (point["ratio"] - previous["ratio"])
            return previous[key] + share * (point[key] - previous[key])
        previous = point
    return None


def check_structure(data: dict) -> None:
    """What every result of the benchmark holds, quick or full."""
    assert list(data["recipes"]) == NAMES and list(data["headline"]) == NAMES
    assert data["goals"] == [0.6, 0.8] and 0 < data["share_real"] <= 1
    for name, entry in data["recipes"].items():
        curve = entry["curve"]
        assert curve[0]["step"] == 0 and curve[-1]["step"] == entry["budget_steps"] > 0, name
        assert [p["step"] for p in curve] == sorted({p["step"] for p in curve}), f"{name}: steps must increase"
        assert entry["steps_per_s_one_thread"] > 0 and entry["steps_per_cpu_s_one_thread"] > 0
        assert len(entry["probe_steps_per_s"]) == data["probe_rounds"]
        for point in curve:
            assert {"step", "seconds", "ratio", "share", "fd"} <= set(point), name
            assert point["ratio"] >= 0 and point["fd"] > 0
            assert point["ratio"] == pytest.approx(point["share"] / data["share_real"], abs=1e-3)
            assert point["seconds"] == pytest.approx(point["step"] / entry["steps_per_s_one_thread"], abs=0.005)
            assert ("label_accuracy" in point) == (name == "chapter-5-cgan")
        assert set(entry["time_to"]) == set(GOALS) and entry["final"] == curve[-1]
        row = data["headline"][name]
        assert {"seconds_to_0.6", "seconds_to_0.8", "steps_to_0.6", "steps_to_0.8", "final_ratio", "final_fd",
                "steps_per_s", "budget_steps"} <= set(row)
    assert set(data["factors_cgan_sooner"]) == {"chapter-5", *PEERS}
    for factors in data["factors_cgan_sooner"].values():
        assert set(factors) == set(GOALS)
    assert data["claim_verdict"] in ("holds", "fails", "undecided")
    assert [s["seed"] for s in data["cgan_seeds"]][0] == 0


def test_eval_steps_are_log_spaced_and_end_at_the_budget():
    peers = load_peers_module()
    assert peers.eval_steps(600) == [0, 25, 35, 50, 71, 100, 141, 200, 283, 400, 566, 600]
    assert peers.eval_steps(3, first=1) == [0, 1, 2, 3]
    assert peers.eval_steps(100) == [0, 25, 35, 50, 71, 100]


def test_peer_networks_have_their_sources_shapes():
    import torch

    peers = load_peers_module()
    z = torch.randn(2, 100)
    g, d = peers.TorchExamplesGenerator(), peers.TorchExamplesDiscriminator()
    assert g(z).shape == (2, 1, 64, 64) and d(g(z)).shape == (2,)
    # pytorch/examples: G 3,574,656 and D 2,763,520 parameters for nc=1, nz=100, ngf=ndf=64 (no conv biases)
    assert sum(p.numel() for p in g.parameters()) == 3574656 and sum(p.numel() for p in d.parameters()) == 2763520
    g, d = peers.TFTutorialGenerator(), peers.TFTutorialDiscriminator()
    assert g(z).shape == (2, 1, 28, 28) and d(g(z)).shape == (2,)
    # the TensorFlow tutorial's model.summary(): G 2,330,944 parameters (of them 2,305,472 trainable), D 212,865
    assert sum(p.numel() for p in g.parameters()) == 2305472 and sum(p.numel() for p in d.parameters()) == 212865


def test_quick_run_writes_four_recipes_with_curves_and_headlines(tmp_path):
    out = tmp_path / "peers.json"
    env = {**os.environ}
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(out)], capture_output=True,
                            text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["quick"] is True and data["command"].endswith("--quick") and data["benchmark"] == "peers"
    check_structure(data)
    for entry in data["recipes"].values():
        assert [p["step"] for p in entry["curve"]] == [0, 1, 2]
    assert [s["seed"] for s in data["cgan_seeds"]] == [0, 1]


def test_a_budget_that_is_not_positive_is_refused_before_any_training(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--peer-budget", "0", "--out", str(tmp_path / "p.json")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "--peer-budget must be a positive number of seconds, got 0" in result.stderr
    assert not (tmp_path / "p.json").exists()


@pytest.mark.skipif(not COMMITTED.exists(), reason="no committed result yet")
def test_committed_result_is_a_full_run_whose_headlines_follow_from_its_curves():
    peers = load_peers_module()
    data = json.loads(COMMITTED.read_text())
    assert data["quick"] is False and "--quick" not in data["command"]
    assert data["num_eval"] == 1000 and data["threads"] == 1
    check_structure(data)
    for name, entry in data["recipes"].items():
        budget = data["peer_budget_seconds"] if name in PEERS else data["budget_seconds"]
        rate = entry["steps_per_s_one_thread"]
        # the budget in steps is round(probed speed x budget), with the speed as stored
        assert entry["budget_steps"] == round(rate * budget), name
        probed = sorted(entry["probe_steps_per_s"])
        assert rate == probed[len(probed) // 2], f"{name}: the speed is the median of the probes"
        assert [p["step"] for p in entry["curve"]] == peers.eval_steps(entry["budget_steps"]), name
        for goal in GOALS:
            told = entry["time_to"][goal]
            steps = crossing(entry["curve"], float(goal), "step")
            seconds = crossing(entry["curve"], float(goal), "seconds")
            assert told["reached"] == (steps is not None), (name, goal)
            if steps is None:
                assert told["seconds_more_than"] == entry["curve"][-1]["seconds"] == pytest.approx(budget, abs=1 / rate)
                assert data["headline"][name][f"seconds_to_{goal}"].startswith(">")
            else:
                assert told["steps"] == pytest.approx(steps, abs=0.05)
                assert told["seconds"] == pytest.approx(seconds, abs=0.005)
                assert data["headline"][name][f"seconds_to_{goal}"] == told["seconds"]
                assert data["headline"][name][f"steps_to_{goal}"] == told["steps"]
    cgan = data["recipes"]["chapter-5-cgan"]["time_to"]
    for peer, factors in data["factors_cgan_sooner"].items():
        for goal in GOALS:
            entry, mine, theirs = factors[goal], cgan[goal], data["recipes"][peer]["time_to"][goal]
            if not mine["reached"]:
                assert entry["factor"] is None and entry["lower_bound"] is None
            elif theirs["reached"]:
                assert entry["factor"] == pytest.approx(theirs["seconds"] / mine["seconds"], abs=0.005)
            else:
                assert entry["lower_bound"] == pytest.approx(theirs["seconds_more_than"] / mine["seconds"], abs=0.005)
    verdicts = []
    for peer in PEERS:
        mine, theirs = cgan["0.8"], data["recipes"][peer]["time_to"]["0.8"]
        if not mine["reached"]:
            verdicts.append("fails" if theirs["reached"] else "undecided")
        elif theirs["reached"]:
            verdicts.append("holds" if theirs["seconds"] >= 10 * mine["seconds"] else "fails")
        else:
            verdicts.append("holds" if theirs["seconds_more_than"] >= 10 * mine["seconds"] else "undecided")
        assert data["factors_cgan_sooner"][peer]["0.8"]["verdict"] == verdicts[-1], peer
    expected = "fails" if "fails" in verdicts else "holds" if set(verdicts) == {"holds"} else "undecided"
    assert data["claim_verdict"] == expected
    assert [s["seed"] for s in data["cgan_seeds"]] == [0, 1, 2]
    for seed in data["cgan_seeds"]:
        assert seed["steps"] == data["recipes"]["chapter-5-cgan"]["budget_steps"]
