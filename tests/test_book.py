"""The book builds with warnings treated as errors, from the notebooks executed in this run."""
from __future__ import annotations

import re

import pytest
import yaml

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.book


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_every_toc_entry_has_a_source():
    for entry in toc_files():
        sources = [ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb")]
        assert sum(s.exists() for s in sources) == 1, f"{entry}: expected exactly one of .md / .ipynb"


def test_book_builds_without_warnings(built_book):
    tail = "\n".join(built_book["log"].splitlines()[-40:])
    assert built_book["returncode"] == 0, f"jupyter-book build failed (full log in _build/test-book.log):\n{tail}"
    # Sphinx's warnings, not the kernel's own log lines ("[IPKernelApp] WARNING | ..." about its transport)
    warnings = [line for line in built_book["log"].splitlines()
                if re.search(r"\bWARNING\b", line) and not line.lstrip().startswith("[IPKernelApp]")]
    assert not warnings, "the build warned:\n" + "\n".join(warnings[:20])


def test_every_chapter_is_rendered_with_outputs(built_book):
    html = built_book["html"]
    assert (html / "index.html").exists(), "no index.html in the built book"
    for entry in toc_files():
        page = html / f"{entry}.html"
        assert page.exists(), f"{entry} has no page in the built book"
        text = page.read_text(errors="replace")
        assert "Traceback (most recent call last)" not in text, f"{entry}.html shows a traceback"
        assert "On Colab: install the book" not in text, f"{entry}.html shows the Colab install cell"
    setup = (html / "book" / "00_setup.html").read_text()
    assert re.search(r'<img[^>]+src="[^"]*_images/[^"]+\.png"', setup), (
        "the set-up notebook's figure is missing from its page: was it executed with an inline backend?")
    assert "the training loop works on this machine" in setup, "the set-up notebook's check output is missing"


# Cell tags with a meaning in this book (see _config.yml); anything else is a typo that would silently do nothing.
KNOWN_TAGS = {"parameters", "hide-input", "hide-output", "hide-cell", "remove-input", "remove-output",
              "remove-cell", "raises-exception", "skip-execution", "full-width", "margin"}


def toc_notebooks() -> list[Path]:
    return [ROOT / f"{entry}.ipynb" for entry in toc_files() if (ROOT / f"{entry}.ipynb").exists()]


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.name)
def test_notebook_conventions(notebook):
    """One parameters cell, known tags only, committed without outputs, a title in the first markdown cell."""
    import json

    cells = json.loads(notebook.read_text())["cells"]
    tags = [set(cell.get("metadata", {}).get("tags", [])) for cell in cells]
    unknown = set().union(*tags) - KNOWN_TAGS
    assert not unknown, f"{notebook.name}: unknown cell tags {sorted(unknown)} (known: {sorted(KNOWN_TAGS)})"
    assert sum("parameters" in t for t in tags) == 1, f"{notebook.name}: expected exactly one cell tagged `parameters`"
    with_outputs = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not with_outputs, f"{notebook.name}: commit notebooks without outputs (cells {with_outputs} have some)"
    markdown = [c for c in cells if c["cell_type"] == "markdown"]
    first = markdown[0]["source"] if markdown else ""
    first = first if isinstance(first, str) else "".join(first)
    assert first.lstrip().startswith("# "), f"{notebook.name}: the first markdown cell should start with the title (# ...)"
    if re.match(r"\d\d_", notebook.name):  # a chapter runs torch: one thread, as the tests run it (conftest.py)
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert "set_threads(" in code, (f"{notebook.name}: call gantutor.device.set_threads() in the import cell, as "
                                        "every chapter does: with torch's default threads a busy 2-core machine "
                                        "trains 4 to 40 times slower and `make book` gets other numbers than the tests")


def test_landing_page_shows_the_measured_times(built_book):
    """The chapter times on the landing page are read from benchmarks/results/book.json, never typed."""
    import importlib.util
    import json

    results = ROOT / "benchmarks" / "results" / "book.json"
    if not results.exists():
        pytest.skip("no benchmarks/results/book.json yet (python benchmarks/book.py writes it)")
    spec = importlib.util.spec_from_file_location("gantutor_book", ROOT / "book" / "_ext" / "gantutor_book.py")
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    landing = (built_book["html"] / f"{toc_files()[0]}.html").read_text()
    table = landing[landing.index("chapter-times"):]
    measured = json.loads(results.read_text()).get("chapters", {})
    for notebook, seconds in measured.items():
        if (ROOT / notebook).exists():
            assert f"<td><p>{extension.format_seconds(seconds)}</p></td>" in table, (
                f"the landing page should show {notebook}'s measured {extension.format_seconds(seconds)}")


def test_teaching_guide_names_every_exercise_check():
    """The guide and gantutor.exercises cannot drift apart: every check is taught, every named one exists."""
    import gantutor.exercises as exercises

    guide = (ROOT / "book" / "teaching_guide.md").read_text()
    named = set(re.findall(r"\bcheck_[a-z_]+\b", guide))
    available = {name for name in exercises.__all__ if name.startswith("check_")}
    assert named <= available, f"the teaching guide names checks that do not exist: {sorted(named - available)}"
    assert available <= named, f"checks missing from the teaching guide: {sorted(available - named)}"
