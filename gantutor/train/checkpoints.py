"""Reading a trainer checkpoint: the file format, and the networks it describes.

:meth:`Trainer.save <gantutor.train.Trainer.save>` writes a checkpoint atomically with
``torch.save``; this module reads it back with ``torch.load(..., weights_only=True)`` (no code
in a checkpoint ever runs) and checks that it is one.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..nets import build, describe

__all__ = ["CHECKPOINT_FORMAT", "load_checkpoint", "describe_network", "rebuild_network"]

CHECKPOINT_FORMAT = "gantutor.trainer/2"


def describe_network(net: nn.Module) -> dict:
    """The network's class and constructor arguments, or ``config: None`` for a network not of gantutor's."""
    try:
        return describe(net)
    except TypeError:
        return {"class": type(net).__name__, "config": None}


def rebuild_network(description: dict, role: str) -> nn.Module:
    """A fresh network as the checkpoint describes it (``role``: generator or discriminator, for the message)."""
    if description.get("config") is None:
        raise ValueError(f"the checkpoint's {role} ({description['class']}) is not one of gantutor's "
                         f"networks: build it yourself and pass {role}= to Trainer.resume")
    return build(description)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Load a trainer checkpoint with ``torch.load(weights_only=True)`` and check its format."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else None
        if isinstance(found, str) and found.startswith("gantutor.trainer/"):
            raise ValueError(f"{path} is a checkpoint of an older gantutor ({found}, this one reads "
                             f"{CHECKPOINT_FORMAT}): train it again with this version")
        raise ValueError(f"{path} is not a gantutor trainer checkpoint (format {CHECKPOINT_FORMAT!r})")
    return state
