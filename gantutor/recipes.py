r"""Recipes: the settings of every GAN the book trains, written once.

A :class:`TrainConfig` is *how* the one :class:`~gantutor.train.Trainer` trains (loss,
batch, optimisers and learning rates, D steps per G step, EMA, seed); it is what a
checkpoint records. A :class:`Recipe` adds *what* is trained (the network family and its
width, the latent prior) and for how many steps. Chapter 5's parameter cell, the command
line, the rebuild of the shipped weights and the benchmarks all read :data:`RECIPES`, so
that a number measured in a benchmark is a number of the recipe the chapter runs.

>>> from gantutor.recipes import recipe
>>> r = recipe("chapter-5")                      # the chapter's DCGAN
>>> r.train.lr_g, r.base_width, r.steps
(0.0005, 32, 6000)
>>> wide = recipe("chapter-5", base_width=64, lr_g=2e-4)   # one lever changed
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import torch

from .latent import MixturePrior, StandardNormal
from .losses import LOSSES, GANLoss, get_loss

__all__ = ["TrainConfig", "Recipe", "RECIPES", "recipe", "OPTIMIZERS", "make_optimizer"]

#: The optimisers a :class:`TrainConfig` may name.
OPTIMIZERS = ("adam", "sgd", "rmsprop")


def make_optimizer(name: str, params, lr: float, betas: tuple[float, float] = (0.5, 0.999)) -> torch.optim.Optimizer:
    """An optimiser by name: ``"adam"`` (with ``betas``), ``"sgd"`` or ``"rmsprop"``."""
    key = name.lower()
    if key == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas)
    if key == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if key == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}")


@dataclass(frozen=True)
class TrainConfig:
    """How the Trainer trains. Every field has the DCGAN paper's value as its default.

    Attributes:
        loss: a name from :data:`gantutor.losses.LOSSES` (or a :class:`~gantutor.losses.GANLoss`).
        batch_size: real (and fake) samples per step (per process in distributed training).
        lr_g, lr_d: learning rates of G and D.
        betas: Adam's betas (DCGAN: ``(0.5, 0.999)``).
        optimizer: ``"adam"``, ``"sgd"`` or ``"rmsprop"``, or a pair ``(for_g, for_d)``.
        d_steps: discriminator updates per generator update.
        ema_decay: keep an exponential moving average of G's weights with this decay
            (e.g. ``0.999``); ``None`` for none.
        ema_warmup: ramp the average's decay up over the first steps, ``min(ema_decay, (1 + t) / (10 + t))``
            at step ``t`` (TensorFlow's ``ExponentialMovingAverage(num_updates=t)``), so that it does not
            lag about ``1 / (1 - ema_decay)`` steps behind a generator that moves fast from the start.
        r1_gamma: weight of the R1 penalty (Mescheder et al. 2018) added to D's loss:
            ``r1_gamma / 2`` times the mean squared norm of D's input gradient on the real images
            (:func:`gantutor.losses.r1_penalty`); ``0`` (the default) for none.
        info_weight: weight of InfoGAN's information term (Chen et al. 2016,
            :func:`gantutor.losses.info_loss`), added to D's loss and to G's: D's code head must read the
            categorical code of a :class:`~gantutor.latent.CodePrior` back from the fakes, and G must
            draw it readably; ``0`` (the default) for none.
        seed: seeds the data order, the noise, the fixed noise of snapshots and the evaluation noise.
    """

    loss: str | GANLoss = "non-saturating"
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    optimizer: str | tuple[str, str] = ("adam", "adam")
    d_steps: int = 1
    ema_decay: float | None = None
    ema_warmup: bool = False
    r1_gamma: float = 0.0
    info_weight: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        loss = get_loss(self.loss)  # raises for an unknown name, listing the known ones
        set_("loss", loss.name if LOSSES.get(loss.name) is loss else loss)  # a custom GANLoss stays an object
        optimizer = (self.optimizer, self.optimizer) if isinstance(self.optimizer, str) else tuple(self.optimizer)
        if len(optimizer) != 2 or any(str(o).lower() not in OPTIMIZERS for o in optimizer):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; use one of {', '.join(OPTIMIZERS)} "
                             "(or a pair: one for G, one for D)")
        set_("optimizer", tuple(str(o).lower() for o in optimizer))
        set_("betas", tuple(float(b) for b in self.betas))
        for name in ("batch_size", "d_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be between 0 and 1 (e.g. 0.999), or None, got {self.ema_decay}")
        if not isinstance(self.ema_warmup, bool):
            raise ValueError(f"ema_warmup must be True or False, got {self.ema_warmup!r}")
        if isinstance(self.r1_gamma, bool) or not isinstance(self.r1_gamma, (int, float)) or not self.r1_gamma >= 0:
            raise ValueError(f"r1_gamma must be a number >= 0 (e.g. 1.0; 0 for no R1 penalty), got {self.r1_gamma!r}")
        set_("r1_gamma", float(self.r1_gamma))
        if isinstance(self.info_weight, bool) or not isinstance(self.info_weight, (int, float)) or not self.info_weight >= 0:
            raise ValueError(f"info_weight must be a number >= 0 (e.g. 1.0; 0 for no information term), "
                             f"got {self.info_weight!r}")
        set_("info_weight", float(self.info_weight))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")

    @property
    def gan_loss(self) -> GANLoss:
        """The loss pair (:class:`~gantutor.losses.GANLoss`) that :attr:`loss` names."""
        return get_loss(self.loss)

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values only (lists for pairs): for checkpoints and JSON files."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["loss"] = self.gan_loss.name
        out["betas"], out["optimizer"] = list(self.betas), list(self.optimizer)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """The inverse of :meth:`to_dict`; unknown keys are an error that names them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig settings {unknown}; known: {', '.join(sorted(known))}")
        return cls(**values)

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some settings changed (validated again); unknown settings are an error that names them."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; the settings are {', '.join(sorted(known))}")
        return replace(self, **changes)


