r"""The one training loop of the whole book.

Every chapter, widget, benchmark and transfer strategy trains through
:class:`Trainer`; none of them copies the loop. One :meth:`Trainer.step` is the
loop of chapter 5, written out:

1. **Part 1 -- update D** (``d_steps`` times): a batch of real images and a batch of
   fakes ``G(z)``; the fakes are *detached* so that D's loss does not reach G;
   :math:`L_D` from :mod:`gantutor.losses`; one optimiser step for D.
2. **Part 2 -- update G**: the same fakes, now *not* detached, through the updated D;
   :math:`L_G`; one optimiser step for G. D's parameters do not collect gradients here.
3. Optionally an exponential moving average of G's weights (``ema_decay``), which
   gives smoother samples than the last iterate.

The trainer records a history (losses, the mean of :math:`D(x)` and :math:`D(G(z))`,
seconds), calls callbacks (snapshots of ``G(z_fixed)``, checkpoints, live dashboards),
and saves / resumes exactly: on the CPU, ``fit(N); fit(M)`` gives the same
parameters as ``fit(N); save; resume; fit(M)``.

Under ``torchrun`` the same loop trains data-parallel (``DistributedDataParallel``, one
process per GPU): see :func:`init_distributed`, the ``distributed`` argument of
:class:`Trainer` and the command line ``python -m gantutor.train`` (:mod:`gantutor.cli`).
"""
from __future__ import annotations

import copy
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

import torch
import torch.distributed as dist
from torch import nn

from .device import pick_device
from .latent import StandardNormal, build_prior
from .losses import GANLoss, get_loss
from .nets import build, describe, load_weights

