r"""Train the book's GANs from the command line: ``python -m gantutor.train`` (or ``python -m gantutor``).

One process (a laptop, one GPU)::

    python -m gantutor.train --domain mnist --steps 5000 --out runs/mnist

Several processes (GPUs of one machine, or CPU processes) -- ``torchrun`` starts and
supervises them, and the same command becomes data-parallel training::

    torchrun --standalone --nproc_per_node=4 -m gantutor.train --domain mnist --steps 5000 --out runs/mnist

A run starts from a named recipe of :mod:`gantutor.recipes` (``--recipe``; default ``dcgan`` for
image domains, the book's DCGAN :class:`gantutor.nets.Generator` and
:class:`~gantutor.nets.Discriminator`, and ``toy`` for the toy domains ``ring``, ``grid``,
``gaussian-1d``, the small MLPs of chapter 2); every other flag changes one setting of it. ``DIR`` receives

- ``checkpoint.pt``: the latest checkpoint (written atomically; :meth:`Trainer.resume` reads it),
- ``history.json``: the run's settings and the history (step, losses, D(x), D(G(z)), seconds),
- ``samples/step_NNNNNN.png``: a grid of ``G(z_fixed)`` (a scatter plot for toy domains).

``--steps`` is the total number of steps of the run: with ``--resume`` the same command
continues from ``DIR/checkpoint.pt`` up to that total (or starts afresh when there is no
checkpoint yet), so a run that was interrupted -- or restarted by ``torchrun --max-restarts`` --
finishes where it should. ``--batch-size`` is per process; the global batch is
``batch_size x processes``. Only rank 0 writes files and prints.

Nothing is lost and nothing changes silently:

- a ``DIR`` that holds an earlier run is refused unless ``--resume`` (continue it) or ``--overwrite``
  (replace it) is given; ``--out`` is checked before any data is loaded;
- on resume, the checkpoint's settings are kept, and a flag that says otherwise (``--limit``,
  ``--lr-g``, ...) is refused rather than ignored;
- Ctrl-C (SIGINT) or SIGTERM stops the run at the end of the current step, writes the checkpoint,
  says where, and exits with 130 or 143; a second one stops at once (the last checkpoint stays);
- errors are one line on stderr (exit 2 for bad arguments, 1 for the rest), never a Python
  traceback, unless ``--debug`` asks for it.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Sequence

import torch
import torch.distributed as dist

from .distributed import init_distributed
from .recipes import RECIPES, recipe
from .storage import atomic_write, atomic_write_text, remove_stale_temporaries
from .train import Callback, Checkpoint, Trainer, load_checkpoint

__all__ = ["build_parser", "train", "main", "Interrupted"]

#: The files a run writes into --out (what --overwrite removes, and what makes a folder "an earlier run").
RUN_FILES = ("checkpoint.pt", "history.json")

_DRY_RUN = dict(steps=2, limit=64, batch_size=8, base_width=8, hidden=16, every=1)


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (``python -m gantutor.train --help``)."""
    from .losses import LOSSES

    parser = argparse.ArgumentParser(
        prog="python -m gantutor.train",
        description="Train the book's DCGAN (image domains) or toy GAN (toy domains) and write checkpoints, "
                    "history and sample grids to --out. Under `torchrun --nproc_per_node=K` the same command "
                    "trains with DistributedDataParallel on K processes.",
    )
    parser.add_argument("--domain", required=True, help="a domain of gantutor.data.list_domains(): mnist, glyphs, ring, ...")
    parser.add_argument("--recipe", default=None, choices=sorted(RECIPES),
                        help="the recipe to start from (gantutor.recipes; default: dcgan for images, toy for toy "
                             "domains); the flags below change single settings of it")
    parser.add_argument("--steps", type=int, default=None,
                        help="total training steps of the run (with --resume: continue up to this many)")
    parser.add_argument("--out", required=True, type=Path, help="folder for checkpoint.pt, history.json and samples/")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUT/checkpoint.pt if it exists (otherwise start afresh); the "
                             "checkpoint's settings (loss, batch size, learning rates, ...) are kept, and a flag "
                             "that contradicts them is an error")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier run in OUT: its checkpoint.pt, history.json and samples/step_*.png "
                             "are deleted first (without it, an OUT with a run in it is refused)")
    parser.add_argument("--loss", default=None, choices=sorted(LOSSES), help="the GAN loss (default: the recipe's)")
    parser.add_argument("--dry-run", action="store_true",
                        help="a smoke test for CI: 2 steps on 64 images with tiny networks, files every step")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="real images per step and PROCESS (dcgan 64, toy 256); global = this x processes")
    parser.add_argument("--lr-g", type=float, default=None, help="generator learning rate (dcgan 2e-4, toy 1e-3)")
    parser.add_argument("--lr-d", type=float, default=None, help="discriminator learning rate (dcgan 2e-4, toy 1e-3)")
    parser.add_argument("--latent-dim", type=int, default=None, help="length of z (dcgan 64, toy 2)")
    parser.add_argument("--base-width", type=int, default=None, help="DCGAN width (dcgan 64; 32 is 2x faster on a CPU)")
    parser.add_argument("--hidden", type=int, default=None, help="toy MLP width (toy 128)")
    parser.add_argument("--limit", type=int, default=None, help="train on the first LIMIT images only")
    parser.add_argument("--d-steps", type=int, default=None, help="discriminator updates per generator update")
    parser.add_argument("--ema-decay", type=float, default=None, help="keep a moving average of G (e.g. 0.999)")
    parser.add_argument("--r1-gamma", type=float, default=None,
                        help="weight of the R1 penalty on D's gradient at the real images (e.g. 1; default: the recipe's, 0)")
    parser.add_argument("--latent-components", type=int, default=None,
                        help="draw z from a mixture of this many Gaussians (gantutor.latent.MixturePrior; "
                             "default: the recipe's, z ~ N(0, I))")
    parser.add_argument("--seed", type=int, default=None, help="seed of the weights, data order and noise (default 0)")
    parser.add_argument("--checkpoint-every", type=int, default=None, help="steps between checkpoints (default 500)")
    parser.add_argument("--sample-every", type=int, default=None, help="steps between sample grids (default 500)")
    parser.add_argument("--log-every", type=int, default=None, help="steps between log lines (default 100)")
    parser.add_argument("--sync-batchnorm", action="store_true",
                        help="with several processes: BatchNorm uses the statistics of the global batch (SyncBatchNorm)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available; one process only)")
    parser.add_argument("--debug", action="store_true", help="on an error, show the Python traceback (for bug reports)")
    return parser


