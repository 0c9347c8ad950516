"""Measured results: written by the benchmarks, and any such JSON file rendered as Markdown tables.

The benchmarks write ``benchmarks/results/*.json`` with whatever structure suits them. The
benchmarks appendix shows every one of them without knowing that structure in advance:
scalars become a key/value table, a mapping of mappings becomes a table with one row per key,
a list of mappings becomes a table with one row per item, and deeper levels get their own tables.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

__all__ = ["find_results", "load_results", "markdown_tables", "run_header", "write_result"]

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

    from gantutor.device import describe_machine

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"benchmark": benchmark, "command": command, "machine": describe_machine("cpu"),
            "python": platform.python_version(), "torch": torch.__version__,
            "when_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load_average_1min": round(load, 2) if load is not None else None}


def write_result(result: dict[str, Any], path: str | Path) -> Path:
    """Write ``result`` as indented JSON to ``path`` (creating its folder) and say so."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return path


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
