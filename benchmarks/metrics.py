"""Throughput of the metrics: features + Fréchet distance for 10,000 vs 10,000 images.

    python benchmarks/metrics.py [--n 10000] [--threads 2] [--repeats 3]
    python benchmarks/metrics.py --quick      # 500 images, one repeat; written only with --out

Writes ``benchmarks/results/metrics.json`` with the best and median times of each part, the
machine, the thread count and the load average when it ran (timings on a busy machine are
inflated: read them together with the load). The target is ≤ 10 s on 2 CPU cores.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from gantutor.data import load_domain
from gantutor.metrics import feature_net, features, frechet_distance, kernel_distance
from gantutor.results import BenchmarkRun


def main(argv: list[str] | None = None) -> None:
    def configure(parser):
        parser.add_argument("--n", type=int, default=10_000, help="images on each side")
        parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the target is for 2 cores)")
        parser.add_argument("--repeats", type=int, default=3)

    bench = BenchmarkRun("metrics", __doc__, Path(__file__).resolve().parent / "results", argv, configure)
    args = bench.args
    if bench.quick:
        args.n, args.repeats = 500, 1
    torch.set_num_threads(args.threads)

    # Real images on one side (MNIST train + test, repeated to n), noisy copies on the other.
    real = load_domain("mnist", split="all", verbose=False).images
    reps = -(-args.n // len(real))
    side_a = real.repeat(reps, 1, 1, 1)[: args.n]
    generator = torch.Generator().manual_seed(0)
    side_b = (side_a + 0.2 * torch.randn(side_a.shape, generator=generator)).clamp(-1, 1)
    net = feature_net()
    features(side_a[:100], net)  # warm-up

    runs = []
    for _ in range(args.repeats):
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        feats_a = features(side_a, net)
        feats_b = features(side_b, net)
        t1 = time.perf_counter()
        fd = frechet_distance(feats_a, feats_b)
        t2 = time.perf_counter()
        kid, kid_std = kernel_distance(feats_a, feats_b, subsets=50, subset_size=1000)
        t3 = time.perf_counter()
        runs.append({"features_s": t1 - t0, "fd_s": t2 - t1, "features_plus_fd_s": t2 - t0, "kid_s": t3 - t2,
                     "load_1min_before": load_before, "fd": fd, "kid": kid, "kid_std": kid_std})
        print(f"features {t1 - t0:.2f}s  FD {t2 - t1:.3f}s  total {t2 - t0:.2f}s  KID(50x1000) {t3 - t2:.2f}s  "
              f"load {load_before:.2f}")
    best = min(run["features_plus_fd_s"] for run in runs)
    result = bench.finish({
        "what": f"features + Frechet distance, {args.n:,} vs {args.n:,} grey 28x28 images",
        "n_per_side": args.n, "threads": args.threads,
        "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
        "best_features_plus_fd_s": round(best, 3),
        "median_features_plus_fd_s": round(statistics.median(r["features_plus_fd_s"] for r in runs), 3),
        "images_per_s": round(2 * args.n / min(r["features_s"] for r in runs)),
        "target_s": 10.0, "meets_target": best <= 10.0,
        "load_average_at_end": os.getloadavg(),
        "runs": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in run.items()} for run in runs],
    })
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
