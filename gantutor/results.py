"""Measured results: the benchmarks' shared harness, and any result file rendered as Markdown tables.

Every script in ``benchmarks/`` runs through :class:`BenchmarkRun`: the same ``--quick`` (a smoke
run in seconds that exercises every code path and writes nothing unless ``--out`` is given) and
``--out`` flags, the same header (:func:`run_header`: which benchmark, the command, the machine,
the versions, when, the load), and the same atomic write of ``benchmarks/results/NAME.json``.

The result files have whatever structure suits each benchmark. The benchmarks appendix shows
every one of them without knowing that structure in advance:
scalars become a key/value table, a mapping of mappings becomes a table with one row per key,
a list of mappings becomes a table with one row per item, and deeper levels get their own tables.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from .storage import atomic_write_text

__all__ = ["BenchmarkRun", "find_results", "load_results", "markdown_tables", "run_header", "write_result"]

Table = tuple[str, list[str], list[list[str]]]


def find_results(start: str | Path | None = None, relative: str = "benchmarks/results") -> Path | None:
    """The first ``benchmarks/results`` folder in ``start`` (default: the working directory) or above it.

    Args:
        start: where to start looking.
        relative: the folder to look for, relative to each candidate.

    Returns:
        The folder, or ``None`` when there is none (e.g. on Colab, where only the notebook is).
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / relative).is_dir():
            return folder / relative
    return None


def run_header(benchmark: str, command: str) -> dict[str, Any]:
    """What every result file starts with: which benchmark, how to re-run it, where and when it ran.

    The machine is described for the CPU (the benchmarks that write through this run there);
    the 1-minute load average tells a reader whether other work shared the machine.
    """
    import torch

    from .device import describe_machine

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"benchmark": benchmark, "command": command, "machine": describe_machine("cpu"),
            "python": platform.python_version(), "torch": torch.__version__,
            "when_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load_average_1min": round(load, 2) if load is not None else None}


