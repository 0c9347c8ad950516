"""Chapter 5's recipe with and without the R1 penalty on D, at an equal number of steps.

    python benchmarks/r1.py           # 6,000 steps, 3 seeds, gamma 0 and 1 (about 15 min on 2 CPU cores)
    python benchmarks/r1.py --quick   # 20 steps, one seed, written only with --out (CI)

Trains the DCGAN of chapter 5 (base width 32, Adam 5e-4, EMA 0.999, batch 64, z ~ N(0, I)) on the
offline MNIST digits with ``r1_gamma`` 0 (the chapter's recipe) and 1 (the shipped ``dcgan-mnist``'s
setting): R1 (Mescheder et al. 2018) adds ``gamma / 2`` times the squared norm of D's input gradient
at the real images to D's loss. Two runs at a time, in processes of one thread each. Every
``--every`` steps it records, for 1,000 samples of the EMA generator (its evaluation noise), the
Fréchet distance to 1,000 held-out digits and chapter 5's confident-share ratio (feature network,
confidence 0.9), as ``benchmarks/latent_prior.py`` does; then the mean over seeds, and the
seconds of training per step (one thread, both arms side by side in one run). Writes
benchmarks/results/r1.json, which chapter 5 reads.
"""
from __future__ import annotations

import json
import multiprocessing
import statistics
from pathlib import Path

import torch

from gantutor.recipes import recipe
from gantutor.results import BenchmarkRun

RESULTS = Path(__file__).resolve().parent / "results"
CHAPTER_5 = recipe("chapter-5")
NUM_EVAL, CONFIDENCE = 1000, 0.9


def run(job: tuple[float, int, int, int]) -> dict:
    """Train one setting of gamma with one seed for ``steps`` steps on one thread; evaluate every ``every``."""
    gamma, seed, steps, every = job
    torch.set_num_threads(1)
    from gantutor.data import load_domain
    from gantutor.metrics import confident_share, features, frechet_distance
    from gantutor.train import Trainer

    mnist = load_domain("mnist", verbose=False)
    held_out = load_domain("mnist", split="test", verbose=False).images[:NUM_EVAL]
    real_share = confident_share(held_out, threshold=CONFIDENCE)
    held_out_features = features(held_out)
    trainer = Trainer.from_recipe(CHAPTER_5.with_changes(seed=seed, r1_gamma=gamma), mnist, device="cpu")
    z = trainer.eval_noise(NUM_EVAL)
    curve = []
    while trainer.step_count < steps:
        trainer.fit(min(every, steps - trainer.step_count), progress=False)
        generated = trainer.sample(NUM_EVAL, z=z)
        share = confident_share(generated, threshold=CONFIDENCE)
        curve.append({"step": trainer.step_count, "train_seconds": round(trainer.history["time"][-1], 1),
                      "ratio": round(share / real_share, 4),
                      "fd": round(frechet_distance(features(generated), held_out_features), 2)})
        print(f"gamma {gamma:g} seed {seed}", curve[-1], flush=True)
    return {"r1_gamma": gamma, "seed": seed, "share_real": round(real_share, 4), "curve": curve}


def mean_curve(runs: list[dict]) -> list[dict]:
    """The seeds' curves averaged point by point, with each point's lowest and highest FD."""
    points = []
    for at_step in zip(*(r["curve"] for r in runs)):
        fds = [p["fd"] for p in at_step]
        points.append({"step": at_step[0]["step"], "fd": round(statistics.fmean(fds), 2), "fd_min": min(fds),
                       "fd_max": max(fds), "ratio": round(statistics.fmean(p["ratio"] for p in at_step), 4)})
    return points


def main(argv: list[str] | None = None) -> None:
    def configure(parser):
        parser.add_argument("--steps", type=int, default=6000)
        parser.add_argument("--every", type=int, default=1500)
        parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
        parser.add_argument("--gammas", type=float, nargs="+", default=[0.0, 1.0])

    bench = BenchmarkRun("r1", __doc__, RESULTS, argv, configure)
    args = bench.args
    steps, every, seeds = (20, 10, [0]) if bench.quick else (args.steps, args.every, args.seeds)
    if steps < 1 or every < 1 or any(g < 0 for g in args.gammas):
        bench.parser.error("steps and every must be positive and every gamma >= 0")
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        runs = pool.map(run, [(gamma, seed, steps, every) for seed in seeds for gamma in args.gammas])
    by_gamma = {g: [r for r in runs if r["r1_gamma"] == g] for g in args.gammas}
    result = bench.finish({
        "threads_per_run": 1,
        "recipe": {k: v for k, v in CHAPTER_5.to_dict().items() if k != "r1_gamma"},
        "num_eval": NUM_EVAL,
        "confidence": CONFIDENCE,
        "steps": steps,
        "seeds": seeds,
        "gammas": args.gammas,
        "mean": {f"{g:g}": mean_curve(rs) for g, rs in by_gamma.items()},
        "seconds_per_step": {f"{g:g}": round(statistics.fmean(r["curve"][-1]["train_seconds"] / steps for r in rs), 4)
                             for g, rs in by_gamma.items()},
        "runs": runs,
    })
    print(json.dumps({k: v for k, v in result.items() if k not in ("runs",)}, indent=2))


if __name__ == "__main__":
    main()
