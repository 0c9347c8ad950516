"""The chapters' switch `LOAD_SHIPPED = True`: the shipped runs of the same recipes pass the same checks,
with both cores kept busy by other processes (see tests/test_busy_machine.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def parameter_cell(notebook: dict) -> dict:
    cells = [c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "a chapter has exactly one parameter cell"
    return cells[0]


def with_parameter(path: Path, name: str, value: str) -> dict:
    """The notebook with ``NAME = ...`` in its parameter cell set to ``value`` (as a reader would edit it)."""
    notebook = json.loads(path.read_text())
    cell = parameter_cell(notebook)
    lines = "".join(cell["source"]).split("\n")
    hits = [i for i, line in enumerate(lines) if line.startswith(f"{name} = ")]
    assert len(hits) == 1, f"{path.name}'s parameter cell should set {name} once"
    comment = lines[hits[0]].split("#", 1)[1] if "#" in lines[hits[0]] else ""
    lines[hits[0]] = f"{name} = {value}" + (f"  #{comment}" if comment else "")
    cell["source"] = "\n".join(lines)
    return notebook


@pytest.mark.slow
@pytest.mark.parametrize("chapter, assets", [("05_training.ipynb", ["chapter-5-run", "chapter-5-cgan-run"])])
def test_a_chapter_with_its_shipped_runs_passes_every_check(chapter, assets, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    from gantutor.pretrained import load
    from test_busy_machine import busy_cores

    for name in assets:  # what the switch loads: the recipe's own run, verified by sha256
        trainer = load(name)
        assert trainer.step_count > 0 and trainer.history["step"][-1] == trainer.step_count
    notebook = nbformat.reads(json.dumps(with_parameter(ROOT / "book" / chapter, "LOAD_SHIPPED", "True")), as_version=4)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # the kernel draws inline
    client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "book")}})
    with busy_cores():  # and on a busy machine: everything but the two long runs executes under load
        client.execute()  # raises CellExecutionError, naming the cell, if any check fails
    printed = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for out in cell.get("outputs", []))
    assert "a shipped run was loaded" in printed and "on the machine that trained the shipped run" in printed
    assert "conditional GAN after" in printed, "the chapter ran to its conditional GAN's checks"