def _resolve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Check the numbers and build the run's recipe (``args.recipe``) from the named one and the flags."""
    from .data import list_domains

    kinds = {info.name: info.kind for info in list_domains()}
    key = args.domain.strip().lower().replace("_", "-")
    if key not in kinds:
        parser.error(f"unknown domain {args.domain!r}; known domains: {', '.join(kinds)}")
    args.domain, args.toy = key, kinds[key] == "toy"
    dry = _DRY_RUN if args.dry_run else {}
    # What this command says about the run (explicit flags and --dry-run's sizes): checked against a checkpoint on resume.
    args.given = {name for name in _RUN_FLAGS if getattr(args, name) is not None}
    args.given |= {name for name in ("batch_size", "limit", "hidden" if args.toy else "base_width") if name in dry}
    for name, value in dict(steps=dry.get("steps"), limit=dry.get("limit"), checkpoint_every=dry.get("every", 500),
                            sample_every=dry.get("every", 500), log_every=dry.get("every", 100)).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.steps is None:
        parser.error("--steps is required (or use --dry-run)")
    for name in ("steps", "d_steps", "batch_size", "latent_dim", "base_width", "hidden", "checkpoint_every",
                 "sample_every", "log_every", "limit", "latent_components"):
        value = getattr(args, name)
        if value is not None and value < (0 if name == "steps" else 1):
            parser.error(f"--{name.replace('_', '-')} must be {'>= 0' if name == 'steps' else 'positive'}, got {value}")
    base = recipe(args.recipe or ("toy" if args.toy else "dcgan"))
    if (base.family == "mlp") != args.toy:
        parser.error(f"--recipe {base.name} trains {'points' if base.family == 'mlp' else 'images'}, "
                     f"but --domain {args.domain} has {'points' if args.toy else 'images'}")
    width = (args.hidden or dry.get("hidden")) if args.toy else (args.base_width or dry.get("base_width"))
    changes = dict(loss=args.loss, batch_size=args.batch_size or dry.get("batch_size"), lr_g=args.lr_g,
                   lr_d=args.lr_d, latent_dim=args.latent_dim, width=width, d_steps=args.d_steps,
                   ema_decay=args.ema_decay, r1_gamma=args.r1_gamma, latent_components=args.latent_components,
                   seed=args.seed)
    try:
        args.recipe = base.with_changes(**{k: v for k, v in changes.items() if v is not None})
    except ValueError as error:
        parser.error(str(error))
    return args