__all__ = ["Trainer", "Callback", "Snapshots", "Checkpoint", "TensorBatches", "SampledBatches",
           "ShardedBatches", "init_distributed", "make_optimizer", "atomic_save", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "gantutor.trainer/1"
_OPTIMIZERS = ("adam", "sgd", "rmsprop")


# --------------------------------------------------------------------------- data sources

class TensorBatches:
    """Batches from a data set held as one tensor: a fresh random permutation every epoch.

    A batch larger than the data set (few-shot transfer) simply runs on into the next
    permutation. The state (position, permutation, random generator) is saved in
    checkpoints, so a resumed run sees exactly the batches it would have seen.
    """

    def __init__(self, data: torch.Tensor, batch_size: int, seed: int, device: torch.device) -> None:
        self.data = data.to(device)
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(len(data), generator=self.generator)
        self.position = 0

    def __len__(self) -> int:
        return len(self.data)

    def next(self) -> torch.Tensor:
        pieces, needed = [], self.batch_size
        while needed > 0:
            if self.position == len(self.order):
                self.order = torch.randperm(len(self.data), generator=self.generator)
                self.position = 0
            take = self.order[self.position: self.position + needed]
            self.position += len(take)
            needed -= len(take)
            pieces.append(take)
        index = pieces[0] if len(pieces) == 1 else torch.cat(pieces)
        return self.data[index.to(self.data.device)]

    def state_dict(self) -> dict:
        return {"rng": self.generator.get_state(), "order": self.order.clone(), "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["rng"])
        self.order, self.position = state["order"].clone(), int(state["position"])


class SampledBatches:
    """Batches drawn fresh from a distribution with ``.sample(n, generator)`` (the toy data)."""

    def __init__(self, distribution, batch_size: int, seed: int, device: torch.device) -> None:
        self.distribution, self.batch_size, self.device = distribution, batch_size, device
        self.generator = torch.Generator().manual_seed(seed)

    def next(self) -> torch.Tensor:
        return self.distribution.sample(self.batch_size, generator=self.generator).to(self.device)

    def state_dict(self) -> dict:
        return {"rng": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["rng"])


class ShardedBatches:
    """This process's share of a data source in distributed training (DistributedSampler-style).

    Every process keeps the same random stream (same seed), draws the *global* batch of
    ``batch_size * world_size`` samples and keeps its own block of ``batch_size``: the
    processes see disjoint samples, together exactly what one process with the global
    batch would see, and the state is the same on every process -- so rank 0's checkpoint
    resumes all of them (with any number of processes).
    """

    def __init__(self, source, rank: int, world_size: int) -> None:
        self.source, self.rank, self.world_size = source, rank, world_size
        self.batch_size = source.batch_size
        source.batch_size = self.batch_size * world_size

    def __len__(self) -> int:
        return len(self.source)

    def next(self) -> torch.Tensor:
        return self.source.next()[self.rank * self.batch_size: (self.rank + 1) * self.batch_size]

    def state_dict(self) -> dict:
        return self.source.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.source.load_state_dict(state)


def init_distributed(backend: str | None = None) -> tuple[int, int, torch.device]:
    """Join the process group that ``torchrun`` describes in the environment.

    ``torchrun`` starts one process per device and sets ``RANK``, ``LOCAL_RANK``,
    ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``; this joins them with NCCL on CUDA
    and gloo on the CPU. Outside torchrun (or with one process) nothing happens.

    Returns:
        ``(rank, world_size, device)``: the device is ``cuda:LOCAL_RANK`` on a GPU machine.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return 0, 1, pick_device()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device()
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    elif device.type == "mps":
        device = torch.device("cpu")  # no collective backend for MPS: train on the CPU
    if not dist.is_initialized():
        dist.init_process_group(backend or ("nccl" if device.type == "cuda" else "gloo"))
    return dist.get_rank(), dist.get_world_size(), device


def _as_tensor_data(data) -> torch.Tensor:
    """The images (or points) of ``data``: an ImageDomain, a Dataset of (x, y) or a tensor."""
    if isinstance(data, torch.Tensor):
        tensor = data
    elif isinstance(getattr(data, "images", None), torch.Tensor):
        tensor = data.images
    else:
        try:
            count = len(data)
        except TypeError:
            raise TypeError(
                f"cannot train on a {type(data).__name__}: pass a domain from load_domain(), "
                "a Dataset of (image, label) pairs, a tensor of images, or a distribution with .sample(n)"
            ) from None
        if count == 0:
            raise ValueError("the data set is empty: there is nothing to train on")
        items = [data[i] for i in range(count)]
        tensor = torch.stack([item[0] if isinstance(item, (tuple, list)) else item for item in items])
    if len(tensor) == 0:
        raise ValueError("the data set is empty: there is nothing to train on")
    if not torch.is_floating_point(tensor):
        raise TypeError(f"training data must be floating point (images in [-1, 1]), got {tensor.dtype}")
    return tensor.float()


def _describe_data(data) -> dict | None:
    """How to load ``data`` again on resume, if it came from the registry."""
    name = getattr(data, "name", None)
    if name is None:
        return None
    if hasattr(data, "sample"):
        return {"domain": name}
    return {"domain": name, "split": getattr(data, "split", "train"), "limit": len(data)}


# --------------------------------------------------------------------------- helpers

def make_optimizer(name: str, params, lr: float, betas: tuple[float, float] = (0.5, 0.999)) -> torch.optim.Optimizer:
    """An optimiser by name: ``"adam"`` (with ``betas``), ``"sgd"`` or ``"rmsprop"``."""
    key = name.lower()
    if key == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas)
    if key == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if key == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; use one of {', '.join(_OPTIMIZERS)}")


def atomic_save(obj, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file in the same folder, then rename it over ``path``.

    A crash mid-write leaves the previous file untouched, never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


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


class Callback:
    """Hooks the trainer calls; override any of them. A plain function ``f(trainer)`` also
    works as a callback and is called after every step."""

    def on_fit_start(self, trainer: "Trainer") -> None:
        pass

    def on_step_end(self, trainer: "Trainer") -> None:
        pass

    def on_fit_end(self, trainer: "Trainer") -> None:
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

    def on_fit_start(self, trainer: "Trainer") -> None:
        if not self.frames:
            self.frames.append((trainer.step_count, trainer.sample(z=trainer.fixed_noise(self.num))))

    def on_step_end(self, trainer: "Trainer") -> None:
        if trainer.step_count % self.every == 0:
            self.frames.append((trainer.step_count, trainer.sample(z=trainer.fixed_noise(self.num))))


class Checkpoint(Callback):
    """Save the trainer to ``path`` every ``every`` steps and at the end of ``fit`` (atomically)."""

    def __init__(self, path: str | os.PathLike, every: int = 500) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.path, self.every = Path(path), every

    def on_step_end(self, trainer: "Trainer") -> None:
        if trainer.step_count % self.every == 0:
            trainer.save(self.path)

    def on_fit_end(self, trainer: "Trainer") -> None:
        trainer.save(self.path)


class _FunctionCallback(Callback):
    def __init__(self, function: Callable[["Trainer"], None]) -> None:
        self.function = function

    def on_step_end(self, trainer: "Trainer") -> None:
        self.function(trainer)


def _as_callback(callback) -> Callback:
    if isinstance(callback, Callback):
        return callback
    if callable(callback):
        return _FunctionCallback(callback)
    raise TypeError(f"a callback must be a Callback or a function of the trainer, got {type(callback).__name__}")


# --------------------------------------------------------------------------- the trainer

class Trainer:
    """Train a generator against a discriminator.

    Args:
        generator: maps ``z (N, latent_dim)`` to samples shaped like the data.
        discriminator: maps samples to logits ``(N,)``.
        data: an image domain from :func:`gantutor.data.load_domain`, a ``Dataset`` of
            ``(image, label)``, a tensor of samples, or a toy distribution with ``.sample(n)``.
        loss: a name from :data:`gantutor.losses.LOSSES` or a :class:`~gantutor.losses.GANLoss`.
        batch_size: real (and fake) samples per step.
        lr_g, lr_d: learning rates of G and D.
        betas: Adam's betas (DCGAN: ``(0.5, 0.999)``).
        optimizer: ``"adam"``, ``"sgd"`` or ``"rmsprop"``, or a pair ``(for_g, for_d)``.
        d_steps: discriminator updates per generator update.
        ema_decay: if set (e.g. ``0.999``), keep an exponential moving average of G's
            weights in :attr:`ema_generator`; :meth:`sample` uses it.
        g_params, d_params: the parameters to train (default: all with ``requires_grad``);
            this is how transfer strategies freeze parts of a network.
        augment: a differentiable function applied to real and fake batches before D
            (DiffAugment); ``None`` for none.
        latent_dim: length of z (default: ``generator.latent_dim``).
        latent: the prior of z, e.g. :class:`gantutor.latent.GaussianMixture` (default:
            :class:`~gantutor.latent.StandardNormal`, ``z ~ N(0, I)``).
        device: where to train (default: :func:`gantutor.device.pick_device`).
        seed: seeds the data order, the noise and the fixed noise of snapshots.
        callbacks: :class:`Callback` objects or functions called after every step.
        distributed: train with ``DistributedDataParallel`` across the processes of
            ``torch.distributed`` (default: whenever a process group of more than one process
            is initialised, e.g. under ``torchrun``). ``batch_size`` is then per process: the
            global batch is ``batch_size * world_size`` (:attr:`global_batch_size`). Every
            process computes the same parameters, history and step count; only rank 0 writes
            checkpoints; callbacks run on every process and must decide alike (e.g. by step).
        sync_batchnorm: in distributed training, BatchNorm layers normalise with the statistics
            of the global batch (``nn.SyncBatchNorm``) instead of each process's own.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, data, *,
                 loss: str | GANLoss = "non-saturating", batch_size: int = 64,
                 lr_g: float = 2e-4, lr_d: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                 optimizer: str | Sequence[str] = "adam", d_steps: int = 1, ema_decay: float | None = None,
                 g_params: Iterable[nn.Parameter] | None = None, d_params: Iterable[nn.Parameter] | None = None,
                 augment: Callable[[torch.Tensor], torch.Tensor] | None = None, latent_dim: int | None = None,
                 latent: StandardNormal | dict | None = None,
                 device: torch.device | str | None = None, seed: int = 0,
                 callbacks: Iterable[Callback | Callable] = (), distributed: bool | None = None,
                 sync_batchnorm: bool = False) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if d_steps < 1:
            raise ValueError(f"d_steps must be at least 1, got {d_steps}")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be between 0 and 1 (e.g. 0.999), got {ema_decay}")
        for name, lr in (("lr_g", lr_g), ("lr_d", lr_d)):
            if not lr > 0:
                raise ValueError(f"{name} must be positive, got {lr}")
        self.device = torch.device(device) if device is not None else pick_device()
        self.generator = generator.to(self.device)
        self.discriminator = discriminator.to(self.device)
        self.loss = get_loss(loss)
        self.latent_dim = latent_dim if latent_dim is not None else getattr(generator, "latent_dim", None)
        if self.latent_dim is None:
            raise ValueError("the generator has no .latent_dim attribute: pass latent_dim= to the Trainer")
        if isinstance(latent, dict):
            latent = build_prior(latent)
        self.latent = latent if latent is not None else StandardNormal(self.latent_dim)
        if self.latent.latent_dim != self.latent_dim:
            raise ValueError(f"the latent prior makes z of length {self.latent.latent_dim} but the generator takes "
                             f"{self.latent_dim}: build the prior with latent_dim={self.latent_dim}")
        self.batch_size, self.d_steps, self.seed = batch_size, d_steps, seed
        self.lr_g, self.lr_d, self.betas = lr_g, lr_d, tuple(betas)
        self.optimizer_names = (optimizer, optimizer) if isinstance(optimizer, str) else tuple(optimizer)
        self.augment = augment
        self.ema_decay = ema_decay
        self.rank, self.world_size = _distributed_rank_and_size(distributed)
        if sync_batchnorm and self.world_size > 1:
            self.generator = _convert_sync_batchnorm(self.generator, self.device)
            self.discriminator = _convert_sync_batchnorm(self.discriminator, self.device)

        self.data = data
        if hasattr(data, "sample") and not isinstance(data, torch.Tensor):
            self.batches = SampledBatches(data, batch_size, seed, self.device)
            example = data.sample(2)
        else:
            tensor = _as_tensor_data(data)
            self.batches = TensorBatches(tensor, batch_size, seed, self.device)
            example = tensor[:2]
        self._check_shapes(example)
        if self.world_size > 1:
            self.batches = ShardedBatches(self.batches, self.rank, self.world_size)

        self.g_params, self.g_param_names = _named_subset(self.generator, g_params)
        self.d_params, self.d_param_names = _named_subset(self.discriminator, d_params)
        self.opt_g = make_optimizer(self.optimizer_names[0], self.g_params, lr_g, self.betas)
        self.opt_d = make_optimizer(self.optimizer_names[1], self.d_params, lr_d, self.betas)
        # The networks as the loop calls them: DistributedDataParallel wrappers (which start by
        # copying rank 0's weights to every process) or the plain networks.
        self._g_forward, self._d_forward = self.generator, self.discriminator
        if self.world_size > 1:
            self._g_forward = _wrap_ddp(self.generator, self.device)
            self._d_forward = _wrap_ddp(self.discriminator, self.device)
        self.ema_generator = None
        if ema_decay is not None:
            self.ema_generator = copy.deepcopy(self.generator).eval().requires_grad_(False)

        self.noise_generator = torch.Generator(device=self.device).manual_seed(seed + 1)
        self.callbacks = [_as_callback(c) for c in callbacks]
        self.step_count = 0
        self.history: dict[str, list[float]] = {k: [] for k in ("step", "d_loss", "g_loss", "d_real", "d_fake", "time")}
        self.stop_requested = False

    # ---------------------------------------------------------------- checks

    def _check_shapes(self, example: torch.Tensor) -> None:
        """Fail early when the generator's output and the data differ in shape."""
        was_training = self.generator.training
        self.generator.eval()
        with torch.no_grad():
            fake = self.generator(torch.zeros(2, self.latent_dim, device=self.device))
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

    def fixed_noise(self, n: int = 64) -> torch.Tensor:
        """The same ``n`` latent vectors every time (seeded by the trainer's seed)."""
        generator = torch.Generator().manual_seed(self.seed + 12345)
        return self.latent.sample(n, generator=generator).to(self.device)

    @torch.no_grad()
    def sample(self, n: int = 64, z: torch.Tensor | None = None, ema: bool = True) -> torch.Tensor:
        """Samples from G (its moving average if there is one and ``ema``), on the CPU.

        G runs in eval mode (BatchNorm uses its running statistics), so a sample does not
        depend on the other samples in the batch.
        """
        net = self.ema_generator if (ema and self.ema_generator is not None) else self.generator
        z = self.fixed_noise(n) if z is None else z.to(self.device)
        was_training = net.training
        net.eval()
        out = net(z)
        net.train(was_training)
        return out.cpu()

    # ---------------------------------------------------------------- the loop

    def _d(self, x: torch.Tensor, net: nn.Module | None = None) -> torch.Tensor:
        net = self.discriminator if net is None else net
        return net(self.augment(x) if self.augment is not None else x)

    def _step_noise(self, n: int) -> torch.Tensor:
        """This process's share of the global batch's noise (all of it in one process)."""
        if self.world_size == 1:
            return self.noise(n)
        return self.noise(n * self.world_size)[self.rank * n: (self.rank + 1) * n]

    def _average_stats(self, stats: torch.Tensor, elapsed: float) -> tuple[torch.Tensor, float]:
        """Average the step's numbers (and seconds) over the processes: one all-reduce per step."""
        stats = torch.cat([stats.float(), stats.new_tensor([elapsed], dtype=torch.float32)])
        dist.all_reduce(stats)
        stats /= self.world_size
        return stats[:4], float(stats[4])

    @property
    def global_batch_size(self) -> int:
        """Real samples per step over all processes: ``batch_size * world_size``."""
        return self.batch_size * self.world_size

    @property
    def is_main_process(self) -> bool:
        """True in a single process and on rank 0 of a distributed run (the one that writes files)."""
        return self.rank == 0

    @torch.no_grad()
    def _broadcast_buffers(self) -> None:
        """Give every process rank 0's BatchNorm statistics (DDP shares only the gradients)."""
        nets = [self.generator, self.discriminator] + ([self.ema_generator] if self.ema_generator is not None else [])
        for net in nets:
            for buffer in net.buffers():
                dist.broadcast(buffer, src=0)

    def step(self) -> dict[str, float]:
        """One training step: ``d_steps`` D updates, then one G update. Returns the step's record."""
        started = time.perf_counter()
        generator, loss = self._g_forward, self.loss
        # Part 1 -- update D on real and (detached) fake samples.
        for i in range(self.d_steps):
            real = self.batches.next()
            z = self._step_noise(real.shape[0])
            if i < self.d_steps - 1:
                with torch.no_grad():
                    fake = generator(z)
            else:
                fake = generator(z)  # kept with its graph: Part 2 reuses it
            real_logits = self._d(real, self._d_forward)
            fake_logits = self._d(fake.detach(), self._d_forward)  # detach: D's loss must not reach G
            d_loss = loss.d_loss(real_logits, fake_logits)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        # Part 2 -- update G through the updated D; D's weights collect no gradient here
        # (so in distributed training the plain D runs: there is no D gradient to share).
        for p in self.d_params:
            p.requires_grad_(False)
        try:
            g_loss = loss.g_loss(self._d(fake))
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
        stats = torch.stack([
            d_loss.detach(), g_loss.detach(),
            torch.sigmoid(real_logits.detach()).mean(), torch.sigmoid(fake_logits.detach()).mean(),
        ])
        elapsed = None
        if self.world_size > 1:  # the global batch's means, the same on every process
            stats, elapsed = self._average_stats(stats, time.perf_counter() - started)
        d_value, g_value, d_real, d_fake = stats.tolist()
        for name, value in (("d_loss", d_value), ("g_loss", g_value)):
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"training diverged at step {self.step_count}: {name} is {value}. "
                    "This step may have written non-finite values into the weights; the last checkpoint on "
                    "disk is intact. Fix: lower the learning rates, check the data for NaN, or use another loss"
                )
        if elapsed is None:
            elapsed = time.perf_counter() - started
        record = {"step": self.step_count, "d_loss": d_value, "g_loss": g_value, "d_real": d_real,
                  "d_fake": d_fake, "time": (self.history["time"][-1] if self.history["time"] else 0.0) + elapsed}
        for key, value in record.items():
            self.history[key].append(value)
        return record

    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = self.ema_decay
        for ema_p, p in zip(self.ema_generator.parameters(), self.generator.parameters()):
            ema_p.lerp_(p, 1.0 - decay)
        for ema_b, b in zip(self.ema_generator.buffers(), self.generator.buffers()):
            ema_b.copy_(b)

    def fit(self, steps: int, *, max_seconds: float | None = None, progress: bool = True,
            callbacks: Iterable[Callback | Callable] = ()) -> dict[str, list[float]]:
        """Train for ``steps`` steps (or until ``max_seconds`` of training, or :attr:`stop_requested`).

        Args:
            steps: number of steps to add to :attr:`step_count`.
            max_seconds: stop early once this many seconds of training have passed in this call.
            progress: show a progress bar (tqdm.auto: a widget in notebooks, text elsewhere).
            callbacks: extra callbacks for this call only, after those given to the trainer.

        Returns:
            the history: lists ``step``, ``d_loss``, ``g_loss``, ``d_real``, ``d_fake``, ``time``.
        """
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        active = self.callbacks + [_as_callback(c) for c in callbacks]
        self.stop_requested = False
        self.generator.train()
        self.discriminator.train()
        bar = None
        if progress and steps and self.is_main_process:
            from tqdm.auto import tqdm

            bar = tqdm(total=steps, desc="training", leave=False)
        for callback in active:
            callback.on_fit_start(self)
        spent = 0.0
        try:
            for _ in range(steps):
                record = self.step()
                spent += record["time"] - (self.history["time"][-2] if len(self.history["time"]) > 1 else 0.0)
                for callback in active:
                    callback.on_step_end(self)
                if bar is not None:
                    bar.update(1)
                    if self.step_count % 25 == 0:
                        bar.set_postfix(d_loss=f"{record['d_loss']:.3f}", g_loss=f"{record['g_loss']:.3f}")
                if self.stop_requested or (max_seconds is not None and spent >= max_seconds):
                    break
        finally:
            if bar is not None:
                bar.close()
        if self.world_size > 1:
            self._broadcast_buffers()
        for callback in active:
            callback.on_fit_end(self)
        return self.history

    # ---------------------------------------------------------------- checkpoints

    def state_dict(self) -> dict:
        """Everything needed to continue training exactly (tensors and plain Python only)."""
        config = {
            "loss": self.loss.name, "batch_size": self.batch_size, "lr_g": self.lr_g, "lr_d": self.lr_d,
            "betas": list(self.betas), "optimizer": list(self.optimizer_names), "d_steps": self.d_steps,
            "ema_decay": self.ema_decay, "latent_dim": self.latent_dim, "seed": self.seed,
            "latent": self.latent.describe(),
        }
        state = {
            "format": CHECKPOINT_FORMAT,
            "config": config,
            "step": self.step_count,
            "generator": {**_safe_describe(self.generator), "state": self.generator.state_dict()},
            "discriminator": {**_safe_describe(self.discriminator), "state": self.discriminator.state_dict()},
            "g_param_names": self.g_param_names, "d_param_names": self.d_param_names,
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "ema": self.ema_generator.state_dict() if self.ema_generator is not None else None,
            "batches": self.batches.state_dict(),
            "noise_rng": self.noise_generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "history": {k: list(v) for k, v in self.history.items()},
            "data": _describe_data(self.data),
            "world_size": self.world_size,
        }
        return state

    def save(self, path: str | os.PathLike) -> Path:
        """Write a checkpoint atomically (temporary file, then rename).

        In distributed training only rank 0 writes (every process holds the same state);
        the others return the path without writing.
        """
        if not self.is_main_process:
            return Path(path)
        return atomic_save(self.state_dict(), path)

    @classmethod
    def resume(cls, path: str | os.PathLike, *, generator: nn.Module | None = None,
               discriminator: nn.Module | None = None, data=None, **overrides) -> "Trainer":
        """Rebuild a trainer from a checkpoint and continue where it stopped.

        The networks are rebuilt from the checkpoint's description unless given; the data
        is reloaded from the registry unless given. ``overrides`` go to the constructor
        (e.g. ``callbacks=``, ``augment=``, ``device=``).

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: not a trainer checkpoint, or it does not fit the given networks.
        """
        state = load_checkpoint(path)
        generator = generator if generator is not None else _rebuild(state["generator"], "generator")
        discriminator = discriminator if discriminator is not None else _rebuild(state["discriminator"], "discriminator")
        load_weights(generator, state["generator"]["state"], f"checkpoint {path}")
        load_weights(discriminator, state["discriminator"]["state"], f"checkpoint {path}")
        if data is None:
            if state["data"] is None:
                raise ValueError(f"checkpoint {path} was trained on data that is not in the registry: pass data=")
            from .data import load_domain

            described = dict(state["data"])
            data = load_domain(described.pop("domain"), verbose=False, **described)
        named_g, named_d = dict(generator.named_parameters()), dict(discriminator.named_parameters())
        config = {**state["config"], **{k: overrides.pop(k) for k in list(overrides) if k in state["config"]}}
        config.pop("optimizer")
        trainer = cls(generator, discriminator, data,
                      optimizer=tuple(state["config"]["optimizer"]),
                      g_params=[named_g[n] for n in state["g_param_names"]],
                      d_params=[named_d[n] for n in state["d_param_names"]],
                      **config, **overrides)
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


