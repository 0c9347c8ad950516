"""The text and the library cannot drift apart: the networks and the training loop that the
chapters build in the open are executed here from the notebooks' own cells and compared with
``gantutor.nets`` and ``gantutor.train.Trainer`` (same outputs for the same seed and weights)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from gantutor.nets import Discriminator, Generator

BOOK = Path(__file__).resolve().parents[1] / "book"


def cells(notebook: str, tag: str) -> list[str]:
    """The source of the code cells of ``notebook`` tagged ``tag`` (in order)."""
    data = json.loads((BOOK / notebook).read_text())
    found = [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
             for c in data["cells"] if c["cell_type"] == "code" and tag in c.get("metadata", {}).get("tags", [])]
    assert found, f"{notebook} has no cell tagged {tag!r}"
    return found


def run_cells(notebook: str, tag: str, namespace: dict | None = None, **parameters) -> dict:
    """Execute the notebook's parameters cell, then its cells tagged ``tag``; return the namespace."""
    namespace = {"torch": torch, "nn": nn, "print": lambda *a, **k: None, **(namespace or {})}
    exec(cells(notebook, "parameters")[0], namespace)
    namespace.update(parameters)
    for source in cells(notebook, tag):
        exec(source, namespace)
    return namespace


@pytest.mark.parametrize("latent_dim,base_width,channels", [(64, 64, 1), (16, 8, 3)])
def test_chapter3_generator_equals_library(latent_dim, base_width, channels):
    torch.manual_seed(0)
    ns = run_cells("03_generator.ipynb", "build-generator",
                   LATENT_DIM=latent_dim, BASE_WIDTH=base_width, CHANNELS=channels)
    built = ns["generator"]
    library = Generator(latent_dim=latent_dim, channels=channels, base_width=base_width, image_size=28)
    library.blocks.load_state_dict(built.state_dict())
    z = torch.randn(5, latent_dim)
    for mode in ("train", "eval"):
        getattr(built, mode)(), getattr(library, mode)()
        with torch.no_grad():
            assert torch.equal(built(z[:, :, None, None]), library(z)), f"outputs differ in {mode} mode"
    # Same seed, same construction order: the very same initial weights without copying.
    torch.manual_seed(1)
    fresh = run_cells("03_generator.ipynb", "build-generator",
                      LATENT_DIM=latent_dim, BASE_WIDTH=base_width, CHANNELS=channels)["generator"]
    torch.manual_seed(1)
    library = Generator(latent_dim=latent_dim, channels=channels, base_width=base_width, image_size=28)
    # (parameters only: the notebook's shape probes have already updated BatchNorm's running statistics)
    for (name, a), b in zip(fresh.named_parameters(), library.blocks.parameters()):
        assert torch.equal(a, b), f"{name} differs between the notebook's generator and the library's"


@pytest.mark.parametrize("base_width,channels", [(64, 1), (8, 3)])
def test_chapter4_discriminator_equals_library(base_width, channels):
    from gantutor.nets import dcgan_init

    torch.manual_seed(0)
    ns = run_cells("04_discriminator.ipynb", "build-discriminator", {"dcgan_init": dcgan_init,
                   "count_parameters": lambda net: 0}, BASE_WIDTH=base_width, CHANNELS=channels)
    built = ns["discriminator"]
    library = Discriminator(channels=channels, base_width=base_width, image_size=28)
    library.blocks.load_state_dict(ns["blocks"].state_dict())
    library.head.load_state_dict(ns["head"].state_dict())
    x = torch.rand(6, channels, 28, 28) * 2 - 1
    for mode in ("train", "eval"):
        getattr(built, mode)(), getattr(library, mode)()
        with torch.no_grad():
            assert torch.equal(built(x), library(x)), f"logits differ in {mode} mode"
    torch.manual_seed(1)
    fresh = run_cells("04_discriminator.ipynb", "build-discriminator", {"dcgan_init": dcgan_init,
                      "count_parameters": lambda net: 0}, BASE_WIDTH=base_width, CHANNELS=channels)["discriminator"]
    torch.manual_seed(1)
    library = Discriminator(channels=channels, base_width=base_width, image_size=28)
    ours = list(fresh.parameters())  # parameters only: the shape probes moved BatchNorm's running statistics
    theirs = list(library.blocks.parameters()) + list(library.head.parameters())
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b), "the notebook's discriminator and the library's start from different weights"
