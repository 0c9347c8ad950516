r"""Transfer: adapt a GAN trained on a source domain to a target domain with few images.

A strategy only decides **which parameters move and how fast**; the training itself is
the book's one loop, :class:`gantutor.train.Trainer`, fed the target images.

- ``scratch``: a fresh G and D of the same architecture, with DiffAugment on D's inputs
  (the data-efficient baseline, Zhao et al. 2020);
- ``finetune``: every parameter of the source G and D (Wang et al. 2018);
- ``freeze_d``: all of G; D without its first ``freeze_blocks`` blocks (FreezeD, Mo et al. 2020);
- ``affine``: only G's BatchNorm scales and shifts, plus D's last block and head
  (batch statistics adaptation, Noguchi & Harada 2019).

Each strategy has its own learning rates (:data:`DEFAULT_LR`), tuned on one pair: an
affine-only update barely moves at the rate that suits full fine-tuning, and scratch is
only a fair baseline at its own best rate.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_images
from .nets import build, describe
from .train import Callback, Trainer

__all__ = ["STRATEGIES", "DEFAULT_LR", "adapt", "trainable_parameters", "strategy_map", "diffaugment",
           "AdaptResult", "Evaluator", "check_compatible"]

STRATEGIES = ("scratch", "finetune", "freeze_d", "affine")

#: (lr_g, lr_d) per strategy, chosen on mnist -> mnist-edges with 100 images (400 steps, batch 32,
#: seed 0, FD on 500 held-out images) and kept for every other pair. Final FD of the tried rates:
#: scratch 2e-4: 596, 5e-4: 341, 1e-3: 302; finetune 2e-4: 353, 5e-4: 308, 1e-3: 319;
#: freeze_d 5e-4: 273; affine (G, D) 2e-3/2e-4: 1301, 5e-3/5e-4: 1043, 1e-2/2e-4: 2659 (unstable).
DEFAULT_LR = {
    "scratch": (1e-3, 1e-3),
    "finetune": (5e-4, 5e-4),
    "freeze_d": (5e-4, 5e-4),
    "affine": (5e-3, 5e-4),
}


# --------------------------------------------------------------------------- DiffAugment

def diffaugment(images: torch.Tensor, generator: torch.Generator | None = None,
                translation: float = 0.125, cutout: float = 0.5) -> torch.Tensor:
    """DiffAugment (Zhao et al., 2020): random translation and cutout, differentiable in ``images``.

    Applied to real and fake batches alike before D, so D never sees un-augmented images
    and G is not taught to produce the augmentations. ``translation`` is the largest shift
    as a fraction of the side; ``cutout`` the side of the erased square as a fraction.
    """
    n, _, h, w = images.shape
    device = images.device
    # translation: shift by up to translation*side pixels, filling with the background (-1)
    max_shift = int(h * translation + 0.5)
    if max_shift > 0:
        shift = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator).to(device)
        rows = (torch.arange(h, device=device)[None, :] - shift[:, :1]).clamp(-1, h)  # (n, h)
        cols = (torch.arange(w, device=device)[None, :] - shift[:, 1:]).clamp(-1, w)
        padded = F.pad(images, (1, 1, 1, 1), value=-1.0)
        images = padded[torch.arange(n, device=device)[:, None, None], :, (rows + 1)[:, :, None], (cols + 1)[:, None, :]]
        images = images.permute(0, 3, 1, 2)
    # cutout: erase one square per image
    size = int(h * cutout + 0.5)
    if size > 0:
        centre = torch.randint(0, h, (n, 2), generator=generator).to(device)
        ys = torch.arange(h, device=device)[None, :, None]
        xs = torch.arange(w, device=device)[None, None, :]
        inside = ((ys - centre[:, :1, None]).abs() < size / 2) & ((xs - centre[:, 1:, None]).abs() < size / 2)
        images = torch.where(inside[:, None], torch.full_like(images, -1.0), images)
    return images


# --------------------------------------------------------------------------- strategies

def check_compatible(generator: nn.Module, target) -> None:
    """Fail clearly when the target's images do not have the source generator's shape."""
    config = getattr(generator, "config", {})
    expected = (config.get("channels", 1), config.get("image_size", 28), config.get("image_size", 28))
    images = getattr(target, "images", target)
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = f" (got shape {tuple(images.shape)})" if isinstance(images, torch.Tensor) else ""
        raise TypeError("the target must be an image domain from load_domain() or an (N, C, H, W) tensor" + shape)
    if tuple(images.shape[1:]) != expected:
        name = f"the target domain {target.name!r}" if isinstance(getattr(target, "name", None), str) else "the target"
        raise ValueError(
            f"{name} has images of shape {tuple(images.shape[1:])} but the source generator makes {expected}: "
            "transfer keeps the architecture, so the target must match it. Resize the target to "
            f"{expected[1]}x{expected[2]} and use {expected[0]} channel(s) (e.g. convert colour to grey), "
            "or train from scratch with networks built for the target"
        )


def trainable_parameters(generator: nn.Module, discriminator: nn.Module, strategy: str,
                         freeze_blocks: int = 1) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """The parameters of G and D that ``strategy`` trains (see the table in the module docstring)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; known strategies: {', '.join(STRATEGIES)}")
    g_all, d_all = list(generator.parameters()), list(discriminator.parameters())
    if strategy in ("scratch", "finetune"):
        return g_all, d_all
    if strategy == "freeze_d":
        blocks = discriminator.blocks
        if not 0 <= freeze_blocks <= len(blocks):
            raise ValueError(f"freeze_blocks must be between 0 and {len(blocks)} for this discriminator, got {freeze_blocks}")
        frozen = {id(p) for block in blocks[:freeze_blocks] for p in block.parameters()}
        return g_all, [p for p in d_all if id(p) not in frozen]
    # affine: G's BatchNorm scale/shift (batch statistics adaptation), D's last block and head
    g_affine = [p for m in generator.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()]
    if not g_affine:
        raise ValueError("the 'affine' strategy needs a generator with BatchNorm layers")
    d_top = list(discriminator.blocks[-1].parameters()) + list(discriminator.head.parameters())
    return g_affine, d_top


