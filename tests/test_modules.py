"""The library's house rules, read from the source: no import cycles, imports point one way, modules
stay readable in one sitting, and every benchmark runs through the one harness."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gantutor"

#: Each module's layer: a module may import only from its own layer or lower ones (DESIGN.md's
#: graph, with the loading half of `pretrained` below `metrics`, which measures with its feature net).
LAYERS = {
    0: {"gantutor.device", "gantutor.storage", "gantutor.checks", "gantutor.losses", "gantutor.theory",
        "gantutor.latent"},
    1: {"gantutor.data", "gantutor.data.images", "gantutor.data.toy", "gantutor.nets", "gantutor.recipes",
        "gantutor.batches", "gantutor.distributed"},
    2: {"gantutor.pretrained", "gantutor.train", "gantutor.viz", "gantutor.results"},
    3: {"gantutor.metrics"},
    4: {"gantutor.transfer", "gantutor.coupled", "gantutor.translation", "gantutor.pretrained.rebuild"},
    5: {"gantutor.cli", "gantutor.pretrained.cli", "gantutor.widgets", "gantutor.exercises"},
}


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The gantutor modules that ``name`` imports (anywhere in the file, also inside functions)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found |= {c for c in candidates if c in known}
    return found - {name, "gantutor"}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def layer_of(name: str) -> int | None:
    """The layer of the most specific entry of LAYERS that ``name`` is or lies in."""
    matches = [(len(n), layer) for layer, names in LAYERS.items() for n in names
               if name == n or name.startswith(n + ".")]
    return max(matches)[1] if matches else None


def test_the_module_graph_has_no_cycle():
    edges = graph()
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for other in sorted(edges[node]):
            if state.get(other) == "open":
                cycle = path[path.index(other):] + [other]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if other not in state:
                visit(other, path + [other])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])


def test_every_module_has_a_layer_and_imports_point_down():
    edges = graph()
    unplaced = sorted(n for n in edges if layer_of(n) is None and not n.endswith("__main__") and n != "gantutor")
    assert not unplaced, f"modules without a layer in this test: {unplaced}"
    upward = [f"{a} (layer {layer_of(a)}) imports {b} (layer {layer_of(b)})"
              for a, targets in edges.items() if not a.endswith("__main__") for b in targets
              if layer_of(a) is not None and layer_of(b) is not None and layer_of(b) > layer_of(a)]
    assert not upward, "lower modules must not import higher ones:\n" + "\n".join(upward)


def test_no_library_module_is_too_long_to_read_in_one_sitting():
    lengths = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    assert lengths["gantutor.train"] <= 475, f"train is {lengths['gantutor.train']} lines"
    long = {name: n for name, n in lengths.items() if n > 540}
    assert not long, f"modules over ~500 lines: {long}"


BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_every_benchmark_uses_the_harness_and_no_path_hacks(script):
    source = script.read_text()
    tree = ast.parse(source)
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             and node.module == "gantutor.results" for alias in node.names}
    assert "BenchmarkRun" in names, f"{script.name} should run through gantutor.results.BenchmarkRun"
    assert "sys.path" not in source, f"{script.name} edits sys.path: the package is installed (pip install -e .)"
    assert "--smoke" not in source, f"{script.name}: the smoke mode is called --quick everywhere"


def test_the_package_docstring_and_all_name_every_top_level_module():
    import gantutor

    top = {name.split(".")[1] for name in modules() if name.count(".") >= 1}
    top = {name for name in top if not name.startswith("_")}
    assert set(gantutor.__all__) == top, f"gantutor.__all__ differs from the modules: {set(gantutor.__all__) ^ top}"
    missing = sorted(name for name in top if f":mod:`gantutor.{name}`" not in gantutor.__doc__)
    assert not missing, f"the package docstring does not list {missing}"


def test_no_source_file_holds_a_control_character():
    """A docstring's ``\\arg`` written in a non-raw string becomes a bell character plus ``rg``, and
    MathJax fails on the API page; every control character but tab and newline is such an accident."""
    import re

    bad = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "benchmarks").glob("*.py"), *(ROOT / "tests").glob("*.py"),
             *(ROOT / "book").glob("*.md"), *(ROOT / "book").glob("*.ipynb")]
    found = [f"{path.relative_to(ROOT)}:{n}" for path in files
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if bad.search(line)]
    assert not found, f"control characters (a backslash eaten by a non-raw string?) at {found}"
