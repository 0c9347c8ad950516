"""Chapter 5's goal against the levers its issue names: which recipe reaches a ratio of 0.8 in 120 s on this CPU?

    python benchmarks/levers.py           # 12 recipes, one seed each (about 20 min on 2 CPU cores)
    python benchmarks/levers.py --quick   # 3 recipes, 10 steps each, written only with --out (CI)

Every recipe is chapter 5's (DCGAN of base width 32, Adam 5e-4 with betas (0.5, 0.999), EMA of
G's weights 0.999, batch 64, z ~ N(0, I), 64 latent dimensions) with one change: the EMA, the
width, the learning rates, the batch size (the levers named by chapter 5's goal), or the
latent prior. A faster recipe gets more steps in the same time, so each recipe is given the
number of steps it makes in ``--budget`` seconds (120) of training with two threads, as in the
chapter:

1. probe: train each recipe for ``--probe-seconds`` with two threads, one recipe at a time,
   in ``--probe-rounds`` rounds, and compute its budget in steps (median steps/s x budget);
2. train: each recipe for its budget of steps, from seed 0, two at a time in processes of
   one thread each (the result depends on the steps, not on the speed of the process);
3. measure, as chapter 5 does: the confident-share ratio of 1,000 samples of the EMA generator
   (or of G without EMA) against 1,000 held-out real digits (feature network, confidence
   0.9) and the Fréchet distance to them.

One seed per recipe: benchmarks/results/latent_prior.json shows how far seeds of one recipe
spread (about 0.04 in the ratio at 6,000 steps). Writes benchmarks/results/levers.json.
"""
from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import torch

from gantutor.recipes import recipe as named_recipe
from gantutor.results import BenchmarkRun

RESULTS = Path(__file__).resolve().parent / "results"
CHAPTER_5 = named_recipe("chapter-5")
#: The settings that the levers change, as chapter 5's recipe (gantutor.recipes) has them.
CHAPTER = {"base_width": CHAPTER_5.width, "latent_dim": CHAPTER_5.latent_dim, "lr_g": CHAPTER_5.train.lr_g,
           "lr_d": CHAPTER_5.train.lr_d, "betas": list(CHAPTER_5.train.betas), "ema_decay": CHAPTER_5.train.ema_decay,
           "batch_size": CHAPTER_5.train.batch_size, "latent": None}
MIXTURE = {"name": "MixturePrior", "latent_dim": 64, "components": 50, "scale": 1.0, "seed": 0}
LEVERS = {
    "chapter 5's recipe": {},
    "plain DCGAN (Adam 2e-4, no EMA)": {"lr_g": 2e-4, "lr_d": 2e-4, "ema_decay": None},
    "no EMA": {"ema_decay": None},
    "EMA 0.9995": {"ema_decay": 0.9995},
    "width 16": {"base_width": 16},
    "width 48": {"base_width": 48},
    "batch 32": {"batch_size": 32},
    "batch 128": {"batch_size": 128},
    "Adam 2e-4": {"lr_g": 2e-4, "lr_d": 2e-4},
    "Adam 1e-3": {"lr_g": 1e-3, "lr_d": 1e-3},
    "TTUR (G 1e-4, D 4e-4)": {"lr_g": 1e-4, "lr_d": 4e-4},
    "mixture prior (50 islands)": {"latent": MIXTURE},
}
QUICK = ["chapter 5's recipe", "no EMA", "mixture prior (50 islands)"]
NUM_EVAL, CONFIDENCE, SEED = 1000, 0.9, CHAPTER_5.train.seed
_HELD_OUT: dict = {}


def recipe(name: str) -> dict:
    """Chapter 5's recipe with the lever ``name`` changed."""
    return {**CHAPTER, **LEVERS[name]}


def make_trainer(config: dict, seed: int = SEED):
    """Chapter 5's recipe with ``config``'s settings, as a fresh Trainer on the CPU."""
    from gantutor.data import load_domain
    from gantutor.latent import build_prior
    from gantutor.train import Trainer

    run = CHAPTER_5.with_changes(width=config["base_width"], latent_dim=config["latent_dim"], lr_g=config["lr_g"],
                                 lr_d=config["lr_d"], betas=tuple(config["betas"]), ema_decay=config["ema_decay"],
                                 batch_size=config["batch_size"], seed=seed)
    latent = build_prior(config["latent"]) if config["latent"] else run.prior()
    return Trainer.from_recipe(run, load_domain("mnist", verbose=False), latent=latent, device="cpu")