def strategy_map(generator: nn.Module, discriminator: nn.Module,
                 strategies=STRATEGIES) -> dict[str, tuple[list[nn.Parameter], list[nn.Parameter]]]:
    """``{strategy: (g_params, d_params)}``: what each strategy trains (for :func:`gantutor.viz.plot_strategy_map`)."""
    return {s: trainable_parameters(generator, discriminator, s) for s in strategies}


class Evaluator(Callback):
    """Every ``every`` steps, FD and KID of ``n`` samples against held-out target images.

    The real features are computed once; samples come from the trainer's fixed noise, so
    the curve measures the generator, not the luck of the draw.
    """

    def __init__(self, reference: torch.Tensor, every: int = 100, n: int = 500, kid_subsets: int = 10) -> None:
        from . import metrics

        self.metrics, self.every, self.n, self.kid_subsets = metrics, every, n, kid_subsets
        self.reference = reference[:n]
        self.real_features = metrics.features(self.reference)
        self.records: dict[str, list[float]] = {"step": [], "fd": [], "kid": [], "kid_std": []}

    def measure(self, trainer: Trainer) -> None:
        fake = trainer.sample(z=trainer.fixed_noise(len(self.reference)))
        fake_features = self.metrics.features(fake)
        fd = self.metrics.frechet_distance(self.real_features, fake_features)
        subset = min(100, len(fake_features))
        kid, kid_std = self.metrics.kernel_distance(self.real_features, fake_features,
                                                    subsets=self.kid_subsets, subset_size=subset)
        for key, value in (("step", trainer.step_count), ("fd", fd), ("kid", kid), ("kid_std", kid_std)):
            self.records[key].append(float(value))

    def on_fit_start(self, trainer: Trainer) -> None:
        if not self.records["step"] or self.records["step"][-1] != trainer.step_count:
            self.measure(trainer)

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step_count % self.every == 0:
            self.measure(trainer)

    def on_fit_end(self, trainer: Trainer) -> None:
        if self.records["step"][-1] != trainer.step_count:
            self.measure(trainer)


