"""Test-suite plumbing shared by unit tests, notebooks (nbval) and the book build.

Each notebook is executed once per test run, by nbval. As its cells pass, their outputs
are written into an executed copy under ``_build/executed/`` together with the
notebook's run time; the book test (marked ``book``, run last) builds the HTML from
those copies instead of executing every notebook a second time.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib
import pytest

# Unit tests draw off-screen. Only this process: the notebooks' kernels must keep their inline
# backend (an inherited MPLBACKEND=Agg would silently drop every figure from the executed pages).
matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent
EXECUTED = ROOT / "_build" / "executed"
TIMINGS = EXECUTED / "timings.json"

_failed: set[str] = set()
_seconds: dict[str, float] = {}


def pytest_collection_modifyitems(config, items):
    """Run the book tests after everything else (they use the notebooks executed before them)."""
    items.sort(key=lambda item: item.get_closest_marker("book") is not None)


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
    elif item.test_outputs is not None:
        item.cell.outputs = item.test_outputs  # nbval has compared them already: safe to keep
        item.cell.execution_count = item.cell_num + 1


def pytest_runtest_teardown(item, nextitem):
    if not _is_nbval_cell(item):
        return
    if nextitem is not None and getattr(nextitem, "parent", None) is item.parent:
        return  # the notebook is not finished yet
    import nbformat

    path = Path(str(item.parent.fspath))
    EXECUTED.mkdir(parents=True, exist_ok=True)
    target = EXECUTED / path.relative_to(ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    timings = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    if path.name in _failed:
        target.unlink(missing_ok=True)
        timings.pop(str(path.relative_to(ROOT)), None)
    else:
        nbformat.write(item.parent.nb, str(target))
        timings[str(path.relative_to(ROOT))] = round(_seconds.get(path.name, 0.0), 2)
    TIMINGS.write_text(json.dumps(timings, indent=2, sort_keys=True))
