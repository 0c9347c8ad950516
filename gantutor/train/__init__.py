r"""The one training loop of the whole book.

Every chapter, widget, benchmark and transfer strategy trains through
:class:`Trainer`; none of them copies the loop. One :meth:`Trainer.step` is the
loop of chapter 5, written out:

1. **Part 1 -- update D** (``d_steps`` times): a batch of real images and a batch of
   fakes ``G(z)``; the fakes are *detached* so that D's loss does not reach G;
   :math:`L_D` from :mod:`gantutor.losses`; one optimiser step for D.
2. **Part 2 -- update G**: the same fakes, now *not* detached, through the updated D;
   :math:`L_G`; one optimiser step for G. D's parameters do not collect gradients here.
   With ``info_weight`` (InfoGAN), both losses also pay for a categorical code of z that D's
   code head cannot read back from the fakes.
3. Optionally an exponential moving average of G's weights (``ema_decay``), which
   gives smoother samples than the last iterate.

The settings are a :class:`~gantutor.recipes.TrainConfig`; the trainer records a history
(losses, the mean of :math:`D(x)` and :math:`D(G(z))`, seconds), calls callbacks (snapshots
of ``G(z_fixed)``, checkpoints, live dashboards), and saves / resumes exactly: on the CPU,
``fit(N); fit(M)`` gives the same parameters as ``fit(N); save; resume; fit(M)``.

Under ``torchrun`` the same loop trains data-parallel; everything that only such a run
needs lives in :mod:`gantutor.distributed`, reached through one seam (``self.processes``).
The command line ``python -m gantutor.train`` is :mod:`gantutor.cli`.
"""
from __future__ import annotations

import copy
import math
import os
import time
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn

from ..batches import batches_for, data_tensor, describe_data, label_distribution
from ..device import pick_device
from ..distributed import processes
from ..latent import StandardNormal, build_prior
from ..losses import GANLoss, info_loss, r1_penalty
from ..recipes import Recipe, TrainConfig, make_optimizer
from .callbacks import Callback, Checkpoint, Snapshots, as_callback
from .checkpoints import (CHECKPOINT_FORMAT, CheckpointError, describe_network, describe_run, load_checkpoint, restore,
                          save_checkpoint)

__all__ = ["Trainer", "Callback", "Snapshots", "Checkpoint", "load_checkpoint", "CHECKPOINT_FORMAT", "CheckpointError"]


def _named_subset(net: nn.Module, params) -> tuple[list[nn.Parameter], list[str]]:
    """The parameters to optimise (default: all with ``requires_grad``) and their names."""
    names = {id(p): n for n, p in net.named_parameters()}
    chosen = [p for p in net.parameters() if p.requires_grad] if params is None else list(params)
    if not chosen:
        raise ValueError(f"no parameters of the {type(net).__name__} would be trained: pass some to the Trainer")
    for p in chosen:
        if id(p) not in names:
            raise ValueError(f"a parameter passed for the {type(net).__name__} does not belong to it")
    return chosen, [names[id(p)] for p in chosen]


# --------------------------------------------------------------------------- the trainer

