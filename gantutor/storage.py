"""Files that are never half-written: every file the library writes goes through here.

A file is written to a temporary file in the same folder and then renamed over its
destination (``os.replace`` is atomic on one file system): a crash, a full disk or a
Ctrl-C in the middle leaves the previous file untouched and no stray temporary file.
Checkpoints, shipped weights, sample grids, histories and benchmark results all use it.

Only ``kill -9`` (or a power cut) can leave a temporary file behind. Its name says which
process wrote it, ``.NAME.PID@HOST.RANDOM.tmp``, so the next write of ``NAME`` (and
:func:`remove_stale_temporaries`, which the command line runs on its folder at the start)
removes the temporaries of processes of this machine that no longer run -- never one that
another running process, or another machine, is still writing.

Where several processes read, change and write one file (the test suite's workers and its
timings file), :func:`locked` lets one at a time through.
"""
from __future__ import annotations

import fnmatch
import glob
import os
import re
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import torch

__all__ = ["atomic_write", "atomic_save", "atomic_write_text", "remove_stale_temporaries", "locked"]

_HOST = socket.gethostname().replace(".", "-").replace("@", "-") or "host"
_IMPORTED = time.time()  # temporaries of the old name form (no PID) older than this are stale


def _running(pid: int) -> bool:
    """Whether process ``pid`` of this machine runs (when in doubt: yes, so that nothing in use is removed)."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate it on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _parse_temporary(file_name: str) -> tuple[str, int | None, str | None]:
    """``.NAME.PID@HOST.RANDOM.tmp`` -> ``(NAME, PID, HOST)``; ``.NAME.RANDOM.tmp`` (older) -> ``(NAME, None, None)``."""
    rest = file_name[1: -len(".tmp")].rsplit(".", 1)[0]  # drop mkstemp's random part
    head, _, owner = rest.rpartition(".")
    match = re.fullmatch(r"(\d+)@([^.@]+)", owner)
    if head and match:
        return head, int(match.group(1)), match.group(2)
    return rest, None, None


def remove_stale_temporaries(folder: str | os.PathLike, name: str = "*") -> list[Path]:
    """Remove the temporary files that interrupted writes (``kill -9``) left in ``folder``.

    Only those of files called ``name`` (a glob pattern, e.g. ``"step_*.png"``), and only those
    of processes of this machine that no longer run (or, for temporaries named before PIDs were
    recorded, older than this process's import of gantutor). Returns the paths removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for tmp in folder.glob(f".{name}.*.tmp"):
        owner, pid, host = _parse_temporary(tmp.name)
        if not fnmatch.fnmatchcase(owner, name):
            continue
        try:
            if pid is not None:
                stale = host == _HOST and pid != os.getpid() and not _running(pid)
            else:
                stale = tmp.stat().st_mtime < _IMPORTED
            if stale:
                tmp.unlink()
                removed.append(tmp)
        except OSError:  # gone already, or not ours to remove
            pass
    return removed


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``.

    The folder is created if needed. The file gets the permissions of an ordinary new file
    (``0o666`` minus the umask), not the private ones of a temporary file.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: give the name of a file in it (e.g. {path / 'checkpoint.pt'})")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}@{_HOST}.", suffix=".tmp", dir=path.parent)
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
    remove_stale_temporaries(path.parent, glob.escape(path.name))
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda file: file.write(text.encode("utf-8")))


def atomic_save(obj, path: str | os.PathLike) -> Path:
    """``torch.save(obj)`` to ``path`` atomically: the previous file survives any crash mid-write."""
    return atomic_write(path, lambda file: torch.save(obj, file))


@contextmanager
def locked(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if missing) while the block runs: other
    processes that ask for the same lock wait. Where there is no ``fcntl`` (Windows) it locks nothing."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
