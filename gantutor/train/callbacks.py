"""What the Trainer calls while it trains: snapshots for animations, checkpoints, your own hooks.

A callback is a :class:`Callback` with any of three hooks, or a plain function of the
trainer, called after every step. :class:`gantutor.widgets.dashboard.TrainingDashboard` is one too.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import torch

__all__ = ["Callback", "Snapshots", "Checkpoint", "as_callback"]


class Callback:
    """Hooks the trainer calls; override any of them. A plain function ``f(trainer)`` also
    works as a callback and is called after every step."""

    def on_fit_start(self, trainer) -> None:
        pass

    def on_step_end(self, trainer) -> None:
        pass

    def on_fit_end(self, trainer) -> None:
        pass


class Snapshots(Callback):
    """Keep ``G(z_fixed)`` every ``every`` steps in ``self.frames`` as ``(step, images)`` pairs.

    The same latent vectors every time, so that the frames replay training as an
    animation (:func:`gantutor.viz.animate`).
    """

    def __init__(self, every: int = 100, num: int = 64) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.every, self.num = every, num
        self.frames: list[tuple[int, torch.Tensor]] = []

    def on_fit_start(self, trainer) -> None:
        if not self.frames:
            self.frames.append((trainer.step_count, trainer.sample(z=trainer.fixed_noise(self.num))))

    def on_step_end(self, trainer) -> None:
        if trainer.step_count % self.every == 0:
            self.frames.append((trainer.step_count, trainer.sample(z=trainer.fixed_noise(self.num))))


class Checkpoint(Callback):
    """Save the trainer to ``path`` every ``every`` steps and at the end of ``fit`` (atomically)."""

    def __init__(self, path: str | os.PathLike, every: int = 500) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.path, self.every = Path(path), every

    def on_step_end(self, trainer) -> None:
        if trainer.step_count % self.every == 0:
            trainer.save(self.path)

    def on_fit_end(self, trainer) -> None:
        trainer.save(self.path)


class _FunctionCallback(Callback):
    def __init__(self, function: Callable[[object], None]) -> None:
        self.function = function

    def on_step_end(self, trainer) -> None:
        self.function(trainer)


def as_callback(callback) -> Callback:
    """``callback`` as a :class:`Callback` (a plain function becomes one called after every step)."""
    if isinstance(callback, Callback):
        return callback
    if callable(callback):
        return _FunctionCallback(callback)
    raise TypeError(f"a callback must be a Callback or a function of the trainer, got {type(callback).__name__}")
