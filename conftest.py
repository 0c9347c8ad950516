"""Test-suite plumbing shared by unit tests, notebooks (nbval) and the book build.

Each notebook is executed once per test run, by nbval. As its cells pass, their outputs
are written into an executed copy under ``_build/executed/`` together with the
notebook's run time; the book test (marked ``book``, run last) builds the HTML from
those copies instead of executing every notebook a second time.

``make test`` runs in two parts: everything but the book tests on every core
(pytest-xdist, ``--dist loadfile``: each notebook's cells stay in order in one worker, one
torch thread each, so every number is the one a serial run gives), the chapters that train
longest first; then the book tests, which build from the executed copies.

When a notebook cell fails, the last lines of the run say which: the notebook, the cell (its
number among the code cells and in the notebook), how it starts, and the error's last line.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

# One torch thread for the tests and for the notebooks' kernels (they inherit it), unless a run says
# otherwise: on a 2-core machine shared with other work, two threads made the unit tests 2.5 to 3
# times slower and a training step 4 to 40 times slower (benchmarks/results/threads.json).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib  # noqa: E402
import pytest  # noqa: E402

# Unit tests draw off-screen. Only this process: the notebooks' kernels must keep their inline
# backend (an inherited MPLBACKEND=Agg would silently drop every figure from the executed pages).
matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent
EXECUTED = ROOT / "_build" / "executed"
TIMINGS = EXECUTED / "timings.json"

_failed: set[str] = set()
_seconds: dict[str, float] = {}
_failed_cells: list[dict] = []


# The chapters that train longest (README's table of chapter times), started first: with one worker
# per core each takes one of them at once and the shorter files fill in around them.
LONGEST_FIRST = ("book/05_training.ipynb", "book/08_cross_domain.ipynb", "book/07_transfer.ipynb")


def _start_rank(item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(config, items):
    """Run the book tests after everything else (they use the notebooks executed before them),
    and the longest chapters first (a stable sort: each file's items keep their order)."""
    items.sort(key=lambda item: (item.get_closest_marker("book") is not None, _start_rank(item)))


def _is_nbval_cell(item) -> bool:
    return hasattr(item, "test_outputs") and hasattr(item, "cell")


INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Start notebook kernels with the inline matplotlib backend.

    A kernel inherits MPLBACKEND; with ``MPLBACKEND=Agg`` (right for the test process itself)
    ``plt.show()`` in a notebook shows nothing, and the book would be built without its figures.
    """
    backend = os.environ.get("MPLBACKEND")
    if not _is_nbval_cell(item) or backend is None or "inline" in backend:
        yield
        return
    os.environ["MPLBACKEND"] = INLINE_BACKEND  # the kernel, started in this setup, reads it
    try:
        yield
    finally:
        os.environ["MPLBACKEND"] = backend


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not _is_nbval_cell(item) or call.when != "call":
        return
    report = outcome.get_result()
    name = Path(str(item.parent.fspath)).name
    _seconds[name] = _seconds.get(name, 0.0) + report.duration
    if report.failed:
        _failed.add(name)
        # travels with the report: in a parallel run the summary is written by the controlling process
        report.user_properties.append(("gantutor_failed_cell", describe_failed_cell(item, report)))
    elif item.test_outputs is not None:
        item.cell.outputs = item.test_outputs  # nbval has compared them already: safe to keep
        item.cell.execution_count = item.cell_num + 1


def pytest_runtest_logreport(report):
    """Collect the failed notebook cells (in a parallel run, the controller receives every worker's reports)."""
    _failed_cells.extend(value for key, value in report.user_properties if key == "gantutor_failed_cell")


def pytest_runtest_teardown(item, nextitem):
    if not _is_nbval_cell(item):
        return
    if nextitem is not None and getattr(nextitem, "parent", None) is item.parent:
        return  # the notebook is not finished yet
    import nbformat

    path = Path(str(item.parent.fspath))
    if ROOT / "book" not in path.resolve().parents:
        return  # not a page of the book (e.g. a test's probe notebook): nothing to keep for it
    EXECUTED.mkdir(parents=True, exist_ok=True)
    target = EXECUTED / path.relative_to(ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    if path.name in _failed:
        target.unlink(missing_ok=True)
    else:
        nbformat.write(item.parent.nb, str(target))
    from gantutor.storage import locked

    with locked(EXECUTED / "timings.lock"):  # the workers of a parallel run share the timings file
        timings = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
        if path.name in _failed:
            timings.pop(str(path.relative_to(ROOT)), None)
        else:
            timings[str(path.relative_to(ROOT))] = round(_seconds.get(path.name, 0.0), 2)
        TIMINGS.write_text(json.dumps(timings, indent=2, sort_keys=True))


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)|KeyboardInterrupt)\b(:.*)?$")


def error_line(text: str) -> str:
    """The last line of a traceback that names the error ("AssertionError: the loss ..."), in plain text."""
    lines = [line.strip() for line in ANSI.sub("", text).splitlines() if line.strip()]
    named = [line for line in lines if ERROR_LINE.match(line)]
    if named:
        return named[-1]
    timed_out = [line for line in lines if "timed out" in line.lower() or "timeout" in line.lower()]
    return timed_out[-1] if timed_out else (lines[-1] if lines else "(no message)")


def describe_failed_cell(item, report) -> dict:
    """Where a notebook failed, for the summary at the end of the run."""
    path = Path(str(item.parent.fspath))
    cells = item.parent.nb.cells
    code = [i for i, cell in enumerate(cells) if cell.cell_type == "code"]
    index = code[item.cell_num] if item.cell_num < len(code) else None
    source = [line for line in item.cell.source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    try:
        notebook = str(path.relative_to(ROOT))
    except ValueError:
        notebook = str(path)
    return {"notebook": notebook, "code_cell": item.cell_num + 1, "code_cells": len(code),
            "cell": None if index is None else index + 1, "cells": len(cells),
            "starts": source[0][:100] if source else "(only comments)", "error": error_line(report.longreprtext)}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """After pytest's own summary: one short paragraph per failed notebook cell."""
    result = yield
    if _failed_cells:
        terminalreporter.section("notebook cells that failed", sep="=", red=True, bold=True)
        for failure in _failed_cells:
            where = f"cell {failure['cell']} of {failure['cells']} in the notebook, " if failure["cell"] else ""
            terminalreporter.write_line(
                f"{failure['notebook']}: code cell {failure['code_cell']} of {failure['code_cells']} "
                f"({where}nbval's Cell {failure['code_cell'] - 1}; it starts `{failure['starts']}`)")
            terminalreporter.write_line(f"    {failure['error']}")
        terminalreporter.write_line("Run one notebook alone with: python -m pytest NOTEBOOK.ipynb "
                                    "(its full traceback is in the FAILURES section above).")
    return result
