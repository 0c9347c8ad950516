"""Files that are never half-written: every file the library writes goes through here.

A file is written to a temporary file in the same folder and then renamed over its
destination (``os.replace`` is atomic on one file system): a crash, a full disk or a
Ctrl-C in the middle leaves the previous file untouched and no stray temporary file.
Checkpoints, shipped weights, sample grids, histories and benchmark results all use it.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

import torch

__all__ = ["atomic_write", "atomic_save", "atomic_write_text"]


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``.

    The folder is created if needed. The file gets the permissions of an ordinary new file
    (``0o666`` minus the umask), not the private ones of a temporary file.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda file: file.write(text.encode("utf-8")))


def atomic_save(obj, path: str | os.PathLike) -> Path:
    """``torch.save(obj)`` to ``path`` atomically: the previous file survives any crash mid-write."""
    return atomic_write(path, lambda file: torch.save(obj, file))
