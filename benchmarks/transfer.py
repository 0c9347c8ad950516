"""Measure transfer in the few-shot regime: pairs x target sizes x strategies, over seeds.

    python benchmarks/transfer.py --workers 2     # the measurement (about 45 minutes on 2 CPU cores)
    python benchmarks/transfer.py --quick         # seconds: exercises every code path (CI)
    python benchmarks/transfer.py --resume        # continue an interrupted run (finished runs are kept)
    # farther targets (transfer_far.json) and the near pairs with 1,000 images (transfer_1000.json):
    python benchmarks/transfer.py --workers 2 --targets digits glyphs --strategies scratch finetune adapter \
        --conditional-source '' --out benchmarks/results/transfer_far.json
    python benchmarks/transfer.py --workers 2 --sizes 1000 --strategies scratch finetune adapter \
        --conditional-source '' --out benchmarks/results/transfer_1000.json

The protocol:

- each seed draws its **own few-shot subset** of the target's training images
  (:func:`gantutor.transfer.few_shot`) and seeds the networks, the data order and the noise;
- every strategy trains the same number of steps, evaluated at log-spaced steps
  (:func:`gantutor.transfer.log_steps`: dense early, where the curves move) on held-out
  target images: FD and KID in the feature network's space;
- thresholds are crossed by linear interpolation between evaluations
  (:func:`gantutor.transfer.steps_to`): the steps to scratch's final FD, to 10 % above it (scratch
  often creeps down to its final FD only at the end of the budget, and a level it reaches earlier
  shows how much of a speed-up is that creep), and to twice the real floor (FD between two
  disjoint sets of real target images of the evaluation's size);
- at the end: memorisation (:func:`gantutor.metrics.memorisation`: nearest training image vs
  nearest held-out image) and, for a class-conditional source, the requested-label accuracy
  judged by the feature network in the target domain.

Writes benchmarks/results/transfer.json (or --out); every finished run is also appended to
``<out>.runs.jsonl`` so that ``--resume`` continues where a run stopped.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"
STRATEGY_CHOICES = ("scratch", "finetune", "freeze_d", "affine", "ewc", "minegan", "adapter")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default="dcgan-mnist", help="unconditional source GAN (gantutor.pretrained)")
    parser.add_argument("--targets", nargs="+", default=["mnist-edges", "mnist-negative"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10, 100])
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGY_CHOICES), choices=STRATEGY_CHOICES)
    parser.add_argument("--conditional-source", default="cgan-mnist",
                        help="class-conditional source for the label-keeping arms ('' for none)")
    parser.add_argument("--conditional-strategies", nargs="*", default=["scratch", "finetune", "adapter"],
                        choices=STRATEGY_CHOICES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--eval-n", type=int, default=500, help="held-out target images for FD/KID")
    parser.add_argument("--no-ema-warmup", dest="ema_warmup", action="store_false",
                        help="a fixed EMA decay from the first step (it lags about 100 steps behind G)")
    parser.add_argument("--workers", type=int, default=1, help="runs in parallel, one CPU thread each")
    parser.add_argument("--resume", action="store_true", help="keep the finished runs of <out>.runs.jsonl")


def parse(bench) -> argparse.Namespace:
    args, parser = bench.args, bench.parser
    if args.quick:
        args.targets, args.sizes, args.seeds, args.steps, args.eval_n = ["mnist-edges"], [10], [0, 1], 20, 100
        args.strategies, args.conditional_strategies = ["scratch", "finetune", "ewc", "minegan", "adapter"], ["adapter"]
    if min(args.sizes) < 1 or args.steps < 1 or args.workers < 1:
        parser.error("sizes, steps and workers must be positive")
    return args


def jobs(args: argparse.Namespace) -> list[dict]:
    out = []
    sources = [(args.source, args.strategies)]
    if args.conditional_source:
        sources.append((args.conditional_source, args.conditional_strategies))
    for source, strategies in sources:
        for target in args.targets:
            for size in args.sizes:
                for strategy in strategies:
                    for seed in args.seeds:
                        out.append({"source": source, "target": target, "size": size, "strategy": strategy,
                                    "seed": seed, "steps": args.steps, "batch_size": args.batch_size,
                                    "eval_n": args.eval_n, "ema_warmup": args.ema_warmup})
    return out


def key(job: dict) -> tuple:
    return job["source"], job["target"], job["size"], job["strategy"], job["seed"], job.get("ema_warmup", False)


def run_one(job: dict, threads: int | None = None) -> dict:
    """One adaptation: train, evaluate on the log-spaced steps, measure memorisation (and labels)."""
    from gantutor import metrics, pretrained
    from gantutor.data import load_domain
    from gantutor.transfer import adapt, few_shot, log_steps

    if threads:
        torch.set_num_threads(threads)
    generator, discriminator = pretrained.load(job["source"])
    target = few_shot(job["target"], job["size"], seed=job["seed"])
    held_out = load_domain(job["target"], "test", verbose=False).images[: job["eval_n"]]
    started = time.perf_counter()
    result = adapt(generator, discriminator, target, job["strategy"], job["steps"], held_out=held_out,
                   batch_size=job["batch_size"], eval_at=log_steps(job["steps"]), eval_n=job["eval_n"],
                   seed=job["seed"], device="cpu", ema_warmup=job["ema_warmup"])
    record = {**job, **result.evaluation, "seconds": round(time.perf_counter() - started, 1)}
    samples = result.trainer.sample(z=result.trainer.eval_noise(job["eval_n"]))
    # nearest training image vs nearest of as many held-out ones (500, or the training set's size if larger)
    memorisation_held_out = load_domain(job["target"], "test", verbose=False).images[: max(job["eval_n"], job["size"])]
    record["memorisation"] = metrics.memorisation(samples, target.images, memorisation_held_out)
    if getattr(generator, "num_classes", None) is not None:
        labels = result.trainer.eval_labels(job["eval_n"]).cpu()
        record["label_accuracy"] = metrics.label_accuracy(samples, labels, domain=job["target"])
    return record


def floor(target: str, n: int) -> float:
    """FD between two disjoint sets of ``n`` real target images (train split vs held-out): the best any G gets."""
    from gantutor import metrics
    from gantutor.data import load_domain

    held_out = load_domain(target, "test", verbose=False).images[:n]
    other = load_domain(target, "train", verbose=False).images[-n:]
    return metrics.frechet_distance(metrics.features(other), metrics.features(held_out))


def mean_std(values: list[float]) -> list[float]:
    return [statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0]


def summarise(records: list[dict], floors: dict[str, float]) -> tuple[list[dict], list[str]]:
    """Arms (mean curves, finals, thresholds, speed-ups over seeds) and one headline per pair and size."""
    from gantutor.transfer import steps_to

    groups: dict[tuple, list[dict]] = {}
    for record in sorted(records, key=key):
        groups.setdefault(key(record)[:4], []).append(record)
    arms = []
    for (source, target, size, strategy), runs in groups.items():
        steps = runs[0]["step"]
        arm = {"source": source, "target": target, "size": size, "strategy": strategy, "seeds": [r["seed"] for r in runs],
               "steps": steps, "fd_mean": [statistics.fmean(r["fd"][i] for r in runs) for i in range(len(steps))],
               "fd_std": [mean_std([r["fd"][i] for r in runs])[1] for i in range(len(steps))],
               "kid_mean": [statistics.fmean(r["kid"][i] for r in runs) for i in range(len(steps))],
               "final_fd": mean_std([r["fd"][-1] for r in runs]), "final_kid": mean_std([r["kid"][-1] for r in runs]),
               "memorisation_ratio": mean_std([r["memorisation"]["ratio_median"] for r in runs]),
               "copies": mean_std([r["memorisation"]["copies"] for r in runs]),
               "seconds": statistics.fmean(r["seconds"] for r in runs), "floor": floors[target]}
        if all("label_accuracy" in r for r in runs):
            arm["label_accuracy"] = mean_std([r["label_accuracy"] for r in runs])
        arm["per_seed_final_fd"] = {r["seed"]: r["fd"][-1] for r in runs}
        arms.append(arm)
    headlines = []
    for arm in arms:
        scratch = next((a for a in arms if a["strategy"] == "scratch" and
                        (a["source"], a["target"], a["size"]) == (arm["source"], arm["target"], arm["size"])), None)
        if scratch is None:
            continue
        thresholds = {"scratch_final": scratch["final_fd"][0], "scratch_final_plus_10": 1.1 * scratch["final_fd"][0],
                      "twice_floor": 2 * arm["floor"]}
        arm["thresholds"] = thresholds
        arm["steps_to"] = {k: steps_to(arm["steps"], arm["fd_mean"], v) for k, v in thresholds.items()}
        arm["speedup"] = {}
        for name, threshold in thresholds.items():
            theirs, mine = steps_to(scratch["steps"], scratch["fd_mean"], threshold), arm["steps_to"][name]
            arm["speedup"][name] = theirs / mine if (theirs is not None and mine) else None
        changes = [arm["per_seed_final_fd"][s] / scratch["per_seed_final_fd"][s] - 1
                   for s in arm["per_seed_final_fd"] if s in scratch["per_seed_final_fd"]]
        arm["fd_change_vs_scratch"] = mean_std(changes)
    for source, target, size in dict.fromkeys((a["source"], a["target"], a["size"]) for a in arms):
        others = [a for a in arms if (a["source"], a["target"], a["size"]) == (source, target, size)
                  and a["strategy"] != "scratch" and "thresholds" in a]
        if not others:
            continue
        best = min(others, key=lambda a: a["final_fd"][0])
        change, spread = best["fd_change_vs_scratch"]
        reached, speed = best["steps_to"]["scratch_final"], best["speedup"]["scratch_final"]
        if reached is None:
            speed_text = "never reaches scratch's final FD"
        elif speed is None:
            speed_text = f"reaches scratch's final FD at step {reached:.0f}"
        else:
            speed_text = f"reaches scratch's final FD {speed:.1f}x sooner (step {reached:.0f})"
        near = best["speedup"]["scratch_final_plus_10"]
        if near is not None:
            speed_text += f" (within 10% of it {near:.1f}x sooner)"
        headlines.append(f"{source} -> {target}, {size} images: best `{best['strategy']}` {speed_text} and ends "
                         f"{abs(100 * change):.0f}% ± {100 * spread:.0f}% {'lower' if change < 0 else 'higher'} in FD "
                         f"than scratch ({best['final_fd'][0]:.0f} vs {best['thresholds']['scratch_final']:.0f}, "
                         f"real floor {best['floor']:.0f})")
    return arms, headlines


def main(argv=None) -> int:
    from gantutor.device import describe_machine
    from gantutor.results import BenchmarkRun

    bench = BenchmarkRun("transfer", __doc__, RESULTS, argv, configure)
    args = parse(bench)
    def show(record: dict) -> str:
        return (f"{record['source']:14s} -> {record['target']:14s} n={record['size']:<4d} {record['strategy']:9s} "
                f"seed {record['seed']}: FD {record['fd'][0]:7.1f} -> {record['fd'][-1]:7.1f}, memorisation "
                f"{record['memorisation']['ratio_median']:.2f} ({record['seconds']:.0f} s)")

    records = bench.run_jobs(jobs(args), key, run_one, args.workers, args.resume, show)
    floors = {target: floor(target, args.eval_n) for target in args.targets}
    arms, headlines = summarise(records, floors)
    settings = {name: getattr(args, name) for name in ("source", "conditional_source", "targets", "sizes", "strategies",
                                                       "conditional_strategies", "seeds", "steps", "batch_size",
                                                       "eval_n", "ema_warmup")}
    results = bench.finish({"device": describe_machine(torch.device("cpu")), "settings": settings, "floors": floors,
                            "run_seconds": round(sum(r["seconds"] for r in records), 1),
                            "arms": arms, "headlines": headlines})
    for line in results["headlines"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
