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

from ..nets import build, describe, load_weights
from ..recipes import TrainConfig

__all__ = ["CHECKPOINT_FORMAT", "load_checkpoint", "restore", "describe_network", "rebuild_network"]

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


def load_checkpoint(source: str | os.PathLike | dict) -> dict:
    """Load a trainer checkpoint with ``torch.load(weights_only=True)`` and check its format.

    ``source`` is a file, or a checkpoint already in memory (a dict, as a shipped run holds one).
    """
    if isinstance(source, dict):
        state, path = source, "the checkpoint"
    else:
        path = Path(source)
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


def restore(trainer_class, path: str | os.PathLike | dict, *, generator: nn.Module | None = None,
            discriminator: nn.Module | None = None, data=None, **overrides):
    """The body of :meth:`Trainer.resume <gantutor.train.Trainer.resume>`: a trainer of ``trainer_class``
    rebuilt from the checkpoint at ``path``, with every state (weights, optimisers, EMA, data order,
    random streams, step count, history) as it was saved."""
    state = load_checkpoint(path)
    generator = generator if generator is not None else rebuild_network(state["generator"], "generator")
    if discriminator is None:
        discriminator = rebuild_network(state["discriminator"], "discriminator")
    load_weights(generator, state["generator"]["state"], f"checkpoint {path}")
    load_weights(discriminator, state["discriminator"]["state"], f"checkpoint {path}")
    if data is None:
        if state["data"] is None:
            raise ValueError(f"checkpoint {path} was trained on data that is not in the registry: pass data=")
        from ..data import load_domain

        described = dict(state["data"])
        data = load_domain(described.pop("domain"), verbose=False, **described)
    named_g, named_d = dict(generator.named_parameters()), dict(discriminator.named_parameters())
    settings = {k: overrides.pop(k) for k in list(overrides) if k in state["config"]}  # e.g. a new learning rate
    config = TrainConfig.from_dict(state["config"]).replace(**settings)
    overrides.setdefault("latent", state["latent"])
    trainer = trainer_class(generator, discriminator, data, config,
                  g_params=[named_g[n] for n in state["g_param_names"]],
                  d_params=[named_d[n] for n in state["d_param_names"]], **overrides)
    if state["opt_g"] is not None:  # None: a finished run shipped without its optimisers' moments
        trainer.opt_g.load_state_dict(state["opt_g"])
        trainer.opt_d.load_state_dict(state["opt_d"])
    if trainer.ema_generator is not None and state["ema"] is not None:
        trainer.ema_generator.load_state_dict(state["ema"])
    trainer.batches.load_state_dict(state["batches"])
    trainer.noise_generator.set_state(state["noise_rng"])
    torch.set_rng_state(state["torch_rng"])
    trainer.step_count = int(state["step"])
    trainer.history = {k: list(v) for k, v in state["history"].items()}
    return trainer
