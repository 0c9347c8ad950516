r"""Transfer: adapt a GAN trained on a source domain to a target domain with few images.

A strategy only decides **which parameters move and how fast**; the training itself is
the book's one loop, :class:`gantutor.train.Trainer`, fed the target images.

- ``scratch``: a fresh G and D of the same architecture (the data-efficient baseline);
- ``finetune``: every parameter of the source G and D (Wang et al. 2018);
- ``freeze_d``: all of G; D without its first ``freeze_blocks`` blocks (FreezeD, Mo et al. 2020);
- ``affine``: only G's BatchNorm scales and shifts, plus D's last block and head
  (batch statistics adaptation, Noguchi & Harada 2019);
- ``ewc``: every parameter, with G pulled back toward the source weights in proportion to how
  much each one mattered to the source (elastic weight consolidation, Li et al. 2020):
  :func:`fisher_information`, :func:`ewc_penalty`;
- ``minegan``: a small *miner* network in front of the frozen source G learns where in the
  latent space the target lies, then G and miner are fine-tuned together (MineGAN, Wang et
  al. 2020): :class:`Miner`, :class:`MinedGenerator`;
- ``adapter``: the source G stays frozen and a small convolutional *adapter* behind it learns a
  local map from source images to target images (a residual adapter, Rebuffi et al. 2017, put
  on G's output; MineGAN's idea mirrored from the input to the output): :class:`OutputAdapter`,
  :class:`AdaptedGenerator`. It keeps everything G draws and can only change it locally: right
  for domains that differ by an image-level transform (outlines, negatives), wrong for new shapes.

Every strategy's moving average of G warms up (``TrainConfig.ema_warmup``): a fixed decay of 0.99
lags about 100 steps behind G, longer than the adapter takes to reach scratch's final FD on the
negatives (24-35 steps in ``benchmarks/results/transfer.json``), and would hide the speed it measures.

Every strategy puts DiffAugment (Zhao et al. 2020) on D's inputs by default: with a few images
D memorises them without it, and the comparison is only fair when every arm has it.
Each strategy has its own learning rates (:data:`DEFAULT_LR`), tuned on one pair: an
affine-only update barely moves at the rate that suits full fine-tuning, and scratch is
only a fair baseline at its own best rate.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_images
from .nets import build, describe
from .train import Callback, Trainer

__all__ = ["STRATEGIES", "DEFAULT_LR", "adapt", "trainable_parameters", "strategy_map", "diffaugment",
           "AdaptResult", "Evaluator", "check_compatible", "few_shot", "log_steps", "steps_to",
           "fisher_information", "ewc_penalty", "Miner", "MinedGenerator", "OutputAdapter", "AdaptedGenerator"]

STRATEGIES = ("scratch", "finetune", "freeze_d", "affine", "ewc", "minegan", "adapter")

#: (lr_g, lr_d) per strategy. Scratch's and affine's were chosen on mnist -> mnist-edges with 100
#: images (400 steps, batch 32, seed 0, FD on 500 held-out images): scratch 2e-4: 596, 5e-4: 341,
#: 1e-3: 302; affine (G, D) 2e-3/2e-4: 1301, 5e-3/5e-4: 1043, 1e-2/2e-4: 2659 (unstable). The
#: others on dcgan-mnist -> mnist-edges with 10 images and DiffAugment (seed 0): fine-tuning at
#: 5e-4 needed about 530 steps to FD 400 and ended at 265 after 2,000; at 1e-3 about 230 steps
#: and 247 after 1,000; at 2e-3 about 270 steps and 251 after 1,000. The adapter (2,498 parameters, G
#: frozen) on the same pair, with the warmed-up average (seed 0, 2,000 steps; FD first below 400, final):
#: (5e-3, 1e-3) 209 steps, 83; (1e-2, 1e-3) 150, 82; (2e-2, 1e-3) 205, 91; (2e-2, 5e-4) 123, 72;
#: (2e-2, 2e-3) 71, 81. At
#: (2e-2, 2e-3) one of three seeds on 10 negatives later saturated to an all-white image (FD 2,091 from
#: step 1,286 on: tanh has no gradient left there); at (1e-2, 2e-3) that seed got to FD 121 by step 38
#: and ended at 104. (These probes ran on the earlier dcgan-mnist, the same recipe without R1: FD 111 to
#: held-out digits against 59 for the shipped one; benchmarks/transfer.py measures every rate on the shipped one.)
DEFAULT_LR = {
    "scratch": (1e-3, 1e-3),
    "finetune": (1e-3, 1e-3),
    "freeze_d": (1e-3, 1e-3),
    "affine": (5e-3, 5e-4),
    "ewc": (1e-3, 1e-3),
    "minegan": (1e-3, 1e-3),
    "adapter": (1e-2, 2e-3),
}

#: EWC's penalty weight (lambda below) on the Fisher information normalised to mean 1.
EWC_WEIGHT = 1.0
#: MineGAN: the share of the steps in which only the miner (and D) train, before G joins.
MINE_SHARE = 0.25


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
    if strategy in ("scratch", "finetune", "ewc", "minegan"):
        return g_all, d_all  # minegan: a MinedGenerator's parameters are the miner's and G's
    if strategy == "adapter":  # G frozen; only the adapter behind it (none yet on a plain source G) and all of D
        return (list(generator.adapter.parameters()) if isinstance(generator, AdaptedGenerator) else []), d_all
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


# --------------------------------------------------------------------------- EWC and MineGAN

def fisher_information(generator: nn.Module, discriminator: nn.Module, batches: int = 8, batch_size: int = 64,
                       seed: int = 0) -> dict[str, torch.Tensor]:
    r"""The (empirical, diagonal) Fisher information of G's parameters on the source (Li et al. 2020).

    .. math:: F_i = \mathbb{E}_z\left[\left(\frac{\partial}{\partial\theta_i}\log D(G(z))\right)^2\right]

    estimated from ``batches`` batches of source samples and normalised to mean 1, so that
    :func:`ewc_penalty`'s weight does not depend on the network's size. A large :math:`F_i`
    means the source's samples depend strongly on :math:`\theta_i`. Neither network changes.
    """
    rng = torch.Generator().manual_seed(seed)
    params = dict(generator.named_parameters())
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    num_classes = getattr(generator, "num_classes", None)
    modes = generator.training, discriminator.training
    generator.eval(), discriminator.eval()
    device = next(generator.parameters()).device
    for _ in range(batches):
        z = torch.randn(batch_size, generator.latent_dim, generator=rng).to(device)
        labels = None if num_classes is None else torch.randint(0, num_classes, (batch_size,), generator=rng).to(device)
        fake = generator(z) if labels is None else generator(z, labels)
        logits = discriminator(fake) if labels is None else discriminator(fake, labels)
        grads = torch.autograd.grad(F.logsigmoid(logits).mean(), list(params.values()), allow_unused=True)
        for name, grad in zip(params, grads):
            if grad is not None:
                fisher[name] += grad.detach() ** 2 / batches
    generator.train(modes[0]), discriminator.train(modes[1])
    mean = torch.cat([f.flatten() for f in fisher.values()]).mean()
    return {name: f / mean if mean > 0 else f for name, f in fisher.items()}


def ewc_penalty(generator: nn.Module, fisher: dict[str, torch.Tensor], weight: float = EWC_WEIGHT) -> list:
    r"""Add EWC's penalty :math:`\lambda \sum_i F_i (\theta_i - \theta^S_i)^2` to G's loss, as gradient hooks.

    :math:`\theta^S` are G's weights now (the source's). Each parameter's gradient gains
    :math:`2 \lambda F_i (\theta_i - \theta^S_i)` whenever G's loss is back-propagated, so the
    one training loop needs no change. Returns the hook handles (``handle.remove()`` undoes it).
    """
    if weight < 0 or not math.isfinite(weight):
        raise ValueError(f"the EWC weight must be a finite number >= 0, got {weight}")
    handles = []
    for name, p in generator.named_parameters():
        if name not in fisher:
            raise ValueError(f"no Fisher information for G's parameter {name!r}: compute it with "
                             "fisher_information() on this generator")
        anchor, f = p.detach().clone(), fisher[name].to(p.device)
        handles.append(p.register_hook(lambda grad, p=p, anchor=anchor, f=f: grad + 2 * weight * f * (p.detach() - anchor)))
    return handles


class Miner(nn.Module):
    r"""MineGAN's miner (Wang et al. 2020): :math:`z' = z + M(z)`, a two-layer MLP on the latent.

    The last layer starts at zero, so the mined G starts exactly as the source G; training
    the miner alone moves the *input distribution* of the frozen G toward the region whose
    images look most like the target.
    """

    def __init__(self, latent_dim: int, hidden: int | None = None) -> None:
        super().__init__()
        hidden = hidden or 2 * latent_dim
        self.net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, latent_dim))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z + self.net(z)


class MinedGenerator(nn.Module):
    """``G(miner(z), ...)``: a source generator behind a :class:`Miner`; samples like a generator."""

    def __init__(self, generator: nn.Module, miner: Miner | None = None) -> None:
        super().__init__()
        self.latent_dim = generator.latent_dim
        self.num_classes = getattr(generator, "num_classes", None)
        self.config = dict(getattr(generator, "config", {}))
        self.miner = miner if miner is not None else Miner(generator.latent_dim)
        self.generator = generator

    def forward(self, z: torch.Tensor, *labels) -> torch.Tensor:
        return self.generator(self.miner(z), *labels)


class OutputAdapter(nn.Module):
    r"""A small convolutional map on G's images, :math:`A(x) = \tanh(\alpha\,\operatorname{atanh}(x) + c(x))`.

    :math:`\operatorname{atanh}(x)` recovers G's last pre-activation, :math:`\alpha` (a learned scalar,
    starting at 1) scales it and flips it where needed, and :math:`c` (two 3×3 convolutions of
    ``width`` channels and a 1×1 one, its last layer starting at zero) adds a local correction with
    a 5×5 view of the image. At the start :math:`A` is the identity, so the adapted G starts exactly
    as the source G.
    """

    def __init__(self, channels: int = 1, width: int = 16) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1))
        self.correction = nn.Sequential(nn.Conv2d(channels, width, 3, padding=1), nn.LeakyReLU(0.2),
                                        nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(0.2),
                                        nn.Conv2d(width, channels, 1))
        nn.init.zeros_(self.correction[-1].weight)
        nn.init.zeros_(self.correction[-1].bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = torch.atanh(images.clamp(-1 + 1e-6, 1 - 1e-6))
        return torch.tanh(self.alpha * logits + self.correction(images))


class AdaptedGenerator(nn.Module):
    """``adapter(G(z, ...))``: a source generator with an :class:`OutputAdapter` behind it; samples like a generator."""

    def __init__(self, generator: nn.Module, adapter: OutputAdapter | None = None) -> None:
        super().__init__()
        self.latent_dim = generator.latent_dim
        self.num_classes = getattr(generator, "num_classes", None)
        self.config = dict(getattr(generator, "config", {}))
        self.generator = generator
        self.adapter = adapter if adapter is not None else OutputAdapter(self.config.get("channels", 1))

    def forward(self, z: torch.Tensor, *labels) -> torch.Tensor:
        return self.adapter(self.generator(z, *labels))


class _JoinAt(Callback):
    """At step ``at``, the given parameters start training (their optimizer skips them until then)."""

    def __init__(self, at: int, params) -> None:
        self.at, self.params = at, list(params)

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step_count == self.at:
            for p in self.params:
                p.requires_grad_(True)


# --------------------------------------------------------------------------- measuring

def few_shot(name: str, size: int, seed: int = 0, split: str = "train"):
    """``size`` images (with labels) of domain ``name`` drawn at random from its ``split``; each seed its own.

    Returns a :class:`gantutor.data.ImageDomain` (the chosen images keep their labels).
    """
    from .data import load_domain
    from .data.images import ImageDomain

    domain = load_domain(name, split, verbose=False)
    if not 1 <= size <= len(domain):
        raise ValueError(f"size must be between 1 and {len(domain)} (the {split} images of {name!r}), got {size}")
    index = torch.randperm(len(domain), generator=torch.Generator().manual_seed(seed))[:size]
    return ImageDomain(domain.images[index], domain.labels[index], name=domain.name, split=split,
                       source=f"{size} random images of {domain.source} (seed {seed})", classes=domain.classes)


def log_steps(total: int, per_decade: int = 5, first: int = 10) -> list[int]:
    """Evaluation steps: 0, then log-spaced from ``first`` to ``total`` (dense early, where curves move)."""
    if total < 1:
        return [0]
    count = max(2, round(per_decade * math.log10(max(total / first, 1.0))) + 1)
    spaced = {round(first * (total / first) ** (i / (count - 1))) for i in range(count)} if total > first else set()
    return sorted({0, total} | {s for s in spaced if 0 < s <= total})


def steps_to(steps: list[float], values: list[float], threshold: float) -> float | None:
    """The step at which ``values`` first fall to ``threshold``, interpolated linearly between evaluations.

    0 when the curve starts at or below it; ``None`` when it never gets there.
    """
    for i, (step, value) in enumerate(zip(steps, values)):
        if value <= threshold:
            if i == 0:
                return float(step)
            before, value_before = steps[i - 1], values[i - 1]
            return float(before + (value_before - threshold) / (value_before - value) * (step - before))
    return None


class Evaluator(Callback):
    """Every ``every`` steps (or at the steps ``at``, e.g. :func:`log_steps`), FD and KID of ``n`` samples against held-out target images.

    The real features are computed once; samples come from the trainer's fixed noise, so
    the curve measures the generator, not the luck of the draw.
    """

    def __init__(self, reference: torch.Tensor, every: int | None = 100, n: int = 500, kid_subsets: int = 10,
                 at: Iterable[int] | None = None) -> None:
        from . import metrics

        self.metrics, self.every, self.n, self.kid_subsets = metrics, every, n, kid_subsets
        self.at = set(at) if at is not None else None
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
        if (trainer.step_count in self.at) if self.at is not None else (trainer.step_count % self.every == 0):
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
          freeze_blocks: int = 1, augment: bool | Callable = True, ema_decay: float | None = 0.99,
          ema_warmup: bool = True,
          eval_every: int | None = 100, eval_at: Iterable[int] | None = None, eval_n: int = 500, seed: int = 0,
          device=None, ewc_weight: float = EWC_WEIGHT, mine_steps: int | None = None,
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
        augment: DiffAugment on D's inputs (``True``, the default for every strategy: with 10 or 100
            images an un-augmented D memorises them, whatever G started from), ``False``, or a function.
        ema_decay: moving average of G's weights used for samples and evaluation.
        ema_warmup: ramp the average's decay up from the first step (``TrainConfig.ema_warmup``), so
            that it follows a G that adapts fast instead of lagging about ``1 / (1 - ema_decay)`` steps.
        eval_every, eval_n: evaluate every so many steps on ``eval_n`` held-out images.
        eval_at: evaluate at these steps instead (e.g. :func:`log_steps`).
        ewc_weight: for ``ewc``, the penalty's weight (on the Fisher information normalised to mean 1).
        mine_steps: for ``minegan``, the steps in which only the miner and D train (default
            :data:`MINE_SHARE` of ``steps``); then G trains too.
        seed: seeds the fresh networks (``scratch``), the miner, DiffAugment, the data order and the noise:
            the same seed gives the same run.

    Returns:
        an :class:`AdaptResult` with the adapted G and D and ``evaluation`` (step, fd, kid, kid_std).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; known strategies: {', '.join(STRATEGIES)}")
    check_compatible(generator, target)
    channels, size = generator.config.get("channels", 1), generator.config.get("image_size", 28)
    check_images(getattr(target, "images", target), "the target images")
    if held_out is not None and (eval_every or eval_at is not None):
        check_images(getattr(held_out, "images", held_out), "held_out", channels=channels, size=size, min_count=2,
                     reason="FD and KID fit a covariance; pass more held-out images, or held_out=None")
    torch.manual_seed(seed)  # the fresh networks, the miner and DiffAugment's draws (torch's global stream)
    if strategy == "scratch":
        generator, discriminator = build(describe(generator)), build(describe(discriminator))
    else:
        generator, discriminator = copy.deepcopy(generator), copy.deepcopy(discriminator)
    fisher = fisher_information(generator, discriminator, seed=seed) if strategy == "ewc" else None
    if strategy == "minegan":
        generator = MinedGenerator(generator)
    if strategy == "adapter":
        generator = AdaptedGenerator(generator)
    generator.requires_grad_(True)
    discriminator.requires_grad_(True)
    g_params, d_params = trainable_parameters(generator, discriminator, strategy, freeze_blocks)
    chosen = {id(p) for p in g_params + d_params}
    for p in list(generator.parameters()) + list(discriminator.parameters()):
        p.requires_grad_(id(p) in chosen)
    augment_fn = diffaugment if augment is True else (augment or None)
    lr_g, lr_d = lr if lr is not None else DEFAULT_LR[strategy]
    evaluator = None
    extra = list(callbacks)
    if held_out is not None and (eval_every or eval_at is not None):
        reference = getattr(held_out, "images", held_out)
        evaluator = Evaluator(reference, every=eval_every, n=eval_n, at=eval_at)
        extra.insert(0, evaluator)
    if strategy == "minegan":
        mine_steps = round(MINE_SHARE * steps) if mine_steps is None else mine_steps
        if not 0 <= mine_steps <= steps:
            raise ValueError(f"mine_steps must be between 0 and steps ({steps}), got {mine_steps}")
        source_params = list(generator.generator.parameters())
        if mine_steps > 0:
            for p in source_params:
                p.requires_grad_(False)
            extra.append(_JoinAt(mine_steps, source_params))
    trainer = Trainer(generator, discriminator, target, batch_size=batch_size, lr_g=lr_g, lr_d=lr_d,
                      g_params=g_params, d_params=d_params, augment=augment_fn, ema_decay=ema_decay, ema_warmup=ema_warmup,
                      device=device, seed=seed, callbacks=extra)
    if fisher is not None:
        ewc_penalty(trainer.generator, fisher, ewc_weight)
    trainer.fit(steps, progress=progress)
    return AdaptResult(trainer.ema_generator or generator, discriminator, trainer, strategy,
                       evaluator.records if evaluator is not None else {})
