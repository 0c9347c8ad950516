"""Where the book's code runs, and how it is made repeatable.

``pick_device()`` chooses CUDA, then Apple's MPS, then the CPU; nothing in the
book hard-codes ``"cuda"``. ``seed_everything(seed)`` seeds Python, NumPy and
PyTorch so that the same seed on the same machine (CPU) gives the same numbers.
"""
from __future__ import annotations

import os
import random
import sys

import numpy as np
import torch

__all__ = ["pick_device", "seed_everything", "on_colab", "describe_machine", "set_threads"]


def pick_device(prefer: str | None = None, verbose: bool = False) -> torch.device:
    """Return the best available device: ``cuda`` > ``mps`` > ``cpu``.

    Args:
        prefer: force a device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).
            The environment variable ``GANTUTOR_DEVICE`` does the same for a whole run.
        verbose: print the choice.

    Raises:
        ValueError: if ``prefer`` names a device that is not available here.
    """
    prefer = prefer or os.environ.get("GANTUTOR_DEVICE") or None
    if prefer is not None:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device {prefer!r} was asked for but CUDA is not available here; "
                "use pick_device() without an argument (or unset GANTUTOR_DEVICE) to fall back to the CPU"
            )
        if device.type == "mps" and not _mps_available():
            raise ValueError(
                f"device {prefer!r} was asked for but Apple's MPS backend is not available here; "
                "use pick_device() without an argument to fall back to the CPU"
            )
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    elif _mps_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    if verbose:
        print(f"gantutor: using {describe_machine(device)}")
    return device


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def seed_everything(seed: int) -> torch.Generator:
    """Seed ``random``, NumPy and PyTorch (CPU and every CUDA device).

    Returns a CPU ``torch.Generator`` seeded with ``seed`` for code that wants its
    own stream of random numbers.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)


def on_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def describe_machine(device: torch.device | str | None = None) -> str:
    """One line naming the device: GPU model, or CPU with its thread count."""
    device = torch.device(device) if device is not None else pick_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)}), torch {torch.__version__}"
    if device.type == "mps":
        return f"mps (Apple GPU), torch {torch.__version__}"
    return f"cpu ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads), torch {torch.__version__}"


def set_threads(threads: int | None = None, verbose: bool = False) -> int:
    """Set how many CPU threads PyTorch uses in this process; returns the number set.

    Args:
        threads: the number; ``None`` applies the book's rule (one thread, see
            ``benchmarks/results/threads.json``). The environment variable ``GANTUTOR_THREADS``
            overrides both, for a whole run.
        verbose: print the choice.
    """
    chosen = os.environ.get("GANTUTOR_THREADS") or threads
    chosen = 1 if chosen is None else int(chosen)
    if chosen < 1:
        raise ValueError(f"threads must be at least 1, got {chosen}")
    if torch.get_num_threads() != chosen:
        torch.set_num_threads(chosen)
    if verbose:
        print(f"gantutor: torch uses {chosen} CPU thread{'s' if chosen > 1 else ''}")
    return chosen