class Trainer:
    """Train a generator against a discriminator.

    Args:
        generator: maps ``z (N, latent_dim)`` to samples shaped like the data.
        discriminator: maps samples to logits ``(N,)``.
        data: an image domain from :func:`gantutor.data.load_domain`, a ``Dataset`` of
            ``(image, label)``, a tensor of samples, or a toy distribution with ``.sample(n)``.
        config: the training settings (:class:`~gantutor.recipes.TrainConfig`; default: DCGAN's).
        **settings: any field of :class:`~gantutor.recipes.TrainConfig` (``loss``, ``batch_size``,
            ``lr_g``, ``lr_d``, ``betas``, ``optimizer``, ``d_steps``, ``ema_decay``, ``ema_warmup``, ``r1_gamma``,
            ``info_weight``, ``seed``), overriding ``config``.
        g_params, d_params: the parameters to train (default: all with ``requires_grad``);
            this is how transfer strategies freeze parts of a network.
        augment: a differentiable function applied to real and fake batches before D
            (DiffAugment); ``None`` for none.
        latent: the prior of z, e.g. :class:`gantutor.latent.MixturePrior` (default:
            :class:`~gantutor.latent.StandardNormal`, ``z ~ N(0, I)``).
        latent_dim: length of z, for a generator without ``.latent_dim`` (default:
            ``generator.latent_dim``, else the prior's).
        device: where to train (default: :func:`gantutor.device.pick_device`).
        callbacks: :class:`Callback` objects or functions called after every step.
        distributed: train with ``DistributedDataParallel`` across the processes of
            ``torch.distributed`` (default: whenever a process group of more than one process
            is initialised, e.g. under ``torchrun``). ``batch_size`` is then per process: the
            global batch is ``batch_size * world_size`` (:attr:`global_batch_size`). Every
            process computes the same parameters, history and step count; only rank 0 writes
            checkpoints; callbacks run on every process and must decide alike (e.g. by step).
        sync_batchnorm: in distributed training, BatchNorm layers normalise with the statistics
            of the global batch instead of each process's own.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, data, config: TrainConfig | None = None, *,
                 g_params: Iterable[nn.Parameter] | None = None, d_params: Iterable[nn.Parameter] | None = None,
                 augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 latent: StandardNormal | dict | None = None, latent_dim: int | None = None,
                 device: torch.device | str | None = None, callbacks: Iterable[Callback | Callable] = (),
                 distributed: bool | None = None, sync_batchnorm: bool = False, **settings) -> None:
        self.config = (config if config is not None else TrainConfig()).replace(**settings)
        self.device = torch.device(device) if device is not None else pick_device()
        self.processes = processes(distributed, sync_batchnorm)
        self.generator = self.processes.prepare(generator.to(self.device), self.device)
        self.discriminator = self.processes.prepare(discriminator.to(self.device), self.device)
        self.latent = build_prior(latent) if isinstance(latent, dict) else latent
        self.latent_dim = (latent_dim or getattr(generator, "latent_dim", None)
                           or (self.latent.latent_dim if self.latent is not None else None))
        if self.latent_dim is None:
            raise ValueError("the generator has no .latent_dim attribute: pass latent_dim= to the Trainer")
        if self.latent is None:
            self.latent = StandardNormal(self.latent_dim)
        if self.latent.latent_dim != self.latent_dim:
            raise ValueError(f"the latent prior makes z of length {self.latent.latent_dim} but the generator takes "
                             f"{self.latent_dim}: build the prior with latent_dim={self.latent_dim}")
        self.augment = augment
        self.num_classes = _num_classes(generator, discriminator)
        code = (getattr(self.latent, "categories", None), getattr(discriminator, "code_classes", None))
        if self.config.info_weight and (code[0] is None or code[0] != code[1]):
            raise ValueError(f"info_weight > 0 trains InfoGAN's code: pass a prior with one (gantutor.latent.CodePrior) and "
                             f"a discriminator whose code head reads as many values; the prior is {self.latent!r}, the "
                             f"code head reads {code[1]} (build it with code_classes={code[0]})")

        self.data = data
        batches = batches_for(data, self.batch_size, self.seed, self.device, labelled=self.num_classes is not None)
        if self.num_classes is not None:  # fakes get labels drawn from the data's label distribution
            self.label_weights = label_distribution(data, self.num_classes).to(self.device)
        self._check_shapes(batches.example())
        self.batches = self.processes.shard(batches)

        self.g_params, self.g_param_names = _named_subset(self.generator, g_params)
        self.d_params, self.d_param_names = _named_subset(self.discriminator, d_params)
        opt_g, opt_d = self.config.optimizer
        self.opt_g = make_optimizer(opt_g, self.g_params, self.config.lr_g, self.config.betas)
        self.opt_d = make_optimizer(opt_d, self.d_params, self.config.lr_d, self.config.betas)
        # The networks as the loop calls them: DistributedDataParallel wrappers (which start by
        # copying rank 0's weights to every process) or the plain networks.
        self._g_forward = self.processes.wrap(self.generator, self.device)
        self._d_forward = self.processes.wrap(self.discriminator, self.device)
        self.ema_generator = None
        if self.config.ema_decay is not None:
            self.ema_generator = copy.deepcopy(self.generator).eval().requires_grad_(False)

        self.noise_generator = torch.Generator(device=self.device).manual_seed(self.seed + 1)
        self.callbacks = [as_callback(c) for c in callbacks]
        self.step_count = 0
        self.history: dict[str, list[float]] = {k: [] for k in ("step", "d_loss", "g_loss", "d_real", "d_fake", "time")}
        self.stop_requested = False

    @classmethod
    def from_recipe(cls, recipe: Recipe, data, **kwargs) -> "Trainer":
        """Fresh networks, prior and settings from a :class:`~gantutor.recipes.Recipe`, for ``data``.

        The networks are initialised after ``torch.manual_seed(recipe.train.seed)``, so the same
        recipe always starts from the same weights. ``kwargs`` go to the constructor (e.g.
        ``device=``, ``callbacks=``, or a training setting such as ``lr_g=``).
        """
        torch.manual_seed(recipe.train.seed)
        generator, discriminator = recipe.networks(tuple(_sample_shape(data)))
        kwargs.setdefault("latent", recipe.prior())
        return cls(generator, discriminator, data, recipe.train, **kwargs)

    # ---------------------------------------------------------------- settings

    @property
    def loss(self) -> GANLoss:
        """The loss pair in use (:attr:`config`'s ``loss``)."""
        return self.config.gan_loss

    @property
    def batch_size(self) -> int:
        return self.config.batch_size

    @property
    def d_steps(self) -> int:
        return self.config.d_steps

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def rank(self) -> int:
        return self.processes.rank

    @property
    def world_size(self) -> int:
        return self.processes.world_size

    @property
    def global_batch_size(self) -> int:
        """Real samples per step over all processes: ``batch_size * world_size``."""
        return self.batch_size * self.world_size

    @property
    def is_main_process(self) -> bool:
        """True in a single process and on rank 0 of a distributed run (the one that writes files)."""
        return self.rank == 0

    def _check_shapes(self, example: torch.Tensor) -> None:
        """Fail early when the generator's output and the data differ in shape."""
        was_training = self.generator.training
        self.generator.eval()
        with torch.no_grad():
            fake = self._g(self.generator, torch.zeros(2, self.latent_dim, device=self.device),
                           self.eval_labels(2) if self.num_classes is not None else None)
        self.generator.train(was_training)
        if tuple(fake.shape[1:]) != tuple(example.shape[1:]):
            raise ValueError(
                f"the data's samples have shape {tuple(example.shape[1:])} but the generator makes "
                f"{tuple(fake.shape[1:])}: build the networks for the data (channels, image_size) "
                "or resize the data"
            )

    # ---------------------------------------------------------------- sampling

    def noise(self, n: int) -> torch.Tensor:
        """``n`` latent vectors from the prior (:attr:`latent`), drawn from the trainer's own random stream."""
        return self.latent.sample(n, generator=self.noise_generator)

    def _seeded_noise(self, n: int, offset: int) -> torch.Tensor:
        return self.latent.sample(n, generator=torch.Generator().manual_seed(self.seed + offset)).to(self.device)

    def fixed_noise(self, n: int = 64) -> torch.Tensor:
        """The same ``n`` latent vectors every time (seeded by the trainer's seed): snapshots, sample grids."""
        return self._seeded_noise(n, 12345)

    def eval_noise(self, n: int = 1000) -> torch.Tensor:
        """Another fixed set of ``n`` latent vectors, for evaluations (chapter 5, the benchmarks)."""
        return self._seeded_noise(n, 7)

    def eval_labels(self, n: int) -> torch.Tensor:
        """``0, 1, ..., K-1, 0, 1, ...``: ``n`` labels with every class equally often (conditional GANs)."""
        if self.num_classes is None:
            raise ValueError("this trainer's networks are unconditional: they take no labels")
        return torch.arange(n, device=self.device) % self.num_classes

    def fake_labels(self, n: int) -> torch.Tensor:
        """``n`` labels for fakes, drawn from the data's label distribution (the trainer's own random stream)."""
        return torch.multinomial(self.label_weights, n, replacement=True, generator=self.noise_generator)

    @torch.no_grad()
    def sample(self, n: int = 64, z: torch.Tensor | None = None, labels: torch.Tensor | None = None,
               ema: bool = True) -> torch.Tensor:
        """Samples from G (its moving average if there is one and ``ema``), on the CPU.

        G runs in eval mode (BatchNorm uses its running statistics), so a sample does not
        depend on the other samples in the batch. A conditional G draws ``labels`` (default:
        :meth:`eval_labels`, each class in turn); ``z`` defaults to :meth:`fixed_noise`.
        """
        net = self.ema_generator if (ema and self.ema_generator is not None) else self.generator
        z = self.fixed_noise(n) if z is None else z.to(self.device)
        if labels is not None:
            labels = torch.as_tensor(labels, device=self.device)
        elif self.num_classes is not None:
            labels = self.eval_labels(len(z))
        was_training = net.training
        net.eval()
        out = self._g(net, z, labels)
        net.train(was_training)
        return out.cpu()

    # ---------------------------------------------------------------- the loop

    @staticmethod
    def _g(net: nn.Module, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return net(z) if labels is None else net(z, labels)

    def _d(self, x: torch.Tensor, net: nn.Module, labels: torch.Tensor | None, code: float = 0):
        x = self.augment(x) if self.augment is not None else x
        extra = {"code": True} if code else {}  # then D returns (logits, code_logits)
        return net(x, **extra) if labels is None else net(x, labels, **extra)

    def step(self) -> dict[str, float]:
        """One training step: ``d_steps`` D updates, then one G update. Returns the step's record."""
        started = time.perf_counter()
        generator, loss, info = self._g_forward, self.loss, self.config.info_weight
        # Part 1 -- update D on real and (detached) fake samples.
        for i in range(self.d_steps):
            real, real_labels, fake_labels = self.batches.next(), None, None
            if self.num_classes is not None:  # a conditional GAN: real labels, and labels for the fakes
                real, real_labels = real
                fake_labels = self.processes.noise(self.fake_labels, real.shape[0])
            z = self.processes.noise(self.noise, real.shape[0])
            if i < self.d_steps - 1:
                with torch.no_grad():
                    fake = self._g(generator, z, fake_labels)
            else:
                fake = self._g(generator, z, fake_labels)  # kept with its graph: Part 2 reuses it
            if self.config.r1_gamma:  # R1 differentiates D's verdict with respect to the real images
                real = real.detach().requires_grad_(True)
            real_logits = self._d(real, self._d_forward, real_labels)
            fake_logits = self._d(fake.detach(), self._d_forward, fake_labels, info)  # detach: D's loss must not reach G
            if info:  # InfoGAN: D's code head learns to read z's code back from the fake
                (fake_logits, code_logits), codes = fake_logits, self.latent.code(z)
            d_loss = loss.d_loss(real_logits, fake_logits) + (info * info_loss(code_logits, codes) if info else 0)
            if self.config.r1_gamma:
                d_loss = d_loss + 0.5 * self.config.r1_gamma * r1_penalty(real_logits, real)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        # Part 2 -- update G through the updated D; D's weights collect no gradient here
        # (so in distributed training the plain D runs: there is no D gradient to share).
        for p in self.d_params:
            p.requires_grad_(False)
        try:
            verdict = self._d(fake, self.discriminator, fake_labels, info)
            if info:  # and G learns to draw the code readably
                verdict, code_logits = verdict
            g_loss = loss.g_loss(verdict) + (info * info_loss(code_logits, codes) if info else 0)
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            self.opt_g.step()
        finally:
            for p in self.d_params:
                p.requires_grad_(True)
        if self.ema_generator is not None:
            self._update_ema()
        self.step_count += 1
        # One synchronisation per step: all four numbers leave the device together.
        stats = torch.stack([d_loss.detach(), g_loss.detach(),
                             torch.sigmoid(real_logits.detach()).mean(), torch.sigmoid(fake_logits.detach()).mean()])
        stats, seconds = self.processes.average(stats, time.perf_counter() - started)
        d_value, g_value, d_real, d_fake = stats.tolist()
        for name, value in (("d_loss", d_value), ("g_loss", g_value)):
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"training diverged at step {self.step_count}: {name} is {value}. "
                    "This step may have written non-finite values into the weights; the last checkpoint on "
                    "disk is intact. Fix: lower the learning rates, check the data for NaN, or use another loss"
                )
        record = {"step": self.step_count, "d_loss": d_value, "g_loss": g_value, "d_real": d_real,
                  "d_fake": d_fake, "time": (self.history["time"][-1] if self.history["time"] else 0.0) + seconds}
        for key, value in record.items():
            self.history[key].append(value)
        return record

    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = self.config.ema_decay
        if self.config.ema_warmup:  # the first update copies G almost whole; then the decay grows to ema_decay
            decay = min(decay, (1 + self.step_count) / (10 + self.step_count))
        for ema_p, p in zip(self.ema_generator.parameters(), self.generator.parameters()):
            ema_p.lerp_(p, 1.0 - decay)
        for ema_b, b in zip(self.ema_generator.buffers(), self.generator.buffers()):
            ema_b.copy_(b)

    def fit(self, steps: int, *, max_seconds: float | None = None, progress: bool = True,
            callbacks: Iterable[Callback | Callable] = ()) -> dict[str, list[float]]:
        """Train for ``steps`` steps (or until :attr:`stop_requested`).

        Args:
            steps: number of steps to add to :attr:`step_count`.
            max_seconds: stop early once this many seconds of training have passed in this call
                (for interactive use only: a run stopped by the clock depends on the machine, so
                nothing the book measures uses it).
            progress: show a progress bar (tqdm.auto: a widget in notebooks, text elsewhere).
            callbacks: extra callbacks for this call only, after those given to the trainer.

        Returns:
            the history: lists ``step``, ``d_loss``, ``g_loss``, ``d_real``, ``d_fake``, ``time``.
        """
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be an int >= 0, got {steps!r}")
        active = self.callbacks + [as_callback(c) for c in callbacks]
        self.stop_requested = False
        self.generator.train()
        self.discriminator.train()
        bar = None
        if progress and steps and self.is_main_process:
            from tqdm.auto import tqdm

            # at most about 100 redraws per fit: in a notebook every redraw is a message to the front
            # end, and thousands of them during a long cell overflow the kernel's output queue
            bar = tqdm(total=steps, desc="training", leave=False, miniters=max(1, steps // 100), mininterval=1.0)
        for callback in active:
            callback.on_fit_start(self)
        started = self.history["time"][-1] if self.history["time"] else 0.0
        try:
            for _ in range(steps):
                record = self.step()
                for callback in active:
                    callback.on_step_end(self)
                if bar is not None:
                    bar.update(1)
                    if self.step_count % 25 == 0:
                        bar.set_postfix(d_loss=f"{record['d_loss']:.3f}", g_loss=f"{record['g_loss']:.3f}",
                                        refresh=False)
                if self.stop_requested or (max_seconds is not None and record["time"] - started >= max_seconds):
                    break
        finally:
            if bar is not None:
                bar.close()
        self.processes.after_fit([self.generator, self.discriminator]
                                 + ([self.ema_generator] if self.ema_generator is not None else []))
        for callback in active:
            callback.on_fit_end(self)
        return self.history

    # ---------------------------------------------------------------- checkpoints

    def state_dict(self, optimizers: bool = True) -> dict:
        """Everything needed to continue training exactly (tensors and plain Python only).

        ``optimizers=False`` leaves out the optimisers' moments (a third of the size): enough to
        sample, evaluate and look at the history of a finished run, as the shipped runs do;
        training on after :meth:`resume` then starts the optimisers afresh.
        """
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.config.to_dict(),
            "latent": self.latent.describe(),
            "step": self.step_count,
            "generator": {**describe_network(self.generator), "state": self.generator.state_dict()},
            "discriminator": {**describe_network(self.discriminator), "state": self.discriminator.state_dict()},
            "g_param_names": self.g_param_names, "d_param_names": self.d_param_names,
            "opt_g": self.opt_g.state_dict() if optimizers else None,
            "opt_d": self.opt_d.state_dict() if optimizers else None,
            "ema": self.ema_generator.state_dict() if self.ema_generator is not None else None,
            "batches": self.batches.state_dict(),
            "noise_rng": self.noise_generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "history": {k: list(v) for k, v in self.history.items()},
            "data": describe_data(self.data),
            "run": describe_run(self),
            "world_size": self.world_size,
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write a checkpoint atomically (temporary file, then rename), with the sha256 of its contents inside.

        In distributed training only rank 0 writes (every process holds the same state);
        the others return the path without writing.
        """
        if not self.is_main_process:
            return Path(path)
        return save_checkpoint(self.state_dict(), path)

    @classmethod
    def resume(cls, path: str | os.PathLike | dict, *, generator: nn.Module | None = None,
               discriminator: nn.Module | None = None, data=None, **overrides) -> "Trainer":
        """Rebuild a trainer from a checkpoint and continue where it stopped.

        The networks are rebuilt from the checkpoint's description unless given; the data
        is reloaded from the registry unless given. ``overrides`` go to the constructor
        (e.g. ``callbacks=``, ``augment=``, ``device=``, or a training setting).

        Raises:
            FileNotFoundError: no file at ``path`` (a :class:`CheckpointError` too).
            CheckpointError: a ``ValueError``: the file is empty, truncated, corrupted (zip CRC, sha256), of
                another kind or incomplete; the message names the file and the fix.
            ValueError: it does not fit the given networks, or the data, augmentation or latent prior
                passed differ from the run's.
        """
        return restore(cls, path, generator=generator, discriminator=discriminator, data=data, **overrides)


def _num_classes(generator: nn.Module, discriminator: nn.Module) -> int | None:
    """The classes both networks are conditioned on (``None``: unconditional); they must agree."""
    g, d = getattr(generator, "num_classes", None), getattr(discriminator, "num_classes", None)
    if g != d:
        raise ValueError(f"the generator is conditioned on {g} classes and the discriminator on {d}: "
                         "build both with the same num_classes (or both without)")
    return g


def _sample_shape(data) -> torch.Size:
    if hasattr(data, "sample") and not isinstance(data, torch.Tensor):
        return data.sample(1).shape[1:]
    return data_tensor(data).shape[1:]
