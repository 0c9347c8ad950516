"""gantutor: the small PyTorch library behind the book *GANs and transfer, executed*.

One module per idea (see the API reference in the book):

- :mod:`gantutor.device`     -- pick a device, seed everything, detect Colab
- :mod:`gantutor.data`       -- the domain registry (real image domains, toy distributions)
- :mod:`gantutor.nets`       -- toy MLPs, the size-generic DCGAN, weight init
- :mod:`gantutor.losses`     -- GAN losses by name
- :mod:`gantutor.latent`     -- latent priors: N(0, I) and a Gaussian mixture
- :mod:`gantutor.train`      -- the one training loop of the whole book
- :mod:`gantutor.viz`        -- grids, curves, animations

Modules are imported lazily so that ``import gantutor`` stays fast.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = [
    "device", "data", "nets", "losses", "latent", "theory", "train", "metrics", "transfer",
    "pretrained", "viz", "widgets", "exercises",
]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"gantutor.{name}")
    raise AttributeError(f"module 'gantutor' has no attribute {name!r}")