def write_result(result: dict[str, Any], path: str | Path) -> Path:
    """Write ``result`` as indented JSON to ``path`` atomically (creating its folder) and say so."""
    path = atomic_write_text(path, json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return path


class BenchmarkRun:
    """One run of a benchmark script: its arguments, its header and where its result goes.

    >>> run = BenchmarkRun("demo", __doc__, Path(__file__).parent / "results",
    ...                    configure=lambda parser: parser.add_argument("--steps", type=int, default=100))
    >>> steps = 2 if run.quick else run.args.steps
    >>> run.finish({"steps": steps, "value": 42})   # header + result + seconds, written unless --quick

    Args:
        name: the benchmark's name; its result file is ``folder / f"{name}.json"``.
        description: the script's help text (its docstring).
        folder: the results folder (``benchmarks/results``).
        argv: the command-line arguments (default: ``sys.argv[1:]``).
        configure: adds the script's own arguments to the parser.
    """

    def __init__(self, name: str, description: str | None, folder: str | Path, argv: Sequence[str] | None = None,
                 configure: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
        self.name, self.folder = name, Path(folder)
        parser = argparse.ArgumentParser(prog=f"python benchmarks/{name}.py", description=description,
                                         formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--quick", action="store_true",
                            help="a smoke run in seconds that exercises every code path; writes nothing unless --out")
        parser.add_argument("--out", type=Path, default=None,
                            help=f"where to write the JSON (default: {self.folder.name}/{name}.json; none with --quick)")
        if configure is not None:
            configure(parser)
        self.parser = parser
        self.argv = list(sys.argv[1:] if argv is None else argv)
        self.args = parser.parse_args(self.argv)
        self.quick: bool = self.args.quick
        self.header = run_header(name, " ".join([f"python benchmarks/{name}.py", *_without_out(self.argv)]))
        self.started = time.time()

    @property
    def out(self) -> Path | None:
        """The result file: ``--out``, else the results folder's (none for a ``--quick`` run)."""
        if self.args.out is not None:
            return self.args.out
        return None if self.quick else self.folder / f"{self.name}.json"

    def run_jobs(self, jobs: list[dict], key: Callable[[dict], tuple], run_one: Callable[..., dict],
                 workers: int = 1, resume: bool = False, show: Callable[[dict], str] | None = None) -> list[dict]:
        """Run every job (``run_one(job, threads)``), ``workers`` at a time with one CPU thread each, and
        return their records in the order of ``jobs``.

        Each finished record is appended to ``<out>.runs.jsonl``; with ``resume`` the records already
        there are kept and their jobs skipped (without it the log starts afresh). ``show(record)`` is
        the line printed per finished run.
        """
        from concurrent.futures import ProcessPoolExecutor

        log = self.out.with_suffix(".runs.jsonl") if self.out is not None else None
        done: dict[tuple, dict] = {}
        if log is not None and resume and log.exists():
            for line in log.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    done[key(record)] = record
        elif log is not None and log.exists():
            log.unlink()
        todo = [job for job in jobs if key(job) not in done]
        print(f"{len(jobs)} runs, {len(jobs) - len(todo)} already finished", flush=True)

        def keep(record: dict) -> None:
            done[key(record)] = record
            if log is not None:
                with log.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
            if show is not None:
                print(show(record), flush=True)

        if workers == 1:
            for job in todo:
                keep(run_one(job))
        else:
            with ProcessPoolExecutor(workers) as pool:
                for record in pool.map(run_one, todo, [1] * len(todo)):
                    keep(record)
        return [done[key(job)] for job in jobs]

    def finish(self, result: dict[str, Any]) -> dict[str, Any]:
        """The header, ``result``, ``quick`` and the run's ``seconds``, written to :attr:`out` (if any)."""
        full = {**self.header, **result, "quick": self.quick, "seconds": round(time.time() - self.started, 1)}
        if self.out is not None:
            write_result(full, self.out)
        return full


def _without_out(argv: list[str]) -> list[str]:
    """The arguments without ``--out PATH`` (where a result is written is not how it was measured)."""
    shown, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--out":
            skip = True
        elif not arg.startswith("--out="):
            shown.append(arg)
    return shown


def load_results(folder: str | Path) -> dict[str, Any]:
    """Every ``*.json`` file of ``folder``, by file name, sorted; a file that is not valid JSON maps to its error.

    Args:
        folder: a folder of result files.

    Returns:
        ``{file name: parsed JSON}``; unreadable files give ``{"error": "..."}`` instead of raising.
    """
    results: dict[str, Any] = {}
    for path in sorted(Path(folder).glob("*.json")):
        try:
            results[path.name] = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            results[path.name] = {"error": f"could not read {path.name}: {error}"}
    return results


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _cell(value: Any, width: int = 80) -> str:
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, list) and all(_is_scalar(v) for v in value):
        shown = [_cell(v) for v in value[:8]]
        text = ", ".join(shown) + (f", … ({len(value)} values)" if len(value) > 8 else "")
    elif _is_scalar(value):
        text = "–" if value is None else str(value)
    else:
        text = json.dumps(value)
    text = text.replace("|", "\\|").replace("\n", " ").replace("`", "'")
    return text if len(text) <= width else text[: width - 1] + "…"


def _tables(value: Any, caption: str) -> list[Table]:
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            columns = list(dict.fromkeys(key for item in value for key in item))
            return [(caption, columns, [[_cell(item.get(c)) for c in columns] for item in value])]
        return [(caption, ["value"], [[_cell(value)]])]
    if not isinstance(value, dict):
        return [(caption, ["value"], [[_cell(value)]])]
    tables: list[Table] = []
    flat = {k: v for k, v in value.items() if _is_scalar(v) or (isinstance(v, list) and all(_is_scalar(x) for x in v))}
    if flat:
        tables.append((caption, ["key", "value"], [[_cell(k), _cell(v)] for k, v in flat.items()]))
    nested = {k: v for k, v in value.items() if k not in flat}
    rows_of_scalars = {k: v for k, v in nested.items()
                       if isinstance(v, dict) and v and all(_is_scalar(x) for x in v.values())}
    if len(rows_of_scalars) >= 2 and len(rows_of_scalars) == len(nested):
        columns = list(dict.fromkeys(key for row in rows_of_scalars.values() for key in row))
        tables.append((caption, ["", *columns], [[_cell(k), *[_cell(row.get(c)) for c in columns]]
                                                  for k, row in rows_of_scalars.items()]))
        return tables
    for key, sub in nested.items():
        tables += _tables(sub, f"{caption} › {key}" if caption else str(key))
    return tables


def markdown_tables(data: Any, title: str = "") -> str:
    """Markdown tables of any JSON value (see the module's docstring for the layout).

    Args:
        data: parsed JSON: a mapping, a list or a scalar, nested to any depth.
        title: the caption of the top-level table (e.g. the file name).

    Returns:
        Markdown text: for each table a bold caption, then a pipe table.
    """
    blocks = []
    for caption, header, rows in _tables(data, title):
        lines = [f"**{caption}**" if caption else "", "", "| " + " | ".join(header) + " |",
                 "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
