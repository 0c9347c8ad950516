"""What only a multi-process (data-parallel) run needs, behind one seam of the Trainer.

The :class:`~gantutor.train.Trainer` talks to the processes through one object,
:func:`processes` returns it: :class:`SingleProcess` (every call does nothing, the case of
every chapter) or :class:`DataParallel` (``torchrun``: one process per GPU, or several CPU
processes). The seam has five calls, in the order a run uses them:

1. :meth:`~SingleProcess.prepare` -- synchronised BatchNorm, if asked for;
2. :meth:`~SingleProcess.shard` -- this process's share of every batch;
3. :meth:`~SingleProcess.wrap` -- ``DistributedDataParallel`` around a network (gradients are
   averaged in ``backward``);
4. :meth:`~SingleProcess.noise` and :meth:`~SingleProcess.average` -- this process's share of
   the noise, and the step's numbers averaged over the processes;
5. :meth:`~SingleProcess.after_fit` -- rank 0's BatchNorm statistics for everyone.

``torchrun`` starts the processes and sets ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
``MASTER_ADDR`` and ``MASTER_PORT``; :func:`init_distributed` joins them.
"""
from __future__ import annotations

import os
from typing import Callable

import torch
import torch.distributed as dist
from torch import nn

from .device import pick_device

__all__ = ["init_distributed", "processes", "SingleProcess", "DataParallel", "ShardedBatches",
           "CPUSyncBatchNorm", "convert_sync_batchnorm"]


def init_distributed(backend: str | None = None) -> tuple[int, int, torch.device]:
    """Join the process group that ``torchrun`` describes in the environment.

    NCCL on CUDA, gloo on the CPU. Outside torchrun (or with one process) nothing happens.

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


class ShardedBatches:
    """This process's share of a batch source (DistributedSampler-style).

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

    def example(self) -> torch.Tensor:
        return self.source.example()

    def next(self):
        block = slice(self.rank * self.batch_size, (self.rank + 1) * self.batch_size)
        batch = self.source.next()
        return tuple(part[block] for part in batch) if isinstance(batch, tuple) else batch[block]

    def state_dict(self) -> dict:
        return self.source.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.source.load_state_dict(state)


class SingleProcess:
    """The seam for one process: every call leaves things as they are."""

    rank, world_size = 0, 1

    def prepare(self, net: nn.Module, device: torch.device) -> nn.Module:
        return net

    def shard(self, batches):
        return batches

    def wrap(self, net: nn.Module, device: torch.device) -> nn.Module:
        return net

    def noise(self, draw: Callable[[int], torch.Tensor], n: int) -> torch.Tensor:
        """``n`` latent vectors for this process (``draw(n)``: all of them in one process)."""
        return draw(n)

    def average(self, stats: torch.Tensor, seconds: float) -> tuple[torch.Tensor, float]:
        return stats, seconds

    def after_fit(self, nets: list[nn.Module]) -> None:
        pass


class DataParallel(SingleProcess):
    """The seam for ``world_size`` processes of an initialised ``torch.distributed`` group."""

    def __init__(self, rank: int, world_size: int, sync_batchnorm: bool = False) -> None:
        self.rank, self.world_size, self.sync_batchnorm = rank, world_size, sync_batchnorm

    def prepare(self, net: nn.Module, device: torch.device) -> nn.Module:
        return convert_sync_batchnorm(net, device) if self.sync_batchnorm else net

    def shard(self, batches) -> ShardedBatches:
        return ShardedBatches(batches, self.rank, self.world_size)

    def wrap(self, net: nn.Module, device: torch.device) -> nn.Module:
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
        return DistributedDataParallel(net, device_ids=device_ids)

    def noise(self, draw: Callable[[int], torch.Tensor], n: int) -> torch.Tensor:
        """This process's block of the global batch's noise (every process draws all of it)."""
        return draw(n * self.world_size)[self.rank * n: (self.rank + 1) * n]

    def average(self, stats: torch.Tensor, seconds: float) -> tuple[torch.Tensor, float]:
        """The step's numbers (and seconds) averaged over the processes: one all-reduce per step."""
        both = torch.cat([stats.float(), stats.new_tensor([seconds], dtype=torch.float32)])
        dist.all_reduce(both)
        both /= self.world_size
        return both[:-1], float(both[-1])

    @torch.no_grad()
    def after_fit(self, nets: list[nn.Module]) -> None:
        """Give every process rank 0's BatchNorm statistics (DDP shares only the gradients)."""
        for net in nets:
            for buffer in net.buffers():
                dist.broadcast(buffer, src=0)


def processes(distributed: bool | None = None, sync_batchnorm: bool = False) -> SingleProcess:
    """The seam for this run: :class:`DataParallel` under an initialised group of several processes.

    Args:
        distributed: ``None`` decides by itself (a process group of more than one process is
            initialised); ``True`` insists (and fails clearly without a group); ``False`` refuses.
        sync_batchnorm: with several processes, BatchNorm uses the global batch's statistics.
    """
    initialised = dist.is_available() and dist.is_initialized()
    if distributed is None:
        distributed = initialised and dist.get_world_size() > 1
    if not distributed:
        return SingleProcess()
    if not initialised:
        raise RuntimeError("distributed=True needs a torch.distributed process group: launch with "
                           "`torchrun --nproc_per_node=K ...` and call gantutor.distributed.init_distributed() first")
    return DataParallel(dist.get_rank(), dist.get_world_size(), sync_batchnorm)


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


class CPUSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
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


def convert_sync_batchnorm(net: nn.Module, device: torch.device) -> nn.Module:
    """Every BatchNorm layer of ``net`` synchronised over the processes (same parameters and buffers).

    GPUs: ``nn.SyncBatchNorm``. CPU: :class:`CPUSyncBatchNorm` (DDP refuses ``nn.SyncBatchNorm``
    in CPU modules).
    """
    if device.type != "cpu":
        return nn.SyncBatchNorm.convert_sync_batchnorm(net)
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, nn.SyncBatchNorm):
            module.__class__ = CPUSyncBatchNorm
    return net
