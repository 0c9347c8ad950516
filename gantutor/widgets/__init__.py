"""Live widgets for the book (ipywidgets + matplotlib only; ipywidgets 7.7 and 8.x alike).

- :class:`ToyGANLab` -- GAN Lab in the notebook: a toy GAN on 2-D data with every knob (chapter 2)
- :class:`TrainingDashboard` -- live curves and fixed-noise samples while ``Trainer.fit`` runs (chapter 5)
- :class:`LatentExplorer` -- pick a class, move z along two directions or between two points, see G's output (chapter 5)
- :class:`TransferLab` -- pick a target domain, a number of images and a strategy; watch the adaptation (chapter 7)
- :class:`TranslationLab` -- pick a source image, see each translator's output and a classifier's verdict (chapter 8)

Each widget keeps its logic in plain methods that tests call directly, without a browser.
Widgets are imported lazily: ``from gantutor.widgets import ToyGANLab``.
"""
from __future__ import annotations

import importlib

_WHERE = {
    "ToyGANLab": "toy_lab",
    "TrainingDashboard": "dashboard",
    "LatentExplorer": "latent_explorer",
    "TransferLab": "transfer_lab",
    "TranslationLab": "translation_lab",
}

__all__ = list(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"gantutor.widgets.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'gantutor.widgets' has no attribute {name!r}")
