"""A busy machine only takes longer: no number the book prints depends on the wall clock.

Two other processes keep both cores busy while (a) chapter 5's recipes train and give bit for bit
the losses and weights they give on a quiet machine: a fixed number of steps from a fixed seed, so
a check that passes on a quiet machine passes on a busy one; and (b) the training chapter runs top
to bottom under load and passes its checks (tests/test_shipped_runs.py, with ``busy_cores``): its two
long runs come from its switch ``LOAD_SHIPPED = True`` (the same recipes, trained once); everything
else in it (the hand-written loop, the broken loop, the evaluations, the latent walks) runs under load.
"""
from __future__ import annotations

import contextlib
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
