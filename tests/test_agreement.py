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
    """The source of the code cells of ``notebook`` marked ``tag`` (in order): the ``parameters``
    cell by its tag, the others by ``metadata["agreement"]`` (a plain key, not a cell tag, so that
    the book's tag conventions stay untouched)."""
    data = json.loads((BOOK / notebook).read_text())
    found = [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
             for c in data["cells"] if c["cell_type"] == "code" and (tag in c.get("metadata", {}).get("tags", [])
                                               or c.get("metadata", {}).get("agreement") == tag)]
    assert found, f"{notebook} has no cell marked {tag!r}"
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


def test_chapter5_open_loop_equals_trainer():
    """The hand-written ``train_step`` of chapter 5 and ``Trainer.step`` make the same updates."""
    import torch.nn.functional as F

    from gantutor.batches import TensorBatches
    from gantutor.train import Trainer

    ns = run_cells("05_training.ipynb", "open-loop", {"F": F})
    train_step = ns["train_step"]
    torch.manual_seed(0)
    data = torch.rand(40, 1, 28, 28) * 2 - 1
    generator, discriminator = Generator(latent_dim=16, base_width=8), Discriminator(base_width=8)
    open_g, open_d = copy.deepcopy(generator), copy.deepcopy(discriminator)
    trainer = Trainer(generator, discriminator, data, batch_size=16, lr_g=3e-4, lr_d=1e-4, betas=(0.5, 0.99),
                      device="cpu", seed=3)
    opt_g = torch.optim.Adam(open_g.parameters(), lr=3e-4, betas=(0.5, 0.99))
    opt_d = torch.optim.Adam(open_d.parameters(), lr=1e-4, betas=(0.5, 0.99))
    batches = TensorBatches(data, 16, seed=3, device=torch.device("cpu"))  # the trainer's data order
    noise = torch.Generator().manual_seed(3 + 1)  # the trainer's noise stream
    for step in range(6):
        real, z = batches.next(), torch.randn(16, 16, generator=noise)
        ours = train_step(open_g, open_d, opt_g, opt_d, real, z)
        theirs = trainer.step()
        for key in ("d_loss", "g_loss", "d_real", "d_fake"):
            assert abs(ours[key] - theirs[key]) < 1e-5, f"step {step + 1}: {key} {ours[key]} vs {theirs[key]}"
        for (name, a), b in zip(list(open_g.named_parameters()) + list(open_d.named_parameters()),
                                list(trainer.generator.parameters()) + list(trainer.discriminator.parameters())):
            assert torch.allclose(a, b, rtol=1e-4, atol=1e-6), f"step {step + 1}: {name} differs by {(a - b).abs().max():.2e}"
    for a, b in zip(open_g.buffers(), trainer.generator.buffers()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6), "BatchNorm statistics differ"
