"""Measure transfer: every pair x target size x strategy, over seeds, at the same step budget.

    python benchmarks/transfer.py            # the full measurement (tens of minutes on 2 CPU cores)
    python benchmarks/transfer.py --quick    # a few seconds: exercises every code path (CI)

Writes benchmarks/results/transfer.json (or --out): the command, date, device, seeds, and for
each arm the FD/KID curves on held-out target images (mean and std over seeds), the final
values, and the steps each strategy needs to reach two thresholds: scratch's final FD, and
a mid-level FD (twice scratch's final FD). The chapter and the benchmarks page read this file.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from gantutor import pretrained
from gantutor.data import load_domain
from gantutor.device import describe_machine, pick_device
from gantutor.results import BenchmarkRun
from gantutor.transfer import STRATEGIES, adapt

RESULTS = Path(__file__).resolve().parent / "results"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default="dcgan-mnist-4k", help="pretrained source GAN (gantutor.pretrained)")
    parser.add_argument("--targets", nargs="+", default=["mnist-edges", "digits", "glyphs"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10, 100, 1000])
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--eval-n", type=int, default=500, help="held-out target images for FD/KID")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--summarise-only", action="store_true",
                        help="recompute thresholds and headlines of an existing --out file (no training)")


def parse(bench: BenchmarkRun) -> argparse.Namespace:
    args, parser = bench.args, bench.parser
    if args.quick:
        args.targets, args.sizes, args.strategies, args.seeds = ["mnist-edges"], [10], ["scratch", "finetune"], [0]
        args.steps, args.eval_every, args.eval_n = 20, 10, 100
    if min(args.sizes) < 1 or args.steps < 1:
        parser.error("sizes and steps must be positive")
    return args


def first_step_below(steps: list[float], fds: list[float], threshold: float) -> float | None:
    """The first evaluated step whose FD is at most ``threshold`` (None if never)."""
    for step, fd in zip(steps, fds):
        if fd <= threshold:
            return step
    return None


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def run(args: argparse.Namespace) -> dict:
    device = pick_device()
    if args.threads:
        torch.set_num_threads(args.threads)
    generator, discriminator = pretrained.load(args.source)
    results = {
        "device": describe_machine(device),
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "source": args.source,
        "settings": {"steps": args.steps, "batch_size": args.batch_size, "eval_every": args.eval_every,
                     "eval_n": args.eval_n, "seeds": args.seeds, "sizes": args.sizes,
                     "strategies": args.strategies, "targets": args.targets},
        "arms": [],
    }
    started = time.perf_counter()
    for target_name in args.targets:
        held_out = load_domain(target_name, "test", verbose=False).images[: args.eval_n]
        for size in args.sizes:
            target = load_domain(target_name, "train", limit=size, verbose=False)
            for strategy in args.strategies:
                curves = []
                for seed in args.seeds:
                    t0 = time.perf_counter()
                    result = adapt(generator, discriminator, target, strategy, args.steps, held_out=held_out,
                                   batch_size=args.batch_size, eval_every=args.eval_every, eval_n=args.eval_n,
                                   seed=seed, device=device)
                    curves.append({**result.evaluation, "seconds": time.perf_counter() - t0, "seed": seed})
                    print(f"{target_name:12s} n={size:<5d} {strategy:9s} seed {seed}: FD {result.final_fd:8.2f} "
                          f"({curves[-1]['seconds']:.1f} s)", flush=True)
                steps = curves[0]["step"]
                fd_mean = [statistics.fmean(c["fd"][i] for c in curves) for i in range(len(steps))]
                fd_std = [statistics.stdev([c["fd"][i] for c in curves]) if len(curves) > 1 else 0.0
                          for i in range(len(steps))]
                kid_mean = [statistics.fmean(c["kid"][i] for c in curves) for i in range(len(steps))]
                results["arms"].append({
                    "target": target_name, "size": size, "strategy": strategy, "steps": steps,
                    "fd_mean": fd_mean, "fd_std": fd_std, "kid_mean": kid_mean,
                    "final_fd": mean_std([c["fd"][-1] for c in curves]),
                    "final_kid": mean_std([c["kid"][-1] for c in curves]),
                    "seconds": statistics.fmean(c["seconds"] for c in curves),
                    "per_seed": curves,
                })
    summarise(results)
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    return results


def summarise(results: dict) -> None:
    """Steps to thresholds relative to scratch, and a headline per pair and size."""
    headlines = []
    for arm in results["arms"]:
        scratch = next((a for a in results["arms"] if a["target"] == arm["target"] and a["size"] == arm["size"]
                        and a["strategy"] == "scratch"), None)
        if scratch is None:
            continue
        final_scratch = scratch["final_fd"][0]
        thresholds = {"scratch_final": final_scratch, "mid_level": 2 * final_scratch}
        arm["thresholds"] = thresholds
        arm["steps_to"] = {k: first_step_below(arm["steps"], arm["fd_mean"], v) for k, v in thresholds.items()}
        arm["speedup"] = {}
        for key in thresholds:
            mine, theirs = arm["steps_to"][key], first_step_below(scratch["steps"], scratch["fd_mean"], thresholds[key])
            # None when either never gets there, or when this arm is already there before training (step 0)
            arm["speedup"][key] = (theirs / mine) if (mine and theirs is not None) else None
        arm["fd_change_vs_scratch"] = arm["final_fd"][0] / final_scratch - 1 if final_scratch else None
    for target in results["settings"]["targets"]:
        for size in results["settings"]["sizes"]:
            arms = [a for a in results["arms"] if a["target"] == target and a["size"] == size and a["strategy"] != "scratch"]
            if not arms or "fd_change_vs_scratch" not in arms[0]:
                continue
            best = min(arms, key=lambda a: a["final_fd"][0])
            speed, reached = best["speedup"]["scratch_final"], best["steps_to"]["scratch_final"]
            if reached == 0:
                speed_text = "starts (step 0) below scratch's final FD"
            elif reached is None:
                speed_text = "never reaches scratch's final FD"
            elif speed is None:
                speed_text = f"reaches scratch's final FD at step {reached}"
            elif speed >= 1:
                speed_text = f"reaches scratch's final FD {speed:.1f}x sooner (step {reached:g})"
            else:
                speed_text = f"reaches scratch's final FD {1 / speed:.1f}x later (step {reached:g})"
            mid, mid_step = best["speedup"]["mid_level"], best["steps_to"]["mid_level"]
            if mid_step == 0:
                speed_text += ", starts below the mid-level FD"
            elif mid is not None:
                speed_text += f", the mid-level FD (2x scratch's final) {mid:.1f}x {'sooner' if mid >= 1 else 'later'}"
            headlines.append(f"{results['source']} -> {target}, {size} images: best transfer `{best['strategy']}` "
                             f"{speed_text} and ends {abs(100 * best['fd_change_vs_scratch']):.0f}% "
                             f"{'lower' if best['fd_change_vs_scratch'] < 0 else 'higher'} in FD than scratch "
                             f"({best['final_fd'][0]:.1f} vs {best['final_fd'][0] / (1 + best['fd_change_vs_scratch']):.1f})")
    results["headlines"] = headlines


def main(argv=None) -> int:
    bench = BenchmarkRun("transfer", __doc__, RESULTS, argv, configure)
    args = parse(bench)
    if args.summarise_only:
        results = json.loads(bench.out.read_text())
        summarise(results)
        bench.header = {key: results.get(key, value) for key, value in bench.header.items()}  # the run's own
    else:
        results = run(args)
    results = bench.finish(results)
    for line in results["headlines"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
