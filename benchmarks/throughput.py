"""Images per second of one DCGAN training step: the book's Trainer against a bare PyTorch loop.

Both run the same networks (copies of the same initial weights), the same optimisers and the
same batch size in the same process; runs are interleaved (trainer, bare, bare, trainer, ...)
so that a change in the machine's load hits both alike, and each side reports the median of
its runs. The Trainer's overhead is ``1 - trainer / bare``; the project's limit is 5%.

    python benchmarks/throughput.py            # the full measurement -> benchmarks/results/throughput.json
    python benchmarks/throughput.py --quick    # a smoke run in seconds (tiny nets, few steps); written only with --out
"""
from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from gantutor.data import load_domain
from gantutor.device import describe_machine, pick_device, seed_everything
from gantutor.losses import get_loss
from gantutor.nets import Discriminator, Generator
from gantutor.results import BenchmarkRun
from gantutor.train import Trainer

OVERHEAD_LIMIT = 0.05


class BareLoop:
    """The same training step written directly in PyTorch: no history, no callbacks, no checks."""

    def __init__(self, generator, discriminator, data, batch_size, lr, betas, device, seed):
        self.generator, self.discriminator = generator.to(device), discriminator.to(device)
        self.data = data.to(device)
        self.batch_size, self.device = batch_size, device
        self.opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
        self.opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas)
        self.loss = get_loss("non-saturating")
        self.rng = torch.Generator().manual_seed(seed)
        self.generator.train(), self.discriminator.train()

    def step(self) -> None:
        index = torch.randint(len(self.data), (self.batch_size,), generator=self.rng)
        real = self.data[index.to(self.data.device)]
        z = torch.randn(self.batch_size, self.generator.latent_dim, device=self.device)
        fake = self.generator(z)
        d_loss = self.loss.d_loss(self.discriminator(real), self.discriminator(fake.detach()))
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        g_loss = self.loss.g_loss(self.discriminator(fake))
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def measure(args: argparse.Namespace) -> dict:
    device = torch.device(args.device) if args.device else pick_device()
    seed_everything(0)
    data = load_domain("mnist", verbose=False).images
    generator = Generator(latent_dim=args.latent_dim, base_width=args.base_width)
    discriminator = Discriminator(base_width=args.base_width)
    trainer = Trainer(copy.deepcopy(generator), copy.deepcopy(discriminator), data, batch_size=args.batch_size,
                      lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), device=device, seed=0)
    bare = BareLoop(copy.deepcopy(generator), copy.deepcopy(discriminator), data, args.batch_size,
                    2e-4, (0.5, 0.999), device, 0)

    def run_trainer() -> float:
        _sync(device)
        start = time.perf_counter()
        trainer.fit(args.steps, progress=False)
        _sync(device)
        return time.perf_counter() - start

    def run_bare() -> float:
        _sync(device)
        start = time.perf_counter()
        for _ in range(args.steps):
            bare.step()
        _sync(device)
        return time.perf_counter() - start

    for _ in range(args.warmup):  # allocator, kernels and caches warm for both
        trainer.step()
        bare.step()
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    runs = {"trainer": [], "bare": []}
    for repeat in range(args.repeats):
        order = [("trainer", run_trainer), ("bare", run_bare)]
        if repeat % 2:
            order.reverse()
        for name, run in order:
            seconds = run()
            runs[name].append(args.steps * args.batch_size / seconds)
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    trainer_ips, bare_ips = statistics.median(runs["trainer"]), statistics.median(runs["bare"])
    overhead = 1.0 - trainer_ips / bare_ips
    # Paired ratios: each trainer run against the bare run next to it.
    paired = [1.0 - t / b for t, b in zip(runs["trainer"], runs["bare"])]
    return {
        "what": "throughput of one DCGAN training step: Trainer vs a bare PyTorch loop",
        "machine": describe_machine(device),
        "platform": platform.platform(),
        "device": str(device),
        "load_average_before": list(load_before) if load_before else None,
        "load_average_after": list(load_after) if load_after else None,
        "config": {"base_width": args.base_width, "latent_dim": args.latent_dim, "batch_size": args.batch_size,
                   "steps_per_run": args.steps, "repeats": args.repeats, "warmup_steps": args.warmup,
                   "loss": "non-saturating", "optimizer": "adam(2e-4, betas=(0.5, 0.999))"},
        "trainer_images_per_s": trainer_ips,
        "bare_images_per_s": bare_ips,
        "trainer_steps_per_s": trainer_ips / args.batch_size,
        "bare_steps_per_s": bare_ips / args.batch_size,
        "overhead": overhead,
        "overhead_paired_median": statistics.median(paired),
        "overhead_limit": OVERHEAD_LIMIT,
        "within_limit": overhead <= OVERHEAD_LIMIT,
        "runs_images_per_s": runs,
    }


def main(argv: list[str] | None = None) -> dict:
    def configure(parser):
        parser.add_argument("--steps", type=int, default=None, help="training steps per timed run (default 40; quick 3)")
        parser.add_argument("--repeats", type=int, default=None,
                            help="timed runs per side, interleaved (default 9; quick 5)")
        parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 10; quick 1)")
        parser.add_argument("--base-width", type=int, default=None, help="DCGAN width (default 64; quick 8)")
        parser.add_argument("--latent-dim", type=int, default=64)
        parser.add_argument("--batch-size", type=int, default=64)
        parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: pick_device())")
        parser.add_argument("--strict", action="store_true", help="exit with status 1 if the overhead exceeds 5%%")

    bench = BenchmarkRun("throughput", __doc__, Path(__file__).resolve().parent / "results", argv, configure)
    args = bench.args
    defaults = dict(steps=(3, 40), repeats=(5, 9), warmup=(1, 10), base_width=(8, 64))
    for name, (quick, full) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    if args.repeats < 5:
        bench.parser.error("--repeats must be at least 5 (the result is a median)")
    result = bench.finish(measure(args))
    print(f"{result['machine']}; load {result['load_average_before']}")
    print(f"trainer {result['trainer_images_per_s']:,.0f} images/s, bare loop {result['bare_images_per_s']:,.0f} images/s: "
          f"overhead {result['overhead']:+.1%} (paired median {result['overhead_paired_median']:+.1%}; "
          f"limit {OVERHEAD_LIMIT:.0%})")
    if args.strict and not result["within_limit"]:
        raise SystemExit(1)
    return result


if __name__ == "__main__":
    main()
