"""Steps per second of `python -m gantutor.train` with 1 and 2 processes (torchrun, DDP).

    python benchmarks/distributed.py            # writes benchmarks/results/distributed.json
    python benchmarks/distributed.py --quick    # fewer steps (a smoke test of the script); written only with --out

On the CPU it compares one process (which uses every core through torch's threads) with
two gloo processes (torchrun gives each one thread). On a machine with GPUs it also runs
one process and one process per GPU with NCCL. The speed is read from the run's
history.json (seconds spent inside the training steps, after a warm-up), so start-up,
data loading and file writing are not counted. The machine's load (`uptime`) is recorded
before and after: on a shared machine the numbers are only as good as the load allows.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from gantutor.device import describe_machine
from gantutor.results import BenchmarkRun
from gantutor.storage import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "results"

# What is trained: the book's DCGAN at base width 32 on the bundled MNIST digits, and the toy MLP GAN.
CASES = {
    "dcgan": ["--domain", "mnist", "--limit", "2048", "--base-width", "32"],
    "toy": ["--domain", "ring", "--hidden", "128"],
}


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(case: str, processes: int, batch: int, steps: int, warmup: int, device: str,
        one_thread: bool = False) -> dict:
    """One torchrun launch; the steps/s of the steps after ``warmup``."""
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "MPLBACKEND": "Agg"}
        if device == "cpu":
            env["GANTUTOR_DEVICE"] = "cpu"
        else:
            env.pop("GANTUTOR_DEVICE", None)
        env.pop("OMP_NUM_THREADS", None)  # torchrun sets 1 for several processes; one process uses every core
        if one_thread:
            env["OMP_NUM_THREADS"] = "1"
        command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", f"--nproc_per_node={processes}",
                   "--master_addr=127.0.0.1", f"--master_port={free_port()}", "-m", "gantutor.train",
                   *CASES[case], "--steps", str(steps), "--batch-size", str(batch), "--out", out,
                   "--checkpoint-every", str(steps), "--sample-every", str(10 * steps), "--log-every", str(steps)]
        started = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
        record = json.loads((Path(out) / "history.json").read_text())
    seconds = record["history"]["time"]
    timed = seconds[-1] - seconds[warmup - 1]
    steps_per_second = (steps - warmup) / timed
    threads = 1 if (one_thread or processes > 1) else os.cpu_count()
    return {"case": case, "device": device, "processes": processes, "threads_per_process": threads,
            "batch_per_process": batch,
            "global_batch": batch * processes, "steps": steps, "warmup_steps": warmup,
            "steps_per_s": round(steps_per_second, 2),
            "samples_per_s": round(steps_per_second * batch * processes, 1),
            "launch_wall_s": round(wall, 1)}


def table(result: dict) -> str:
    """The results as a Markdown table (included by book/appendix_scaling.md)."""
    lines = ["| model | device | processes x threads | batch per process | global batch | steps/s | samples/s |",
             "|---|---|---|---|---|---|---|"]
    for row in result["runs"]:
        model = "DCGAN, base width 32" if row["case"] == "dcgan" else "toy MLP GAN (ring)"
        lines.append(f"| {model} | {row['device']} | {row['processes']} x {row['threads_per_process']} | "
                     f"{row['batch_per_process']} | {row['global_batch']} | {row['steps_per_s']:g} | "
                     f"{row['samples_per_s']:g} |")
    load = result["load_before"].split("load average:")[-1].strip()
    load_after = result["load_after"].split("load average:")[-1].strip()
    lines += ["", f"Measured on {result['machine']}; load average (1, 5, 15 min) {load} before and "
                  f"{load_after} after. CUDA: {result['cuda']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    def configure(parser):
        parser.add_argument("--table-only", action="store_true", help="only rewrite the .md table from the .json")

    bench = BenchmarkRun("distributed", __doc__, RESULTS, argv, configure)
    args = bench.args
    if args.table_only:
        path = args.out or RESULTS / "distributed.json"
        atomic_write_text(path.with_suffix(".md"), table(json.loads(path.read_text())))
        return
    scale = 0.2 if args.quick else 1.0
    plan = [  # (case, processes, batch per process, steps, one thread)
        ("dcgan", 1, 64, 200, False), ("dcgan", 1, 64, 200, True), ("dcgan", 2, 32, 200, False),
        ("dcgan", 2, 64, 200, False),
        ("toy", 1, 256, 1000, False), ("toy", 1, 256, 1000, True), ("toy", 2, 128, 1000, False),
        ("toy", 2, 256, 1000, False),
    ]
    load_before = uptime()
    rows = []
    for case, processes, batch, steps, one_thread in plan:
        steps = max(20, int(steps * scale))
        rows.append(run(case, processes, batch, steps, warmup=steps // 5, device="cpu", one_thread=one_thread))
        print(json.dumps(rows[-1]), flush=True)
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus:
        for processes in sorted({1, gpus}):
            rows.append(run("dcgan", processes, 64, max(20, int(500 * scale)), warmup=50 if not args.quick else 4,
                            device="cuda"))
            print(json.dumps(rows[-1]), flush=True)
    result = bench.finish({
        "what": "steps/s of python -m gantutor.train under torchrun: 1 vs 2 CPU processes (gloo); "
                "global batch = batch_per_process x processes",
        "cpu_cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": uptime(),
        "cuda": (f"measured on {gpus} GPU(s): {describe_machine('cuda')}" if gpus else
                 "not measured: no GPU on the machine that ran this script"),
        "note": "torchrun gives each of several processes 1 thread (OMP_NUM_THREADS=1); one process uses all "
                "cores through torch's own threads unless threads_per_process is 1. With 2 cores, 2 processes "
                "do the work of one with twice the batch plus an all-reduce per backward: no real speed-up is "
                "possible, and on a busy machine a multi-threaded process suffers most from the load. The test "
                "of 2 CPU processes is about correctness, not speed.",
        "runs": rows,
    })
    if bench.out is not None:
        atomic_write_text(bench.out.with_suffix(".md"), table(result))
        print(f"wrote {bench.out.with_suffix('.md')}")




if __name__ == "__main__":
    main()
