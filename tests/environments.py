"""Python environments that tests build, from the project's own files.

A test that needs other versions of a few packages (Colab's ipywidgets 7.7, the classic
Notebook 6.5) gets a virtual environment *layered on the environment running the tests*:
its own site-packages comes first (the pinned packages are installed there), then the site
folders of the running interpreter (``.venv``, made by ``make install`` from requirements.txt
and pyproject.toml). pip installs ``-r requirements.txt`` plus the pins into it, so everything
the tests import is either there already or installed from the project's files: nothing comes
from whatever the machine's system Python happens to hold. (A plain ``venv
--system-site-packages`` made from a venv sees the *base* interpreter's packages, not the
project's; on a machine whose system Python has only the standard library it could not
import matplotlib or torch.)

The environments are cached under ``_build/venvs/`` by a digest of requirements.txt, the pins
and the running interpreter; a build is marked complete only at its end (an interrupted or
failed build is removed and never reused); two tests that need the same environment at once (a
parallel run) wait for one build under a lock. ``make clean`` removes them.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / "_build" / "venvs"

# The Colab stand-in: Colab's runtime has ipywidgets 7.7 (see tests/test_colab.py) and the classic
# Notebook 6.5 server package; pip then picks the ipykernel 6 / jupyter_client 7 that Notebook 6.5 needs.
COLAB_LIKE = ("ipywidgets>=7.7,<7.8", "notebook>=6.5,<6.6")

UNREACHABLE = ("Connection", "connection", "Temporary failure", "Max retries", "No matching distribution",
               "Could not fetch", "Network is unreachable")


def parent_site_folders() -> list[str]:
    """The site folders the running interpreter imports from (the project's environment)."""
    return [p for p in dict.fromkeys(sys.path) if p and Path(p).name in ("site-packages", "dist-packages")]


def python_of(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")


def _site_packages(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Lib" / "site-packages"
    return next((venv / "lib").glob("python3*/site-packages"))


def layered_venv(name: str, pins: tuple[str, ...] = COLAB_LIKE, timeout: int = 900) -> Path:
    """A venv with ``requirements.txt`` and ``pins`` installed, layered on the running environment.

    Returns its Python. Skips the calling test when the package registry cannot be reached
    (in CI, where ``CI`` is set, it fails instead).
    """
    from gantutor.storage import locked

    with locked(VENVS / f"{name}.lock"):  # one build at a time: the workers of make test run in parallel
        return _layered_venv(name, pins, timeout)


def _layered_venv(name: str, pins: tuple[str, ...], timeout: int) -> Path:
    requirements = (ROOT / "requirements.txt").read_text()
    key = "\n".join([requirements, *pins, sys.executable, sys.version, *parent_site_folders()])
    venv = VENVS / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    if (venv / ".complete").exists():
        return python_of(venv)
    VENVS.mkdir(parents=True, exist_ok=True)
    for old in VENVS.glob(f"{name}-*"):  # an older version of this environment (other pins or requirements)
        shutil.rmtree(old, ignore_errors=True)
    started = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        lines = [f"import site; site.addsitedir({folder!r})" for folder in parent_site_folders()]
        (_site_packages(venv) / "_gantutor_parent_environment.pth").write_text("\n".join(lines) + "\n")
        install = subprocess.run([str(python_of(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                                  "-r", str(ROOT / "requirements.txt"), *pins],
                                 capture_output=True, text=True, timeout=timeout)
        if install.returncode != 0:
            text = install.stdout + install.stderr
            shutil.rmtree(venv, ignore_errors=True)
            if any(word in text for word in UNREACHABLE) and not os.environ.get("CI"):
                pytest.skip(f"pip cannot reach the package registry to build the {name} environment: {text.strip()[-300:]}")
            pytest.fail(f"building the {name} environment ({', '.join(pins)}) failed:\n{text[-3000:]}")
        (venv / ".complete").write_text(f"built in {time.perf_counter() - started:.0f} s with {', '.join(pins)}\n")
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)
        raise
    return python_of(venv)


def version_in(python: Path, module: str) -> str:
    """``module.__version__`` as the environment of ``python`` imports it."""
    return subprocess.run([str(python), "-c", f"import {module}; print({module}.__version__)"],
                          capture_output=True, text=True, check=True, timeout=120).stdout.strip()
