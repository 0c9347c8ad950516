"""A busy machine only takes longer: no number the book prints depends on the wall clock.

Two other processes keep both cores busy while (a) chapter 5's recipes train and give bit for bit
the losses and weights they give on a quiet machine: a fixed number of steps from a fixed seed, so
a check that passes on a quiet machine passes on a busy one; and (b) the training chapter runs top
to bottom and passes its checks. In (b) the chapter's two long runs come from its switch
``LOAD_SHIPPED = True`` (the same recipes, trained once); everything else in it (the hand-written
loop, the broken loop, the evaluations, the latent walks) runs under load.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def _spin() -> None:
    while True:
        pass


@contextlib.contextmanager
def busy_cores(count: int = 2):
    """``count`` processes that keep a core each busy until the block ends."""
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_spin, daemon=True) for _ in range(count)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        for worker in workers:
            worker.terminate()
            worker.join()


def _train(name: str, steps: int) -> tuple[dict, list[torch.Tensor]]:
    from gantutor.data import load_domain
    from gantutor.recipes import recipe
    from gantutor.train import Trainer

    trainer = Trainer.from_recipe(recipe(name), load_domain("mnist", limit=512, verbose=False), device="cpu")
    trainer.fit(steps, progress=False)
    history = {k: v for k, v in trainer.history.items() if k != "time"}
    return history, [p.detach().clone() for p in trainer.generator.parameters()]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["chapter-5", "chapter-5-cgan"])
def test_the_recipes_give_the_same_numbers_on_a_busy_machine(name):
    threads = torch.get_num_threads()
    quiet_history, quiet_weights = _train(name, 60)
    with busy_cores():
        busy_history, busy_weights = _train(name, 60)
    assert torch.get_num_threads() == threads
    assert busy_history == quiet_history, "the losses and D's outputs must not depend on the machine's load"
    assert all(torch.equal(a, b) for a, b in zip(quiet_weights, busy_weights)), "the weights must be the same"


@pytest.mark.slow
def test_the_training_chapter_passes_on_a_busy_machine(monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    from test_shipped_runs import with_parameter

    notebook = nbformat.reads(json.dumps(with_parameter(ROOT / "book" / "05_training.ipynb", "LOAD_SHIPPED", "True")),
                              as_version=4)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(notebook, timeout=3600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "book")}})
    with busy_cores():
        client.execute()  # raises CellExecutionError, naming the cell, if any check fails under load
    printed = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for out in cell.get("outputs", []))
    assert "conditional GAN after" in printed, "the chapter ran to its conditional GAN's checks"