@dataclass(frozen=True)
class Recipe:
    """A network family, its size, the latent prior, a :class:`TrainConfig` and a number of steps.

    Attributes:
        name: the key in :data:`RECIPES`.
        description: one line for people.
        steps: training steps of a full run.
        train: how the Trainer trains.
        family: ``"dcgan"`` (:class:`~gantutor.nets.Generator` / :class:`~gantutor.nets.Discriminator`)
            or ``"mlp"`` (the toy :class:`~gantutor.nets.MLPGenerator` / :class:`~gantutor.nets.MLPDiscriminator`).
        latent_dim: length of z.
        width: the DCGAN's ``base_width``, or the MLP's hidden width.
        depth: hidden layers of the MLPs (unused by the DCGAN).
        latent_components: ``None`` for :math:`z \\sim \\mathcal N(0, I)`; ``K`` for a
            :class:`~gantutor.latent.MixturePrior` of ``K`` islands (seeded by ``train.seed``).
        num_classes: ``K`` for a class-conditional GAN (G gets a label embedding, D a projection
            head); ``None`` for an unconditional one.
        spectral_norm: spectral normalisation of D's weights.
        domain: the domain the recipe is made for (the chapters' runs and the shipped models).
    """

    name: str
    description: str
    steps: int
    train: TrainConfig = field(default_factory=TrainConfig)
    family: str = "dcgan"
    latent_dim: int = 64
    width: int = 32
    depth: int = 2
    latent_components: int | None = None
    num_classes: int | None = None
    spectral_norm: bool = False
    domain: str | None = None

    def __post_init__(self) -> None:
        if self.family not in ("dcgan", "mlp"):
            raise ValueError(f"unknown network family {self.family!r}; use 'dcgan' or 'mlp'")
        for name in ("steps", "latent_dim", "width", "depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "steps" else 1):
                raise ValueError(f"{name} must be a {'non-negative' if name == 'steps' else 'positive'} int, "
                                 f"got {value!r}")
        for name in ("latent_components", "num_classes"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive int or None, got {value!r}")
        if self.family == "mlp" and (self.num_classes is not None or self.spectral_norm):
            raise ValueError("the MLP family is unconditional and without spectral norm")

    @property
    def base_width(self) -> int:
        """The DCGAN's width (an alias of :attr:`width`)."""
        return self.width

    def networks(self, sample_shape: tuple[int, ...] = (1, 28, 28)):
        """A fresh generator and discriminator for samples of ``sample_shape`` (``(C, S, S)`` or ``(D,)``)."""
        from .nets import Discriminator, Generator, MLPDiscriminator, MLPGenerator

        if self.family == "mlp":
            if len(sample_shape) != 1:
                raise ValueError(f"the MLP family trains on points (D,), not samples of shape {tuple(sample_shape)}")
            dim = sample_shape[0]
            return (MLPGenerator(self.latent_dim, dim, self.width, self.depth),
                    MLPDiscriminator(dim, self.width, self.depth))
        if len(sample_shape) != 3 or sample_shape[1] != sample_shape[2]:
            raise ValueError(f"the DCGAN family trains on square images (C, S, S), not {tuple(sample_shape)}")
        channels, size = sample_shape[0], sample_shape[1]
        return (Generator(self.latent_dim, channels, self.width, size, num_classes=self.num_classes),
                Discriminator(channels, self.width, size, num_classes=self.num_classes,
                              spectral_norm=self.spectral_norm))

    def prior(self) -> StandardNormal:
        """The latent prior of z: :class:`~gantutor.latent.StandardNormal` or a seeded mixture."""
        if self.latent_components is None:
            return StandardNormal(self.latent_dim)
        return MixturePrior(self.latent_dim, self.latent_components, seed=self.train.seed)

    def with_changes(self, **changes) -> "Recipe":
        """A copy with some settings changed: fields of the recipe or of its :class:`TrainConfig`."""
        own = {f.name for f in fields(self)} - {"train"}
        train_fields = {f.name for f in fields(TrainConfig)}
        unknown = sorted(set(changes) - own - train_fields)
        if unknown:
            raise ValueError(f"unknown recipe settings {unknown}; a recipe has {', '.join(sorted(own))} "
                             f"and the training settings {', '.join(sorted(train_fields))}")
        train = self.train.replace(**{k: v for k, v in changes.items() if k in train_fields})
        return replace(self, train=train, **{k: v for k, v in changes.items() if k in own})

    def to_dict(self) -> dict[str, Any]:
        """Every setting as plain Python values, the training settings flattened in."""
        out = {k: v for k, v in asdict(self).items() if k != "train"}
        return {**out, **self.train.to_dict()}


#: Every recipe the book trains, by name.
RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("dcgan", "DCGAN as published (Radford et al. 2016): width 64, Adam 2e-4, batch 64; the command line's "
                    "default for image domains", steps=5000, width=64),
    Recipe("toy", "chapter 2's toy GAN: MLPs of 2 hidden layers of 128, z of length 2, Adam 1e-3, batch 256; "
                  "the command line's default for toy domains", steps=3000, family="mlp", latent_dim=2, width=128,
           train=TrainConfig(batch_size=256, lr_g=1e-3, lr_d=1e-3)),
    Recipe("chapter-5", "chapter 5's DCGAN: width 32, Adam 5e-4 for both networks, batch 64, EMA 0.999",
           steps=6000, train=TrainConfig(lr_g=5e-4, lr_d=5e-4, ema_decay=0.999), domain="mnist"),
    Recipe("chapter-5-cgan", "chapter 5's class-conditional DCGAN: the same widths and settings, G told the digit "
                             "(one-hot), D a projection head", steps=4000, num_classes=10,
           train=TrainConfig(lr_g=5e-4, lr_d=5e-4, ema_decay=0.999), domain="mnist"),
    Recipe("dcgan-mnist", "the shipped MNIST DCGAN, chapter 5's recipe trained longer with an R1 penalty on D "
                          "(gamma 1): the model chapter 6 measures and chapter 7 transfers "
                          "(python -m gantutor.pretrained rebuild dcgan-mnist)",
           steps=20000, train=TrainConfig(lr_g=5e-4, lr_d=5e-4, ema_decay=0.999, r1_gamma=1.0), domain="mnist"),
    Recipe("cgan-mnist", "the shipped class-conditional MNIST GAN, chapter 5's conditional recipe trained longer: the "
                         "conditional source of chapter 7 (python -m gantutor.pretrained rebuild cgan-mnist)",
           steps=15000, num_classes=10, train=TrainConfig(lr_g=5e-4, lr_d=5e-4, ema_decay=0.999), domain="mnist"),
    Recipe("dcgan-glyphs", "the shipped glyphs DCGAN, chapter 5's recipe on the printed letters "
                           "(python -m gantutor.pretrained rebuild dcgan-glyphs)",
           steps=20000, train=TrainConfig(lr_g=5e-4, lr_d=5e-4, ema_decay=0.999), domain="glyphs"),
)}


def recipe(name: str, **changes) -> Recipe:
    """The recipe called ``name`` from :data:`RECIPES`, with ``changes`` applied (see :meth:`Recipe.with_changes`).

    Raises:
        ValueError: unknown name (the message lists the known ones) or unknown setting.
    """
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; known recipes: {', '.join(RECIPES)}")
    return RECIPES[name].with_changes(**changes) if changes else RECIPES[name]