def _distributed_rank_and_size(distributed: bool | None) -> tuple[int, int]:
    initialised = dist.is_available() and dist.is_initialized()
    if distributed is None:
        distributed = initialised and dist.get_world_size() > 1
    if not distributed:
        return 0, 1
    if not initialised:
        raise RuntimeError("distributed=True needs a torch.distributed process group: launch with "
                           "`torchrun --nproc_per_node=K ...` and call gantutor.train.init_distributed() first")
    return dist.get_rank(), dist.get_world_size()


def _wrap_ddp(net: nn.Module, device: torch.device) -> nn.Module:
    """``DistributedDataParallel`` around ``net``: averages the gradients in ``backward``.

    D is called twice (real, fake) before one backward, G once: every trained parameter
    gets exactly one gradient per backward, so the default (static) reducer applies.
    Buffers (BatchNorm statistics) are copied from rank 0 at every forward.
    """
    from torch.nn.parallel import DistributedDataParallel

    if not any(p.requires_grad for p in net.parameters()):
        return net  # nothing to synchronise (a fully frozen network)
    device_ids = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else None
    # The default broadcast_buffers=True: rank 0's buffers are copied before every forward.
    return DistributedDataParallel(net, device_ids=device_ids)


class _AllReduceSum(torch.autograd.Function):
    """Sum a tensor over the processes; the gradient is summed over the processes too."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.clone()
        dist.all_reduce(tensor)
        return tensor

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class _CPUSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """A synchronised BatchNorm for the CPU (gloo), where torch's ``SyncBatchNorm`` refuses to run.

    Training mode: the per-channel sums of :math:`x` and :math:`x^2` and the sample count
    are summed over the processes by a differentiable all-reduce, so the mean and variance
    (and their gradients) are those of the global batch; the running statistics are updated
    like ``BatchNorm`` (unbiased variance). Same parameters and buffers as ``BatchNorm``;
    eval mode is plain ``BatchNorm``.
    """

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2-D input (N, C, ...), got {input.dim()}-D")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not self.training or not (dist.is_available() and dist.is_initialized()):
            return super().forward(input)
        channels, dims = input.shape[1], [0] + list(range(2, input.ndim))
        count = input.new_tensor([input.numel() / channels])
        totals = _AllReduceSum.apply(torch.cat([input.sum(dims), (input * input).sum(dims), count]))
        n = totals[-1]
        mean = totals[:channels] / n
        var = (totals[channels: 2 * channels] / n - mean * mean).clamp_min(0)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean.detach(), momentum)
                self.running_var.lerp_(var.detach() * n / (n - 1).clamp_min(1), momentum)
        shape = [1, channels] + [1] * (input.ndim - 2)
        out = (input - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


def _convert_sync_batchnorm(net: nn.Module, device: torch.device) -> nn.Module:
    """Every BatchNorm layer of ``net`` synchronised over the processes (same parameters and buffers).

    GPUs: ``nn.SyncBatchNorm``. CPU: :class:`_CPUSyncBatchNorm` (DDP refuses ``nn.SyncBatchNorm``
    in CPU modules).
    """
    if device.type != "cpu":
        return nn.SyncBatchNorm.convert_sync_batchnorm(net)
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, nn.SyncBatchNorm):
            module.__class__ = _CPUSyncBatchNorm
    return net


def _safe_describe(net: nn.Module) -> dict:
    try:
        return describe(net)
    except TypeError:
        return {"class": type(net).__name__, "config": None}


def _rebuild(description: dict, role: str) -> nn.Module:
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
        raise ValueError(f"{path} is not a gantutor trainer checkpoint (format {CHECKPOINT_FORMAT!r})")
    return state


if __name__ == "__main__":  # python -m gantutor.train ... (see gantutor.cli)
    from gantutor.cli import main

    raise SystemExit(main())
