"""Chapter 5's recipe with two latent priors, trained past the chapter's budget: where does the ratio level off?

    python benchmarks/latent_prior.py           # 12,000 steps, 3 seeds, 2 priors (about 18 min on 2 CPU cores)
    python benchmarks/latent_prior.py --quick   # 20 steps, one seed, written only with --out (CI)

Trains the DCGAN of chapter 5 (base width 32, Adam 5e-4, EMA 0.999, batch 64) on the offline
MNIST digits with ``z ~ N(0, I)`` and with a 50-island Gaussian mixture
(:class:`gantutor.latent.GaussianMixture`), for each of ``--seeds`` (the seed of the weights,
the data order and the noise), two runs at a time in processes of one thread each. Every
``--every`` steps it records, for 1,000 samples of the EMA generator: the confident-share
ratio of chapter 5 (generated vs held-out real digits, feature network, confidence 0.9) and
the Fréchet distance to the held-out digits; then the mean over seeds. Writes
benchmarks/results/latent_prior.json, which chapter 5 reads.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results" / "latent_prior.json"
RECIPE = {"base_width": 32, "latent_dim": 64, "lr": 5e-4, "betas": [0.5, 0.999], "ema_decay": 0.999,
          "batch_size": 64, "num_eval": 1000, "confidence": 0.9}
PRIORS = {"normal": None, "mixture-50": {"name": "GaussianMixture", "latent_dim": 64, "components": 50,
                                          "scale": 1.0, "seed": 0}}


def run(job: tuple[str, int, int, int]) -> dict:
    """Train one prior with one seed for ``steps`` steps on one thread; evaluate every ``every`` steps."""
    name, seed, steps, every = job
    torch.set_num_threads(1)
    from gantutor.data import load_domain
    from gantutor.latent import build_prior
    from gantutor.metrics import confident_share, features, frechet_distance
    from gantutor.nets import Discriminator, Generator
    from gantutor.train import Trainer

    r = RECIPE
    mnist = load_domain("mnist", verbose=False)
    held_out = load_domain("mnist", split="test", verbose=False).images[:r["num_eval"]]
    real_share = confident_share(held_out, threshold=r["confidence"])
    held_out_features = features(held_out)
    torch.manual_seed(seed)
    latent = build_prior(PRIORS[name]) if PRIORS[name] else None
    trainer = Trainer(Generator(latent_dim=r["latent_dim"], base_width=r["base_width"]),
                      Discriminator(base_width=r["base_width"]), mnist, batch_size=r["batch_size"],
                      lr_g=r["lr"], lr_d=r["lr"], betas=tuple(r["betas"]), ema_decay=r["ema_decay"],
                      latent=latent, device="cpu", seed=seed)
    z = trainer.latent.sample(r["num_eval"], generator=torch.Generator().manual_seed(seed + 7))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12000)
    parser.add_argument("--every", type=int, default=1500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--quick", action="store_true", help="20 steps per prior; nothing written unless --out")
    parser.add_argument("--out", type=Path, default=None, help=f"where to write the JSON (default: {RESULTS})")
    args = parser.parse_args()
    steps, every, seeds = (20, 10, [0]) if args.quick else (args.steps, args.every, args.seeds)
    from gantutor.results import run_header, write_result

    header = run_header("latent_prior", "python benchmarks/latent_prior.py" + (" --quick" if args.quick else ""))
    started = time.time()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        runs = pool.map(run, [(name, seed, steps, every) for seed in seeds for name in PRIORS])
    result = {
        **header,
        "threads_per_run": 1,
        "recipe": RECIPE,
        "steps": steps,
        "seeds": seeds,
        "mean": {name: mean_curve([r for r in runs if r["prior"] == name]) for name in PRIORS},
        "runs": runs,
        "seconds": round(time.time() - started, 1),
    }
    print(json.dumps({k: v for k, v in result.items() if k not in ("runs", "mean")}, indent=2))
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    if out is not None:
        write_result(result, out)


if __name__ == "__main__":
    main()
