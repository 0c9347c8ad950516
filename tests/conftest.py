"""Fixtures shared by the tests: a tiny MNIST folder, a built book."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "executed"


def write_idx_images(path: Path, images: np.ndarray) -> None:
    """Write uint8 images (N, H, W) in the IDX format MNIST is distributed in."""
    n, h, w = images.shape
    path.write_bytes(struct.pack(">IIII", 2051, n, h, w) + images.astype(np.uint8).tobytes())


def write_idx_labels(path: Path, labels: np.ndarray) -> None:
    path.write_bytes(struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes())


@pytest.fixture()
def tiny_mnist_root(tmp_path, monkeypatch) -> Path:
    """A data root holding a 12-train / 6-test MNIST in torchvision's raw layout (no network)."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 12), ("t10k", 6)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[0] = 0
        images[0, 10:18, 10:18] = 255  # one known image: a white square on black
        write_idx_images(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx_labels(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    monkeypatch.setenv("GANTUTOR_DATA", str(tmp_path))
    monkeypatch.setenv("GANTUTOR_DOWNLOAD", "0")
    return tmp_path


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """No test may download: torchvision is never allowed to."""
    if "GANTUTOR_DOWNLOAD" not in os.environ:
        monkeypatch.setenv("GANTUTOR_DOWNLOAD", "0")


def _code_of(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return [c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _with_outputs_of(executed: Path, notebook: Path, target: Path) -> None:
    """The current notebook (its markdown may have changed since) with the outputs of its executed copy."""
    current, done = json.loads(notebook.read_text()), json.loads(executed.read_text())
    outputs = [c for c in done["cells"] if c["cell_type"] == "code"]
    for cell in (c for c in current["cells"] if c["cell_type"] == "code"):
        ran = outputs.pop(0)
        cell["outputs"], cell["execution_count"] = ran.get("outputs", []), ran.get("execution_count")
    target.write_text(json.dumps(current, indent=1, ensure_ascii=False))


def stage_book(target: Path) -> tuple[Path, list[str]]:
    """Copy the book's sources to ``target``, with the notebooks executed in this test run.

    Returns the staging folder and the notebooks that had no fresh executed copy
    (those the build must execute itself).
    """
    import yaml

    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(ROOT / "book", target / "book", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build"))
    if (ROOT / "benchmarks" / "results").exists():
        shutil.copytree(ROOT / "benchmarks" / "results", target / "benchmarks" / "results")
    missing = []
    for notebook in sorted((ROOT / "book").rglob("*.ipynb")):
        executed = EXECUTED / notebook.relative_to(ROOT)
        if executed.exists() and _code_of(executed) == _code_of(notebook):
            _with_outputs_of(executed, notebook, target / notebook.relative_to(ROOT))
        else:
            missing.append(str(notebook.relative_to(ROOT)))
    config = yaml.safe_load((target / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "cache" if missing else "off"
    (target / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return target, missing


@pytest.fixture(scope="session")
def built_book() -> dict:
    """Build the book once per session with warnings as errors; returns paths and the log."""
    staging, missing = stage_book(ROOT / "_build" / "test-book")
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
               "build", str(staging), "--warningiserror", "--keep-going", "--builder", "html"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=staging, timeout=3600)
    log = result.stdout + result.stderr
    (ROOT / "_build").mkdir(exist_ok=True)
    (ROOT / "_build" / "test-book.log").write_text(log)
    return {"returncode": result.returncode, "log": log, "html": staging / "_build" / "html",
            "executed_by_build": missing, "staging": staging}
