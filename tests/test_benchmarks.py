"""The throughput benchmark's smoke mode runs in seconds and writes every field."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_quick(script: str, out: Path, *extra: str) -> dict:
    """Run ``benchmarks/<script> --quick --out <out>`` and return the JSON it wrote."""
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick", *extra, "--out", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(out.read_text())


def test_throughput_quick_writes_its_json(tmp_path):
    data = run_quick("throughput.py", tmp_path / "throughput.json", "--device", "cpu")
    for key in ("when_utc", "command", "machine", "load_average_before", "config", "trainer_images_per_s",
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
    """benchmarks/transfer.py --quick: one pair, 10 images, five strategies and a conditional arm, 2 seeds, 20 steps."""
    data = run_quick("transfer.py", tmp_path / "transfer.json")
    assert data["command"].endswith("--quick") and data["settings"]["source"] == "dcgan-mnist"
    assert [(a["source"], a["strategy"]) for a in data["arms"]] == [
        ("cgan-mnist", "adapter"), ("dcgan-mnist", "adapter"), ("dcgan-mnist", "ewc"), ("dcgan-mnist", "finetune"),
        ("dcgan-mnist", "minegan"), ("dcgan-mnist", "scratch")]
    for arm in data["arms"]:
        assert arm["steps"] == [0, 10, 14, 20] and arm["seeds"] == [0, 1] and arm["final_fd"][0] > 0
        assert 0 < arm["memorisation_ratio"][0] < 2
    conditional = data["arms"][0]
    assert 0 <= conditional["label_accuracy"][0] <= 1 and "thresholds" not in conditional  # no scratch to compare
    assert data["arms"][2]["steps_to"]["scratch_final"] is not None and data["headlines"]
    assert data["settings"]["ema_warmup"] is True
    runs = (tmp_path / "transfer.runs.jsonl").read_text().splitlines()
    assert len(runs) == 12, "every finished run is logged for --resume"
    again = run_quick("transfer.py", tmp_path / "transfer.json", "--resume")
    assert again["arms"] == data["arms"] and len((tmp_path / "transfer.runs.jsonl").read_text().splitlines()) == 12


def test_committed_transfer_result_is_the_full_measurement():
    data = json.loads((ROOT / "benchmarks" / "results" / "transfer.json").read_text())
    settings = data["settings"]
    assert not data["quick"] and settings["steps"] >= 2000
    assert len(settings["seeds"]) >= 3 and {10, 100} <= set(settings["sizes"])
    assert {"mnist-edges", "mnist-negative"} <= set(settings["targets"])
    assert {"scratch", "finetune", "ewc", "minegan", "adapter"} <= set(settings["strategies"])
    assert settings["ema_warmup"] is True and "adapter" in settings["conditional_strategies"]
    expected = len(settings["targets"]) * len(settings["sizes"]) * (
        len(settings["strategies"]) + len(settings["conditional_strategies"]))
    assert len(data["arms"]) == expected
    assert all(a["seeds"] == settings["seeds"] for a in data["arms"])
    assert all("label_accuracy" in a for a in data["arms"] if a["source"] == settings["conditional_source"])


@pytest.mark.parametrize("name, targets, sizes", [("transfer_far.json", ["digits", "glyphs"], None),
                                                  ("transfer_1000.json", None, [1000])])
def test_committed_extra_transfer_results_follow_the_same_protocol(name, targets, sizes):
    """The mid and far pairs (digits, glyphs) and the near pairs with 1,000 images: transfer.json's protocol."""
    near = json.loads((ROOT / "benchmarks" / "results" / "transfer.json").read_text())["settings"]
    data = json.loads((ROOT / "benchmarks" / "results" / name).read_text())
    settings = data["settings"]
    assert not data["quick"] and not settings["conditional_source"]
    assert settings["targets"] == (targets or near["targets"]) and settings["sizes"] == (sizes or near["sizes"])
    for key in ("source", "seeds", "steps", "batch_size", "eval_n", "ema_warmup"):
        assert settings[key] == near[key], f"{key}: {settings[key]} in {name}, {near[key]} in transfer.json"
    assert {"scratch", "finetune", "adapter"} <= set(settings["strategies"])
    assert len(data["arms"]) == len(settings["targets"]) * len(settings["sizes"]) * len(settings["strategies"])
    assert all(a["seeds"] == settings["seeds"] for a in data["arms"])