def probe(name: str, seconds: float, threads: int = 2) -> float:
    """Training steps per second of the recipe ``name`` with ``threads`` threads (after 10 warm-up steps)."""
    torch.set_num_threads(threads)
    trainer = make_trainer(recipe(name))
    trainer.fit(10, progress=False)
    started, before = time.perf_counter(), trainer.step_count
    while time.perf_counter() - started < seconds:
        trainer.fit(10, progress=False)
    return (trainer.step_count - before) / (time.perf_counter() - started)


def probe_all(names: list[str], seconds: float, rounds: int) -> dict[str, float]:
    """Median steps/s of each recipe over ``rounds`` rounds that visit every recipe in turn.

    Interleaving the rounds spreads a passing load on the machine over all recipes instead of
    charging it to the one that happened to run then.
    """
    measured: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            measured[name].append(probe(name, seconds))
    return {name: sorted(rates)[len(rates) // 2] for name, rates in measured.items()}


def load_held_out() -> None:
    """Once per process: one thread, the held-out real digits, their confident share and features."""
    torch.set_num_threads(1)
    from gantutor.data import load_domain
    from gantutor.metrics import confident_share, features

    images = load_domain("mnist", split="test", verbose=False).images[:NUM_EVAL]
    _HELD_OUT.update(share=confident_share(images, threshold=CONFIDENCE), features=features(images))


def train(job: tuple[str, int]) -> dict:
    """Train the recipe ``name`` for ``steps`` steps on one thread and measure it as chapter 5 does."""
    name, steps = job
    from gantutor.metrics import confident_share, features, frechet_distance

    share_real = _HELD_OUT["share"]
    trainer = make_trainer(recipe(name))
    trainer.fit(steps, progress=False)
    generated = trainer.sample(NUM_EVAL, z=trainer.eval_noise(NUM_EVAL))
    share = confident_share(generated, threshold=CONFIDENCE)
    result = {"lever": name, "steps": trainer.step_count, "train_seconds_one_thread": round(trainer.history["time"][-1], 1),
              "share_generated": round(share, 4), "share_real": round(share_real, 4),
              "ratio": round(share / share_real, 4),
              "fd": round(frechet_distance(features(generated), _HELD_OUT["features"]), 2)}
    print(result, flush=True)
    return result


def main(argv: list[str] | None = None) -> None:
    def configure(parser):
        parser.add_argument("--budget", type=float, default=120.0, help="seconds of training with two threads")
        parser.add_argument("--probe-seconds", type=float, default=4.0, help="length of one speed probe of one recipe")
        parser.add_argument("--probe-rounds", type=int, default=3, help="rounds of probes; each recipe's median counts")

    run = BenchmarkRun("levers", __doc__, RESULTS, argv, configure)
    args = run.args
    names = QUICK if run.quick else list(LEVERS)
    probe_seconds, probe_rounds = (0.2, 1) if run.quick else (args.probe_seconds, args.probe_rounds)
    rates = probe_all(names, probe_seconds, probe_rounds)
    budgets = {name: 10 if run.quick else int(rate * args.budget) for name, rate in rates.items()}
    for name in names:
        print(f"{name:32s} {rates[name]:6.1f} steps/s with 2 threads -> {budgets[name]:6d} steps", flush=True)
    with multiprocessing.get_context("spawn").Pool(2, initializer=load_held_out) as pool:
        # the longest runs first, so that the two processes finish together
        runs = pool.map(train, sorted(budgets.items(), key=lambda item: -item[1]), chunksize=1)
    by_name = {r["lever"]: r for r in runs}
    levers = [{"lever": name, "changes": dict(LEVERS[name]),
               "steps_per_s_two_threads": round(rates[name], 1), **by_name[name]} for name in names]
    for lever in levers:
        print(f"{lever['lever']:32s} {lever['steps']:6d} steps  ratio {lever['ratio']:.3f}  FD {lever['fd']:7.1f}")
    run.finish({"budget_seconds": args.budget, "probe_seconds": probe_seconds, "probe_rounds": probe_rounds,
                "chapter_recipe": CHAPTER, "seed": SEED, "num_eval": NUM_EVAL, "confidence": CONFIDENCE,
                "goal_ratio": 0.8, "levers": levers})


if __name__ == "__main__":
    main()
