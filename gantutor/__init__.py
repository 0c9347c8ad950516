"""gantutor: the small PyTorch library behind the book *GANs and transfer, executed*.

One module per idea (see the API reference in the book), from the bottom of the import
graph to the top; a module imports only from the lines above it:

- :mod:`gantutor.device`      -- pick a device, seed everything, detect Colab
- :mod:`gantutor.storage`     -- files written atomically (checkpoints, weights, results)
- :mod:`gantutor.checks`      -- one check of image tensors (shape, dtype, finite, [-1, 1]) and of whole numbers
- :mod:`gantutor.losses`      -- GAN losses by name
- :mod:`gantutor.theory`      -- chapter 1's 1-D quantities: optimal discriminator, JSD, value function
- :mod:`gantutor.latent`      -- latent priors: N(0, I) and a mixture of islands
- :mod:`gantutor.data`        -- the domain registry (real image domains, toy distributions)
- :mod:`gantutor.nets`        -- toy MLPs, the size-generic DCGAN, coupled nets, the feature network, weight init
- :mod:`gantutor.recipes`     -- every recipe the book trains: networks, training settings, steps
- :mod:`gantutor.batches`     -- where the real batches come from
- :mod:`gantutor.distributed` -- what only a multi-process run needs, behind one seam of the Trainer
- :mod:`gantutor.pretrained`  -- shipped weights: load by name, verified by sha256
- :mod:`gantutor.train`       -- the one training loop of the whole book, its callbacks and checkpoints
- :mod:`gantutor.viz`         -- grids, curves, animations, toy and transfer plots
- :mod:`gantutor.results`     -- the benchmarks' harness, and their results as tables
- :mod:`gantutor.metrics`     -- the feature network's distances: FD, KID, precision/recall, modes
- :mod:`gantutor.transfer`    -- adapting a trained GAN to a new domain
- :mod:`gantutor.coupled`     -- coupled GANs: corresponding images in two domains, and how to measure it
- :mod:`gantutor.translation` -- translating between domains: DTN and CycleGAN
- :mod:`gantutor.cli`         -- ``python -m gantutor.train`` (also ``python -m gantutor``)
- :mod:`gantutor.widgets`     -- ToyGANLab, TrainingDashboard, TransferLab, TranslationLab
- :mod:`gantutor.exercises`   -- check functions for the exercises

``python -m gantutor.pretrained rebuild NAME`` (:mod:`gantutor.pretrained.rebuild`) trains a
shipped file again. Modules are imported lazily so that ``import gantutor`` stays fast.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = [
    "device", "storage", "checks", "losses", "theory", "latent", "data", "nets", "recipes", "batches", "distributed",
    "pretrained", "train", "viz", "results", "metrics", "transfer", "coupled", "translation", "cli", "widgets",
    "exercises",
]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"gantutor.{name}")
    raise AttributeError(f"module 'gantutor' has no attribute {name!r}")
