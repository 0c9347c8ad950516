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
    assert not re.search(r"\bWARNING\b", built_book["log"]), f"the build warned:\n{tail}"


def test_every_chapter_is_rendered_with_outputs(built_book):
    html = built_book["html"]
    assert (html / "index.html").exists(), "no index.html in the built book"
    for entry in toc_files():
        page = html / f"{entry}.html"
        assert page.exists(), f"{entry} has no page in the built book"
        text = page.read_text(errors="replace")
        assert "Traceback (most recent call last)" not in text, f"{entry}.html shows a traceback"
    setup = (html / "book" / "00_setup.html").read_text()
    assert "_images/" in setup, "the set-up notebook's figure is missing: was it executed (with an inline matplotlib backend)?"
    assert "the training loop works on this machine" in setup, "the set-up notebook's check output is missing"