def _save_samples(trainer: Trainer, path: Path, toy: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if toy:
        points = trainer.sample(1000, z=trainer.fixed_noise(1000))
        figure, ax = plt.subplots(figsize=(4, 4))
        centres = getattr(trainer.data, "centres", None)
        if points.shape[1] == 1:
            ax.hist(points[:, 0].numpy(), bins=80, density=True, color="tab:orange")
        else:
            ax.scatter(points[:, 0], points[:, 1], s=3, alpha=0.5, color="tab:orange", label="G(z)")
            if centres is not None:
                ax.scatter(centres[:, 0], centres[:, 1], s=30, marker="x", color="k", label="modes")
            ax.set_aspect("equal")
        ax.set_title(f"step {trainer.step_count}")
        figure.tight_layout()
        atomic_write(path, lambda file: figure.savefig(file, format="png", dpi=80))
        plt.close(figure)
    else:
        from .viz import image_grid

        grid = image_grid(trainer.sample(64), nrow=8)
        atomic_write(path, lambda file: plt.imsave(file, grid, cmap="gray", vmin=0, vmax=1, format="png"))


class _RunFiles(Callback):
    """Rank 0's files: history.json with every checkpoint, a sample grid every ``sample_every`` steps,
    and a log line every ``log_every`` steps."""

    def __init__(self, args: argparse.Namespace, total: int) -> None:
        self.args, self.total, self.out = args, total, Path(args.out)
        self.last_log = (0, time.perf_counter())

    def write_history(self, trainer: Trainer) -> None:
        if not trainer.is_main_process:
            return
        args = self.args
        record = {
            "domain": args.domain, "loss": trainer.loss.name, "step": trainer.step_count,
            "world_size": trainer.world_size, "batch_size_per_process": trainer.batch_size,
            "global_batch_size": trainer.global_batch_size, "device": str(trainer.device),
            "config": trainer.config.to_dict(), "latent": trainer.latent.describe(),
            "argv": getattr(args, "argv", None), "history": trainer.history,
        }
        atomic_write_text(self.out / "history.json", json.dumps(record, indent=1))

    def samples(self, trainer: Trainer) -> None:
        if trainer.is_main_process:
            _save_samples(trainer, self.out / "samples" / f"step_{trainer.step_count:06d}.png", self.args.toy)

    def on_fit_start(self, trainer: Trainer) -> None:
        self.last_log = (trainer.step_count, time.perf_counter())
        if trainer.step_count == 0:
            self.samples(trainer)

    def on_step_end(self, trainer: Trainer) -> None:
        step = trainer.step_count
        if step % self.args.sample_every == 0:
            self.samples(trainer)
        if step % self.args.checkpoint_every == 0:
            self.write_history(trainer)
        if step % self.args.log_every == 0 and trainer.is_main_process:
            then_step, then = self.last_log
            now = time.perf_counter()
            rate = (step - then_step) / max(now - then, 1e-9)
            h = trainer.history
            print(f"step {step}/{self.total}  d_loss {h['d_loss'][-1]:.3f}  g_loss {h['g_loss'][-1]:.3f}  "
                  f"D(x) {h['d_real'][-1]:.2f}  D(G(z)) {h['d_fake'][-1]:.2f}  {rate:.1f} steps/s", flush=True)
            self.last_log = (step, now)

    def on_fit_end(self, trainer: Trainer) -> None:
        if trainer.step_count % self.args.sample_every:
            self.samples(trainer)
        self.write_history(trainer)


#: The flags that define a run, and where a checkpoint keeps each (see _check_resume_flags).
_RUN_FLAGS = ("recipe", "loss", "batch_size", "lr_g", "lr_d", "latent_dim", "base_width", "hidden", "limit", "d_steps",
              "ema_decay", "r1_gamma", "latent_components", "seed")


class Interrupted(KeyboardInterrupt):
    """Training stopped by SIGINT or SIGTERM; ``exit_code`` is 130 or 143 (128 + the signal)."""

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.signum, self.exit_code = signum, 128 + signum


class _StopOnSignal(Callback):
    """SIGINT and SIGTERM ask the trainer to stop at the end of the current step (the same step on every
    process); a second signal stops at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: int | None = None
        self.previous: dict = {}
        self.told = False

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():  # Python only lets the main thread handle signals
            self.previous = {signum: signal.signal(signum, self._handle) for signum in self.SIGNALS}

    def uninstall(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}

    def _handle(self, signum: int, frame) -> None:
        if self.received is not None:  # the second one: stop now (atomic writes leave the last checkpoint intact)
            raise Interrupted(signum, f"{signal.Signals(signum).name} again: stopped at once; the last checkpoint "
                                      "written stays as it was")
        self.received = signum  # no printing here: the signal may have interrupted a print

    def on_step_end(self, trainer: Trainer) -> None:
        stop = self.received is not None
        if trainer.world_size > 1:  # every process must stop after the same step
            flag = torch.tensor([float(stop)], device=trainer.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            stop = bool(flag.item())
        if stop:
            trainer.stop_requested = True
            if self.received is not None and not self.told and trainer.is_main_process:
                print(f"gantutor.train: {signal.Signals(self.received).name}: stopping after step {trainer.step_count}"
                      " and writing the checkpoint (again to stop at once)", file=sys.stderr, flush=True)
                self.told = True


def _check_out(args: argparse.Namespace, parser: argparse.ArgumentParser, main_process: bool) -> None:
    """Refuse an --out that is a file, not writable, or holds an earlier run (without --resume or --overwrite)."""
    out = args.out
    if args.resume and args.overwrite:
        parser.error("--resume continues the run in --out and --overwrite replaces it: give one of them")
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} is a file, not a folder: give a folder (it is created if it does not exist)")
    earlier = [name for name in RUN_FILES if (out / name).exists()]
    if earlier and not (args.resume or args.overwrite):
        parser.error(f"--out {out} holds an earlier run ({', '.join(earlier)}): add --resume to continue it, "
                     "--overwrite to replace it, or choose another --out")
    if not main_process:
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".gantutor-write-test.", dir=out)
        os.close(handle)
        os.remove(probe)
    except OSError as error:
        parser.error(f"cannot write to --out {out} ({error.strerror or error}): choose a folder you can write to")
    if args.overwrite:
        for path in [out / name for name in RUN_FILES] + sorted((out / "samples").glob("step_*.png")):
            path.unlink(missing_ok=True)
    for folder, pattern in ((out, "checkpoint.pt"), (out, "history.json"), (out / "samples", "step_*.png")):
        remove_stale_temporaries(folder, pattern)


def _check_resume_flags(args: argparse.Namespace, parser: argparse.ArgumentParser, state: dict) -> None:
    """On resume the checkpoint's settings are kept: a flag that says otherwise is an error, not ignored."""
    run = args.recipe
    generator = state["generator"].get("config") or {}
    saved_data = state.get("data") or {}
    flags = set(args.given) | (set(_RUN_FLAGS) - {"limit"} if "recipe" in args.given else set())
    flags -= {"base_width"} if args.toy else {"hidden"}
    pairs = {  # flag: (this command's value, the checkpoint's)
        "loss": (run.train.gan_loss.name, state["config"].get("loss")),
        "batch_size": (run.train.batch_size, state["config"].get("batch_size")),
        "lr_g": (run.train.lr_g, state["config"].get("lr_g")), "lr_d": (run.train.lr_d, state["config"].get("lr_d")),
        "d_steps": (run.train.d_steps, state["config"].get("d_steps")),
        "ema_decay": (run.train.ema_decay, state["config"].get("ema_decay")),
        "r1_gamma": (run.train.r1_gamma, state["config"].get("r1_gamma", 0.0)),
        "seed": (run.train.seed, state["config"].get("seed")),
        "latent_dim": (run.latent_dim, generator.get("latent_dim")),
        "base_width": (run.width, generator.get("base_width")), "hidden": (run.width, generator.get("hidden")),
        "latent_components": (run.latent_components, state["latent"].get("components")),
    }
    differ = [f"--{k.replace('_', '-')} {mine} (the run has {theirs})" for k, (mine, theirs) in pairs.items()
              if k in flags and mine != theirs]
    if "recipe" in args.given and run.num_classes != generator.get("num_classes"):
        differ.append(f"--recipe {run.name} is conditioned on {run.num_classes} classes (the run on "
                      f"{generator.get('num_classes')})")
    if differ:
        parser.error(f"--resume: this command differs from the run in {args.out}: {'; '.join(differ)}. A resumed run "
                     "keeps its checkpoint's settings: leave these flags out (or give the run's values), or start a new "
                     "run (another --out, or --overwrite)")
    if not args.toy and "limit" in saved_data and "limit" not in args.given:
        args.limit = saved_data["limit"]  # the same images as before (a given --limit is checked once loaded)


def train(argv: Sequence[str] | None = None) -> Trainer:
    """Run the command (arguments as on the command line) and return the trained :class:`Trainer`.

    Under torchrun it joins the process group (:func:`gantutor.distributed.init_distributed`);
    it leaves the group open so that a calling script can still use it.

    Raises:
        Interrupted: SIGINT or SIGTERM stopped the run (after the checkpoint was written).
    """
    stop = _StopOnSignal()
    stop.install()
    try:
        return _train(argv, stop)
    finally:
        stop.uninstall()


def _train(argv: Sequence[str] | None, stop: _StopOnSignal) -> Trainer:
    from .data import load_domain
    from .device import pick_device

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _resolve(parser.parse_args(argv), parser)
    args.argv = argv
    rank, world_size, device = init_distributed()
    if args.device is not None:
        if world_size > 1:
            parser.error("--device is for one process; under torchrun each process takes its own GPU "
                         "(or the CPU: set GANTUTOR_DEVICE=cpu)")
        device = pick_device(args.device)
    main_process = rank == 0
    _check_out(args, parser, main_process)  # before the data is loaded
    checkpoint = args.out / "checkpoint.pt"
    resuming = args.resume and checkpoint.exists()
    if args.resume and world_size > 1:  # every process must take the same branch
        found = [None] * world_size
        dist.all_gather_object(found, resuming)
        if any(found) and not all(found):
            missing = [other for other, seen in enumerate(found) if not seen]
            raise RuntimeError(f"--resume: {checkpoint} is missing for rank(s) {missing}: with several machines "
                               "--out must be a folder they all share (or copy the checkpoint to each machine)")
    if resuming:
        state = load_checkpoint(checkpoint)
        trained_on = (state.get("data") or {}).get("domain")
        if trained_on != args.domain:
            raise ValueError(f"{checkpoint} was trained on {trained_on!r}, not {args.domain!r}: "
                             "use another --out or the same --domain")
        _check_resume_flags(args, parser, state)
    domain = load_domain(args.domain, limit=None if args.toy else args.limit, verbose=main_process)
    if resuming and not args.toy and len(domain) != (state.get("data") or {}).get("limit", len(domain)):
        parser.error(f"--resume: --limit {args.limit} gives {len(domain):,} images, but the run in {args.out} trained "
                     f"on {state['data']['limit']:,}: give --limit {state['data']['limit']} (or leave it out), or "
                     "start a new run (another --out, or --overwrite)")
    callbacks = [Checkpoint(checkpoint, every=args.checkpoint_every), _RunFiles(args, args.steps), stop]
    if resuming:
        trainer = Trainer.resume(checkpoint, data=domain, device=device, callbacks=callbacks,
                                 sync_batchnorm=args.sync_batchnorm)
        if main_process:
            print(f"gantutor.train: resumed {checkpoint} at step {trainer.step_count}", flush=True)
    else:
        if args.resume and main_process:
            print(f"gantutor.train: no checkpoint in {args.out} yet, starting afresh", flush=True)
        trainer = Trainer.from_recipe(args.recipe, domain, device=device, callbacks=callbacks,
                                      sync_batchnorm=args.sync_batchnorm)
    if main_process:
        print(f"gantutor.train: {world_size} process(es) on {device}, batch {trainer.batch_size} per process, "
              f"global batch {trainer.global_batch_size}, steps {trainer.step_count} -> {args.steps}", flush=True)
    remaining = args.steps - trainer.step_count
    if stop.received is not None:  # a signal while the data loaded: nothing was trained, nothing to save
        raise Interrupted(stop.received, f"{signal.Signals(stop.received).name} before training started: nothing "
                                         "was trained")
    if remaining <= 0:
        if main_process:
            print(f"gantutor.train: the run is already at step {trainer.step_count} (--steps {args.steps})")
        return trainer
    started = time.perf_counter()
    trainer.fit(remaining, progress=False)
    if stop.received is not None and trainer.step_count < args.steps:
        raise Interrupted(stop.received, f"{signal.Signals(stop.received).name}: stopped at step "
                                         f"{trainer.step_count} of {args.steps} and wrote {checkpoint}; continue "
                                         "with the same command and --resume")
    if main_process:
        seconds = time.perf_counter() - started
        print(f"gantutor.train: {remaining} steps in {seconds:.1f} s ({remaining / seconds:.1f} steps/s); "
              f"wrote {args.out}", flush=True)
    return trainer


#: Errors that are the user's to fix: their message is the whole story.
_USER_ERRORS = (ValueError, TypeError, OSError, RuntimeError, FloatingPointError)


def main(argv: Sequence[str] | None = None) -> int:
    """The command-line entry point: 0 on success; 2 for bad arguments; 1 with a message for other errors;
    130 / 143 when SIGINT / SIGTERM stopped the run. ``--debug`` shows the traceback of an error instead."""
    argv = list(sys.argv[1:] if argv is None else argv)
    joined_here = not (dist.is_available() and dist.is_initialized())
    main_process = int(os.environ.get("RANK", "0")) == 0
    try:
        train(argv)
    except Interrupted as stopped:
        if main_process:
            print(f"gantutor.train: {stopped}", file=sys.stderr, flush=True)
        return stopped.exit_code
    except KeyboardInterrupt:
        print("gantutor.train: interrupted; the last checkpoint written stays as it was", file=sys.stderr, flush=True)
        return 130
    except Exception as error:  # noqa: BLE001 -- the command line prints one line, not a traceback
        if "--debug" in argv:
            raise
        known = isinstance(error, _USER_ERRORS)
        text = str(error) if known else (f"{type(error).__name__}: {error} -- this looks like a bug in gantutor: "
                                         "run the command again with --debug and report the traceback")
        print(f"gantutor.train: error: {text}", file=sys.stderr, flush=True)
        return 1
    finally:
        if joined_here and dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
