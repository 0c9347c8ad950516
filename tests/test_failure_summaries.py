"""A chapter that fails says where, in plain words, at the end of `make book` and `make test`;
a failed book build never reports success on a rerun, and leaves no page to open by mistake."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

REPORT = """Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/jupyter_cache/executors/utils.py", line 58, in single_nb_execution
    executenb(
nbclient.exceptions.CellExecutionError: An error occurred while executing the following cell:
------------------
# the chapter's check
assert loss < 1.2, f"the loss should fall below 1.2, it is {loss:.2f}"
------------------


\x1b[0;31m---------------------------------------------------------------------------\x1b[0m
\x1b[0;31mAssertionError\x1b[0m                            Traceback (most recent call last)
Cell \x1b[0;32mIn[12], line 2\x1b[0m
\x1b[0;31mAssertionError\x1b[0m: the loss should fall below 1.2, it is 1.53
"""


def build_book():
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "book" / "_ext" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def failing_notebook(path: Path, marker: Path) -> None:
    import nbformat

    cells = [nbformat.v4.new_markdown_cell("# A chapter"), nbformat.v4.new_code_cell("x = 1"),
             nbformat.v4.new_markdown_cell("The check:"),
             nbformat.v4.new_code_cell(f"import os\n# the check\nassert not os.path.exists({str(marker)!r}), "
                                       "'the marker file says fail'")]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))


def test_a_build_report_is_summarised_as_notebook_cell_and_error():
    found = build_book().summarise_report(REPORT)
    assert found == {"code_cell": 12, "starts": 'assert loss < 1.2, f"the loss should fall below 1.2, it is {loss:.2f}"',
                     "error": "AssertionError: the loss should fall below 1.2, it is 1.53"}


def test_the_summary_lists_each_failed_notebook(tmp_path):
    reports = tmp_path / "reports"
    (reports / "book").mkdir(parents=True)
    (reports / "book" / "05_training.err.log").write_text(REPORT)
    lines = build_book().failure_summary("WARNING: something else broke\n", reports)
    text = "\n".join(lines)
    assert "The book did NOT build." in text
    assert "book/05_training.ipynb: code cell 12, which starts `assert loss < 1.2" in text
    assert "AssertionError: the loss should fall below 1.2, it is 1.53" in text
    assert "WARNING: something else broke" in text
    assert lines[-1].startswith("Fix it and run `make book` again")


@pytest.mark.slow
def test_a_failed_chapter_fails_every_rebuild_until_it_is_fixed(tmp_path):
    """The rerun that used to print "The book is built" in seconds, with the traceback on the page."""
    (tmp_path / "book").mkdir()
    (tmp_path / "_config.yml").write_text("title: probe\nexecute:\n  execute_notebooks: cache\n  allow_errors: false\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/chapter\n")
    (tmp_path / "book" / "intro.md").write_text("# Probe\n\nA one-chapter book.\n")
    marker = tmp_path / "FAIL"
    marker.touch()
    failing_notebook(tmp_path / "book" / "chapter.ipynb", marker)

    def make_book():
        run = subprocess.run([sys.executable, str(ROOT / "book" / "_ext" / "build_book.py"), str(tmp_path)],
                             capture_output=True, text=True, timeout=900, cwd=tmp_path)
        return run.returncode, (run.stdout + run.stderr).strip().splitlines()

    for attempt in ("first build", "second build, nothing changed"):
        code, lines = make_book()
        assert code != 0, f"{attempt}: the build should fail"
        tail = "\n".join(lines[-8:])
        assert "book/chapter.ipynb: code cell 2, which starts `import os`" in tail, tail
        assert "AssertionError: the marker file says fail" in tail, tail
        assert not (tmp_path / "_build" / "html").exists(), f"{attempt}: a failed build left _build/html to open"
    marker.unlink()
    code, lines = make_book()
    assert code == 0 and lines[-1].startswith("The book is built"), "\n".join(lines[-20:])
    page = (tmp_path / "_build" / "html" / "book" / "chapter.html").read_text()
    assert "Traceback (most recent call last)" not in page and "AssertionError" not in page


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2", "--dist", "loadfile", "--no-loadscope-reorder"]],
                         ids=["one process", "two workers, as make test runs"])
def test_pytest_ends_with_the_failed_notebook_cell(workers):
    """`make test` (pytest with nbval): the last lines name the notebook, the cell and the error,
    also when the cell failed in a worker of a parallel run."""
    folder = ROOT / "_build" / f"probe-{uuid.uuid4().hex[:8]}"
    marker = folder / "FAIL"
    try:
        failing_notebook(folder / "failing.ipynb", marker)
        failing_notebook(folder / "passing.ipynb", folder / "NEVER")  # gives the second worker a notebook
        marker.touch()
        run = subprocess.run([sys.executable, "-m", "pytest", str(folder / "failing.ipynb"), str(folder / "passing.ipynb"),
                              "-p", "no:cacheprovider", *workers],
                             capture_output=True, text=True, timeout=600, cwd=ROOT)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = run.stdout.strip().splitlines()
    assert run.returncode == 1, run.stdout[-2000:]
    tail = "\n".join(lines[-5:])
    assert "notebook cells that failed" in tail, tail
    assert f"{folder.relative_to(ROOT)}/failing.ipynb: code cell 2 of 2 (cell 4 of 4 in the notebook, nbval's Cell 1; it starts `import os`)" \
        in tail, tail
    assert "    AssertionError: the marker file says fail" in tail, tail
