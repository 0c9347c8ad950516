"""Measure the book: the time to build it with execution, and each chapter's execution time.

    python benchmarks/book.py                 # build a fresh copy of the book, executing every notebook
    python benchmarks/book.py --from-tests    # reuse the per-notebook times of the last test run
                                              # (_build/executed/timings.json, written by nbval)
    python benchmarks/book.py --quick         # --from-tests, written only with --out (a smoke test)

Writes ``benchmarks/results/book.json``: the machine, the date, the command, the build time and
``chapters`` = {notebook path: seconds}. On a machine with a CUDA GPU the same numbers go under
``gpu`` instead, next to the CPU numbers already there, so one file holds both. The landing page
(``{chapter-times}``) and the benchmarks appendix read this file; no time in the book is typed.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from gantutor.device import describe_machine, pick_device
from gantutor.results import BenchmarkRun, write_result

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TIMINGS = ROOT / "_build" / "executed" / "timings.json"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    import torch

    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform()}
    if hasattr(os, "getloadavg"):
        info["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    return info


def toc_notebooks(root: Path) -> list[str]:
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    entries = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [f"{entry}.ipynb" for entry in entries if (root / f"{entry}.ipynb").exists()]


def stage(target: Path) -> Path:
    """A fresh copy of the book's sources whose build executes every notebook (no cache)."""
    import yaml

    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(ROOT / "book", target / "book", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    if (ROOT / "benchmarks" / "results").exists():
        shutil.copytree(ROOT / "benchmarks" / "results", target / "benchmarks" / "results")
    config = yaml.safe_load((target / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "force"
    (target / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return target


def build(target: Path) -> tuple[float, dict[str, float], str]:
    """Build the staged book with execution; returns wall seconds, {notebook: seconds}, the log."""
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(target),
               "--builder", "html", "--verbose"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=target)
    seconds = time.perf_counter() - start
    log = result.stdout + result.stderr
    if result.returncode != 0:
        sys.exit(f"the book build failed (exit {result.returncode}):\n" + "\n".join(log.splitlines()[-30:]))
    return seconds, chapter_seconds(log, target), log


def chapter_seconds(log: str, root: Path) -> dict[str, float]:
    """Per-notebook times from myst-nb's log lines '<path>.ipynb: Executed notebook in N seconds'."""
    times = {}
    for match in re.finditer(r"(\S+?\.ipynb)\S*\s.*?Executed notebook in ([\d.]+) seconds", log):
        path = Path(match.group(1))
        try:
            name = path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            name = path.as_posix()
        times[name] = round(float(match.group(2)), 2)
    return times


def main(argv: list[str] | None = None) -> None:
    def configure(parser):
        parser.add_argument("--from-tests", action="store_true",
                            help="reuse the nbval times of the last test run instead of building the book")

    bench = BenchmarkRun("book", __doc__, RESULTS, argv, configure)
    args = bench.args
    args.from_tests = args.from_tests or args.quick
    device = pick_device()
    record = {**bench.header, "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "device": describe_machine(device), "machine": machine()}
    notebooks = toc_notebooks(ROOT)
    if args.from_tests:
        if not TIMINGS.exists():
            sys.exit(f"{TIMINGS.relative_to(ROOT)} does not exist: run the notebooks with pytest first")
        timings = json.loads(TIMINGS.read_text())
        record["source"] = "nbval run times of the test run (_build/executed/timings.json)"
        record["chapters"] = {nb: timings[nb] for nb in notebooks if nb in timings}
        record["build_seconds"] = None
    else:
        seconds, chapters, _ = build(stage(ROOT / "_build" / "benchmark-book"))
        record["source"] = "jupyter-book build with execute_notebooks: force (myst-nb execution times)"
        record["build_seconds"] = round(seconds, 1)
        record["chapters"] = {nb: chapters[nb] for nb in notebooks if nb in chapters}
    if hasattr(os, "getloadavg"):
        record["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    missing = [nb for nb in notebooks if nb not in record["chapters"]]
    if missing:
        print("no time measured for:", ", ".join(missing), file=sys.stderr)

    out = bench.out
    previous = json.loads(out.read_text()) if out is not None and out.exists() else {}
    if device.type == "cuda":  # keep the CPU numbers, add the GPU's beside them
        result = {**previous, "gpu": record}
    else:
        result = {**record, **({"gpu": previous["gpu"]} if "gpu" in previous else {})}
    print(json.dumps(record, indent=2))
    if out is not None:
        write_result(result, out)


if __name__ == "__main__":
    main()