@dataclass
class AdaptResult:
    """What :func:`adapt` returns: the adapted networks, the trainer and the measurements."""

    generator: nn.Module
    discriminator: nn.Module
    trainer: Trainer
    strategy: str
    evaluation: dict[str, list[float]] = field(default_factory=dict)

    @property
    def final_fd(self) -> float:
        return self.evaluation["fd"][-1]


def adapt(generator: nn.Module, discriminator: nn.Module, target, strategy: str, steps: int, *,
          held_out=None, lr: tuple[float, float] | None = None, batch_size: int = 64,
          freeze_blocks: int = 1, augment: bool | Callable | None = None, ema_decay: float | None = 0.99,
          eval_every: int | None = 100, eval_n: int = 500, seed: int = 0, device=None,
          callbacks: Iterable = (), progress: bool = False) -> AdaptResult:
    """Adapt a source GAN to ``target`` with ``strategy`` for ``steps`` steps of the shared Trainer.

    Args:
        generator, discriminator: the source GAN (not modified: the strategy trains copies).
        target: the few target images: an image domain (e.g. ``load_domain("mnist-edges", limit=100)``)
            or an ``(N, C, H, W)`` tensor in ``[-1, 1]``.
        strategy: one of :data:`STRATEGIES`.
        steps: training steps (the same budget for every strategy makes a fair comparison).
        held_out: held-out target images for FD/KID (never the training images); ``None``: no evaluation.
        lr: ``(lr_g, lr_d)``; default :data:`DEFAULT_LR` of the strategy.
        freeze_blocks: for ``freeze_d``, how many of D's first blocks stay frozen.
        augment: DiffAugment on D's inputs; ``None`` means on for ``scratch`` only.
        ema_decay: moving average of G's weights used for samples and evaluation.
        eval_every, eval_n: evaluate every so many steps on ``eval_n`` held-out images.
        seed: seeds the fresh networks (``scratch``), the data order and the noise.

    Returns:
        an :class:`AdaptResult` with the adapted G and D and ``evaluation`` (step, fd, kid, kid_std).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; known strategies: {', '.join(STRATEGIES)}")
    check_compatible(generator, target)
    channels, size = generator.config.get("channels", 1), generator.config.get("image_size", 28)
    check_images(getattr(target, "images", target), "the target images")
    if held_out is not None and eval_every:
        check_images(getattr(held_out, "images", held_out), "held_out", channels=channels, size=size, min_count=2,
                     reason="FD and KID fit a covariance; pass more held-out images, or held_out=None")
    if strategy == "scratch":
        torch.manual_seed(seed)
        generator, discriminator = build(describe(generator)), build(describe(discriminator))
    else:
        generator, discriminator = copy.deepcopy(generator), copy.deepcopy(discriminator)
    generator.requires_grad_(True)
    discriminator.requires_grad_(True)
    g_params, d_params = trainable_parameters(generator, discriminator, strategy, freeze_blocks)
    chosen = {id(p) for p in g_params + d_params}
    for p in list(generator.parameters()) + list(discriminator.parameters()):
        p.requires_grad_(id(p) in chosen)
    if augment is None:
        augment = strategy == "scratch"
    augment_fn = diffaugment if augment is True else (augment or None)
    lr_g, lr_d = lr if lr is not None else DEFAULT_LR[strategy]
    evaluator = None
    extra = list(callbacks)
    if held_out is not None and eval_every:
        reference = getattr(held_out, "images", held_out)
        evaluator = Evaluator(reference, every=eval_every, n=eval_n)
        extra.insert(0, evaluator)
    trainer = Trainer(generator, discriminator, target, batch_size=batch_size, lr_g=lr_g, lr_d=lr_d,
                      g_params=g_params, d_params=d_params, augment=augment_fn, ema_decay=ema_decay,
                      device=device, seed=seed, callbacks=extra)
    trainer.fit(steps, progress=progress)
    return AdaptResult(trainer.ema_generator or generator, discriminator, trainer, strategy,
                       evaluator.records if evaluator is not None else {})
