"""How many CPU threads should PyTorch use for the book's training steps, on a quiet and on a busy machine?

    python benchmarks/threads.py            # writes benchmarks/results/threads.json
    python benchmarks/threads.py --quick    # a few steps of each, in seconds (for CI)

For each workload (a DCGAN training step as chapter 5 runs it: the library's Generator and
Discriminator, base width 32, batch 64; the same at chapter 7's batch 32; a toy MLP step of chapter 2
at batch 256) it times ``Trainer.step()`` (D step and G step, forward and backward) at 1 and at 2
torch threads, first as the machine is ("quiet": only what else runs on it, shown by the load
average), then with a background load that this script starts itself: ``--load`` Python processes
that spin on the CPU (default 2, as many as a 2-core machine has), stopped at the end. Thread
counts alternate within each condition, so a change of the machine's load hits both alike.
Each number is the median time of one step over ``--repeats`` blocks of ``--steps`` steps.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from gantutor.nets import Discriminator, Generator, MLPDiscriminator, MLPGenerator
from gantutor.results import BenchmarkRun
from gantutor.train import Trainer

RESULTS = Path(__file__).resolve().parent / "results"
THREADS = (1, 2)


def dcgan_trainer(batch_size: int) -> Trainer:
    torch.manual_seed(0)
    data = torch.rand(512, 1, 28, 28) * 2 - 1  # the step's cost does not depend on what the images show
    return Trainer(Generator(latent_dim=64, base_width=32), Discriminator(base_width=32), data,
                   batch_size=batch_size, device="cpu", seed=0)


def toy_trainer(batch_size: int) -> Trainer:
    from gantutor.data import load_domain

    torch.manual_seed(0)
    return Trainer(MLPGenerator(2, 2, 64, 2), MLPDiscriminator(2, 64, 2), load_domain("ring", verbose=False),
                   batch_size=batch_size, device="cpu", seed=0)


WORKLOADS = {
    "dcgan_w32_batch64 (chapter 5)": lambda: dcgan_trainer(64),
    "dcgan_w32_batch32 (chapter 7)": lambda: dcgan_trainer(32),
    "toy_mlp_batch256 (chapter 2)": lambda: toy_trainer(256),
}


def time_steps(trainer: Trainer, threads: int, steps: int) -> float:
    """Milliseconds per training step at ``threads`` torch threads."""
    torch.set_num_threads(threads)
    trainer.step()  # the first step after a change of the thread pool pays for its start-up
    started = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    return (time.perf_counter() - started) / steps * 1000


def measure(steps: int, repeats: int) -> dict:
    results = {}
    for name, build in WORKLOADS.items():
        trainer = build()
        blocks: dict[int, list[float]] = {t: [] for t in THREADS}
        for repeat in range(repeats):
            for threads in (THREADS if repeat % 2 == 0 else THREADS[::-1]):
                blocks[threads].append(time_steps(trainer, threads, steps))
        median = {t: statistics.median(b) for t, b in blocks.items()}
        results[name] = {**{f"ms_per_step_{t}_thread{'s' if t > 1 else ''}": round(median[t], 1) for t in THREADS},
                         "ratio_2_over_1": round(median[2] / median[1], 2),
                         "blocks_ms": {str(t): [round(x, 1) for x in b] for t, b in blocks.items()}}
    return results


def start_load(processes: int) -> list[subprocess.Popen]:
    """Busy Python processes (a stand-in for other work sharing the machine)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]


def stop_load(load: list[subprocess.Popen]) -> None:
    for process in load:
        process.terminate()
    for process in load:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load_average() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def main(argv: list[str] | None = None) -> None:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--steps", type=int, default=6, help="training steps per timed block")
        parser.add_argument("--repeats", type=int, default=3, help="timed blocks per thread count")
        parser.add_argument("--load", type=int, default=2, help="busy background processes for the 'busy' condition")

    bench = BenchmarkRun("threads", __doc__, RESULTS, argv, configure)
    args = bench.args
    steps, repeats = (2, 2) if args.quick else (args.steps, args.repeats)
    result = {"cores": os.cpu_count(),
              "torch_default_threads": torch.get_num_threads(),
              "settings": {"steps_per_block": steps, "blocks": repeats, "threads": list(THREADS),
                           "background_processes": args.load}}
    conditions = {}
    before = load_average()
    conditions["quiet"] = {"load_average_before": before, "background_processes": 0, "workloads": measure(steps, repeats)}
    load = start_load(args.load)
    try:
        time.sleep(0.5 if args.quick else 3)  # let the load start
        before = load_average()
        conditions["busy"] = {"load_average_before": before, "background_processes": args.load,
                              "workloads": measure(steps, repeats)}
    finally:
        stop_load(load)
    result["conditions"] = conditions
    result["side_by_side"] = {name: {f"{condition} {key}": data["workloads"][name][key]
                                     for condition, data in conditions.items()
                                     for key in ("ms_per_step_1_thread", "ms_per_step_2_threads", "ratio_2_over_1")}
                              for name in WORKLOADS}
    worst = {t: max(data["workloads"][name][f"ms_per_step_{t}_thread{'s' if t > 1 else ''}"]
                    / min(data["workloads"][name]["ms_per_step_1_thread"], data["workloads"][name]["ms_per_step_2_threads"])
                    for data in conditions.values() for name in WORKLOADS) for t in THREADS}
    result["worst_slowdown_vs_best"] = {f"{t} thread{'s' if t > 1 else ''}": round(worst[t], 2) for t in THREADS}
    for name in WORKLOADS:
        print(name, result["side_by_side"][name])
    print("worst slowdown against the better choice:", result["worst_slowdown_vs_best"])
    bench.finish(result)


if __name__ == "__main__":
    main()