def test_latent_prior_quick_runs_both_priors(tmp_path):
    """benchmarks/latent_prior.py --quick: both priors, one seed, 20 steps, evaluated twice, in seconds."""
    data = run_quick("latent_prior.py", tmp_path / "latent_prior.json")
    assert data["command"].endswith("--quick") and data["steps"] == 20 and data["seeds"] == [0]
    assert sorted(run["prior"] for run in data["runs"]) == ["mixture-50", "normal"]
    assert next(r for r in data["runs"] if r["prior"] == "mixture-50")["latent"]["components"] == 50
    for run in data["runs"]:
        assert [p["step"] for p in run["curve"]] == [10, 20]
        assert all(0 <= p["ratio"] and p["fd"] > 0 for p in run["curve"]) and 0 < run["share_real"] <= 1
    for name, curve in data["mean"].items():  # one seed: the mean is that seed's curve
        run = next(r for r in data["runs"] if r["prior"] == name)
        assert [p["ratio"] for p in curve] == [p["ratio"] for p in run["curve"]]
        assert all(p["ratio_min"] == p["ratio"] == p["ratio_max"] for p in curve)


def test_committed_latent_prior_result_covers_twice_chapter_5_over_three_seeds():
    data = json.loads((ROOT / "benchmarks" / "results" / "latent_prior.json").read_text())
    assert not data["command"].endswith("--quick") and data["steps"] >= 12000 and len(data["seeds"]) >= 3
    assert len(data["runs"]) == 2 * len(data["seeds"])
    for run in data["runs"]:
        assert run["curve"][-1]["step"] == data["steps"] and len(run["curve"]) >= 8


def test_r1_quick_runs_both_gammas(tmp_path):
    """benchmarks/r1.py --quick: gamma 0 and 1, one seed, 20 steps, evaluated twice; R1 costs time per step."""
    data = run_quick("r1.py", tmp_path / "r1.json")
    assert data["command"].endswith("--quick") and data["steps"] == 20 and data["seeds"] == [0]
    assert sorted(run["r1_gamma"] for run in data["runs"]) == [0.0, 1.0] and set(data["mean"]) == {"0", "1"}
    for run in data["runs"]:
        assert [p["step"] for p in run["curve"]] == [10, 20]
        assert all(0 <= p["ratio"] and p["fd"] > 0 for p in run["curve"]) and 0 < run["share_real"] <= 1
    assert all(v > 0 for v in data["seconds_per_step"].values())


def test_committed_r1_result_is_chapter_5s_budget_over_three_seeds():
    """The file chapter 5 reads: both arms over three seeds at the chapter's 6,000 steps, every 1,500."""
    from gantutor.recipes import recipe

    data = json.loads((ROOT / "benchmarks" / "results" / "r1.json").read_text())
    assert not data["command"].endswith("--quick") and data["steps"] == recipe("chapter-5").steps
    assert len(data["seeds"]) >= 3 and data["gammas"] == [0.0, 1.0]
    assert data["gammas"][1] == recipe("dcgan-mnist").train.r1_gamma, "the shipped model's gamma is the one measured"
    assert len(data["runs"]) == 2 * len(data["seeds"])
    for run in data["runs"]:
        assert [p["step"] for p in run["curve"]] == [1500, 3000, 4500, 6000]


