"""Chapter 5's recipe with two latent priors, trained past the chapter's budget: where does the ratio level off?

    python benchmarks/latent_prior.py           # 12,000 steps per prior (about 6 min on 2 CPU cores)
    python benchmarks/latent_prior.py --quick   # 20 steps per prior, written only with --out (CI)

Trains the DCGAN of chapter 5 (base width 32, Adam 5e-4, EMA 0.999, batch 64, seed 0) on the
offline MNIST digits once with ``z ~ N(0, I)`` and once with a 50-island Gaussian mixture
(:class:`gantutor.latent.GaussianMixture`), the two side by side in two processes of one thread
each. Every ``--every`` steps it records, for 1,000 samples of the EMA generator: the
confident-share ratio of chapter 5 (generated vs held-out real digits, feature network,
confidence 0.9) and the Fréchet distance to the held-out digits. Writes
benchmarks/results/latent_prior.json, which chapter 5 reads.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results" / "latent_prior.json"
RECIPE = {"base_width": 32, "latent_dim": 64, "lr": 5e-4, "betas": [0.5, 0.999], "ema_decay": 0.999,
          "batch_size": 64, "seed": 0, "num_eval": 1000, "confidence": 0.9}
PRIORS = {"normal": None, "mixture-50": {"name": "GaussianMixture", "latent_dim": 64, "components": 50,
                                          "scale": 1.0, "seed": 0}}


def run(job: tuple[str, int, int]) -> dict:
    """Train one prior for ``steps`` steps on one thread; evaluate every ``every`` steps."""
    name, steps, every = job
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
    torch.manual_seed(r["seed"])
    latent = build_prior(PRIORS[name]) if PRIORS[name] else None
    trainer = Trainer(Generator(latent_dim=r["latent_dim"], base_width=r["base_width"]),
                      Discriminator(base_width=r["base_width"]), mnist, batch_size=r["batch_size"],
                      lr_g=r["lr"], lr_d=r["lr"], betas=tuple(r["betas"]), ema_decay=r["ema_decay"],
                      latent=latent, device="cpu", seed=r["seed"])
    z = trainer.latent.sample(r["num_eval"], generator=torch.Generator().manual_seed(r["seed"] + 7))
    curve = []
    while trainer.step_count < steps:
        trainer.fit(min(every, steps - trainer.step_count), progress=False)
        generated = trainer.sample(r["num_eval"], z=z)
        share = confident_share(generated, threshold=r["confidence"])
        curve.append({"step": trainer.step_count, "train_seconds": round(trainer.history["time"][-1], 1),
                      "share_generated": round(share, 4), "ratio": round(share / real_share, 4),
                      "fd": round(frechet_distance(features(generated), held_out_features), 2)})
        print(name, curve[-1], flush=True)
    return {"prior": name, "latent": trainer.latent.describe(), "share_real": round(real_share, 4), "curve": curve}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12000)
    parser.add_argument("--every", type=int, default=1500)
    parser.add_argument("--quick", action="store_true", help="20 steps per prior; nothing written unless --out")
    parser.add_argument("--out", type=Path, default=None, help=f"where to write the JSON (default: {RESULTS})")
    args = parser.parse_args()
    steps, every = (20, 10) if args.quick else (args.steps, args.every)
    from gantutor.device import describe_machine

    started = time.time()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        runs = pool.map(run, [(name, steps, every) for name in PRIORS])
    result = {
        "benchmark": "latent_prior",
        "command": "python benchmarks/latent_prior.py" + (" --quick" if args.quick else ""),
        "machine": describe_machine("cpu"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "when_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_1min": round(load, 2) if load is not None else None,
        "threads_per_run": 1,
        "recipe": RECIPE,
        "steps": steps,
        "runs": {r["prior"]: r for r in runs},
        "seconds": round(time.time() - started, 1),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
