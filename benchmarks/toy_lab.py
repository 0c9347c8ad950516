"""Measure ToyGANLab's speed: training steps/s at batch 256 and redraws/s on this machine.

    python benchmarks/toy_lab.py            # writes benchmarks/results/toy_lab.json
    python benchmarks/toy_lab.py --quick    # one frame each, for CI; written only with --out

The lab trains through gantutor.train.Trainer; a redraw is one full view (D's heat-map, real and
fake points, gradient arrows, loss and mode charts) rendered to the PNG the widget shows.
The machine's load average is recorded with the numbers, because a shared machine runs slower.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from gantutor.results import BenchmarkRun
from gantutor.widgets.toy_lab import ToyGANLab


def measure(frames: int, steps_per_frame: int, batch_size: int, repeats: int) -> dict:
    lab = ToyGANLab(batch_size=batch_size, steps_per_frame=steps_per_frame)  # trains on one CPU thread (its default)
    lab.run(2)  # warm-up: first-call overheads out of the numbers
    runs = [lab.benchmark(frames) for _ in range(repeats)]
    best = max(runs, key=lambda r: r["steps_per_second"])
    return {
        "batch_size": batch_size,
        "lab_threads": lab.threads,
        "steps_per_frame": steps_per_frame,
        "frames": frames,
        "repeats": repeats,
        "steps_per_second": round(max(r["steps_per_second"] for r in runs), 1),
        "redraws_per_second": round(max(r["redraws_per_second"] for r in runs), 2),
        "frames_per_second": round(best["frames_per_second"], 2),
        "steps_per_second_while_playing": round(best["frames_per_second"] * steps_per_frame, 1),
    }


def main(argv: list[str] | None = None) -> None:
    def configure(parser):
        parser.add_argument("--frames", type=int, default=20)
        parser.add_argument("--repeats", type=int, default=3)

    bench = BenchmarkRun("toy_lab", __doc__, Path(__file__).resolve().parent / "results", argv, configure)
    frames, repeats = (1, 1) if bench.quick else (bench.args.frames, bench.args.repeats)
    torch.manual_seed(0)
    results = measure(frames, 25, 256, repeats)
    result = bench.finish({
        "targets": {"steps_per_second": 200, "redraws_per_second": 5},
        "results": results,
        "load_average_1min_after": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    })
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