def load_levers_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("levers", ROOT / "benchmarks" / "levers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_levers_recipes_change_one_thing_of_chapter_5():
    levers = load_levers_module()
    assert levers.recipe("chapter 5's recipe") == levers.CHAPTER
    for name, changes in levers.LEVERS.items():
        assert set(changes) <= set(levers.CHAPTER), f"{name} changes a setting chapter 5 does not have"
        differs = {k for k in levers.CHAPTER if levers.recipe(name)[k] != levers.CHAPTER[k]}
        assert differs == set(changes), f"{name} should differ from chapter 5 in {set(changes)}, differs in {differs}"
    assert set(levers.QUICK) <= set(levers.LEVERS)


def test_levers_quick_trains_and_measures_three_recipes(tmp_path):
    """benchmarks/levers.py --quick: probe, 10 steps per recipe in two processes, chapter 5's measures."""
    levers = load_levers_module()
    data = run_quick("levers.py", tmp_path / "levers.json")
    assert data["command"].endswith("--quick") and data["budget_seconds"] == 120
    assert [lever["lever"] for lever in data["levers"]] == levers.QUICK
    for lever in data["levers"]:
        assert lever["steps"] == 10 and lever["steps_per_s_two_threads"] > 0
        assert 0 <= lever["ratio"] and lever["fd"] > 0 and 0 < lever["share_real"] <= 1
        assert lever["ratio"] == round(lever["share_generated"] / lever["share_real"], 4)


def test_committed_levers_result_gives_every_recipe_its_120_s_of_steps():
    levers = load_levers_module()
    data = json.loads((ROOT / "benchmarks" / "results" / "levers.json").read_text())
    assert not data["command"].endswith("--quick") and data["budget_seconds"] == 120
    assert data["chapter_recipe"] == levers.CHAPTER, "the committed result measured another chapter recipe"
    assert [lever["lever"] for lever in data["levers"]] == list(levers.LEVERS)
    for lever in data["levers"]:
        # steps/s is stored rounded to 0.1: the budget in steps is within 0.05 x 120 = 6 steps of it
        assert abs(lever["steps"] - lever["steps_per_s_two_threads"] * data["budget_seconds"]) <= 6 + 1
        assert lever["ratio"] == round(lever["share_generated"] / lever["share_real"], 4)


def test_cross_domain_quick_runs_end_to_end(tmp_path):
    """benchmarks/cross_domain.py --quick: CoGAN (0 and 3 shared layers, and 3 with the mixture prior, with R1, with
    R1 and the InfoGAN code, and with R1 and the code but no information term), eleven DTN variants, CycleGAN, one seed."""
    data = run_quick("cross_domain.py", tmp_path / "cross_domain.json")
    methods = sorted(a["method"] for a in data["arms"])
    assert methods == ["cogan"] * 6 + ["cyclegan"] + ["dtn"] * 11
    cogan = {(a["shared_g"], a.get("variant")): a for a in data["arms"] if a["method"] == "cogan"}
    assert sorted(cogan, key=str) == sorted([(0, None), (3, None), (3, "mixture"), (3, "r1"), (3, "code"),
                                             (3, "code_no_info")], key=str)
    assert all(0 <= a["sure_first"][0] <= 1 and "rendered_label_agreement" in a for a in cogan.values())
    assert data["baselines"]["source_only"]["in_domain"] < 0.05 and data["baselines"]["chance"] == 0.1
    assert len((tmp_path / "cross_domain.runs.jsonl").read_text().splitlines()) == 18
    assert len(data["headlines"]) == 18
    f_of = {a["variant"]: (a["self_train_rounds"], a["classifier_steps"], a["robust"]) for a in data["arms"] if a["method"] == "dtn"}
    assert f_of == {"full": (1, 20, 0.0), "source_f": (0, 20, 0.0), "long_f": (0, 40, 0.0), "robust_f": (0, 40, 0.1),
                    "no_constancy": (1, 20, 0.0), "no_identity": (1, 20, 0.0),
                    "trained_g": (1, 20, 0.0), "trained_g_uncond": (1, 20, 0.0), "f_labels": (1, 20, 0.0),
                    "f_labels_no_constancy": (1, 20, 0.0), "f_labels_no_identity": (1, 20, 0.0)}, f_of


def test_committed_cross_domain_result_is_the_full_measurement():
    data = json.loads((ROOT / "benchmarks" / "results" / "cross_domain.json").read_text())
    assert data["quick"] is False and data["settings"]["seeds"] == [0, 1, 2]
    assert len(data["arms"]) == 2 * 4 + 2 * 5 + 11 + 1 and all(len(a["seeds"]) == 3 for a in data["arms"])
    code = {(a["pair"], a["shared_g"]) for a in data["arms"] if a.get("variant") == "code"}
    assert code == {(pair, s) for pair in ("mnist-edges", "mnist-negative") for s in (0, 3)}, code
    for variant in ("r1", "code_no_info"):
        control = {(a["pair"], a["shared_g"]) for a in data["arms"] if a.get("variant") == variant}
        assert control == {("mnist-edges", 3), ("mnist-negative", 3)}, (variant, control)
    mixture = [a for a in data["arms"] if a.get("variant") == "mixture"]
    assert sorted(a["pair"] for a in mixture) == ["mnist-edges", "mnist-negative"] and all(a["shared_g"] == 3 for a in mixture)
    assert data["settings"]["self_train_rounds"] == 3
