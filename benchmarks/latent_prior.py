"""Chapter 5's recipe with two latent priors, trained past the chapter's budget: where does the ratio level off?

    python benchmarks/latent_prior.py           # 12,000 steps, 3 seeds, 2 priors (about 18 min on 2 CPU cores)
    python benchmarks/latent_prior.py --quick   # 20 steps, one seed, written only with --out (CI)

Trains the DCGAN of chapter 5 (base width 32, Adam 5e-4, EMA 0.999, batch 64) on the offline
MNIST digits with ``z ~ N(0, I)`` and with a 50-island Gaussian mixture
(:class:`gantutor.latent.MixturePrior`), for each of ``--seeds`` (the seed of the weights,
the data order and the noise), two runs at a time in processes of one thread each. Every
``--every`` steps it records, for 1,000 samples of the EMA generator: the confident-share
ratio of chapter 5 (generated vs held-out real digits, feature network, confidence 0.9) and
the Fréchet distance to the held-out digits; then the mean over seeds. Writes
benchmarks/results/latent_prior.json, which chapter 5 reads.
"""
from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import torch

from gantutor.recipes import recipe
from gantutor.results import BenchmarkRun

RESULTS = Path(__file__).resolve().parent / "results"
CHAPTER_5 = recipe("chapter-5")
assert CHAPTER_5.train.lr_g == CHAPTER_5.train.lr_d, "the result file records one learning rate for both networks"
RECIPE = {"base_width": CHAPTER_5.width, "latent_dim": CHAPTER_5.latent_dim, "lr": CHAPTER_5.train.lr_g,
          "betas": list(CHAPTER_5.train.betas), "ema_decay": CHAPTER_5.train.ema_decay,
          "batch_size": CHAPTER_5.train.batch_size, "num_eval": 1000, "confidence": 0.9}
PRIORS = {"normal": None, "mixture-50": 50}  # None: z ~ N(0, I); K: a mixture of K islands


def run(job: tuple[str, int, int, int]) -> dict:
    """Train one prior with one seed for ``steps`` steps on one thread; evaluate every ``every`` steps."""
    name, seed, steps, every = job
    torch.set_num_threads(1)
    from gantutor.data import load_domain
    from gantutor.metrics import confident_share, features, frechet_distance
    from gantutor.train import Trainer

    r = RECIPE
    mnist = load_domain("mnist", verbose=False)
    held_out = load_domain("mnist", split="test", verbose=False).images[:r["num_eval"]]
    real_share = confident_share(held_out, threshold=r["confidence"])
    held_out_features = features(held_out)
    # the mixture's centres are seeded by 0 for every seed (the same islands), as when this was measured
    run_recipe = CHAPTER_5.with_changes(seed=seed)
    latent = CHAPTER_5.with_changes(latent_components=PRIORS[name]).prior() if PRIORS[name] else run_recipe.prior()
    trainer = Trainer.from_recipe(run_recipe, mnist, latent=latent, device="cpu")
    z = trainer.eval_noise(r["num_eval"])
    curve = []
    while trainer.step_count < steps:
        trainer.fit(min(every, steps - trainer.step_count), progress=False)
        generated = trainer.sample(r["num_eval"], z=z)
        share = confident_share(generated, threshold=r["confidence"])
        curve.append({"step": trainer.step_count, "train_seconds": round(trainer.history["time"][-1], 1),
                      "share_generated": round(share, 4), "ratio": round(share / real_share, 4),
                      "fd": round(frechet_distance(features(generated), held_out_features), 2)})
        print(name, seed, curve[-1], flush=True)
    return {"prior": name, "seed": seed, "latent": trainer.latent.describe(), "share_real": round(real_share, 4),
            "curve": curve}


def mean_curve(runs: list[dict]) -> list[dict]:
    """The seeds' curves averaged point by point (ratio and FD), with each point's lowest and highest ratio."""
    points = []
    for at_step in zip(*(run["curve"] for run in runs)):
        ratios = [p["ratio"] for p in at_step]
        points.append({"step": at_step[0]["step"], "ratio": round(sum(ratios) / len(ratios), 4),
                       "ratio_min": min(ratios), "ratio_max": max(ratios),
                       "fd": round(sum(p["fd"] for p in at_step) / len(at_step), 2)})
    return points


def main(argv: list[str] | None = None) -> None:
    def configure(parser):
        parser.add_argument("--steps", type=int, default=12000)
        parser.add_argument("--every", type=int, default=1500)
        parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])

    bench = BenchmarkRun("latent_prior", __doc__, RESULTS, argv, configure)
    args = bench.args
    steps, every, seeds = (20, 10, [0]) if bench.quick else (args.steps, args.every, args.seeds)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        runs = pool.map(run, [(name, seed, steps, every) for seed in seeds for name in PRIORS])
    result = bench.finish({
        "threads_per_run": 1,
        "recipe": RECIPE,
        "steps": steps,
        "seeds": seeds,
        "mean": {name: mean_curve([r for r in runs if r["prior"] == name]) for name in PRIORS},
        "runs": runs,
    })
    print(json.dumps({k: v for k, v in result.items() if k not in ("runs", "mean")}, indent=2))


if __name__ == "__main__":
    main()
