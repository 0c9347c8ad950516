r"""Shipped pretrained weights: load by name, verified by sha256, rebuilt by one command.

Long training runs are done once, by a command of this module, and their weights ship
inside the package (``gantutor/assets/``) next to ``manifest.json``, which records for
every file its sha256, size, the command that rebuilds it, the seed, steps, wall time,
device, and its measured quality. The chapters *load* these instead of re-training.

Names and what ``load(name)`` returns:

* ``"feature-net"``: a :class:`~gantutor.nets.FeatureNet` (eval mode), the classifier whose
  features the metrics use; classes ``"domain:label"``.
* ``"dcgan-mnist"``: a :class:`PretrainedGAN` ``(generator, discriminator)`` trained on ``mnist``
  with chapter 5's recipe for 20,000 steps (chapter 6 measures it).
* ``"cgan-mnist"``: a class-conditional :class:`PretrainedGAN` (``num_classes=10``) trained on
  ``mnist``: chapter 7's source that keeps the labels.
* ``"dcgan-glyphs"``: a :class:`PretrainedGAN` trained on ``glyphs``.
* ``"dcgan-mnist-snapshots"``: a list of ``(step, generator)``, the raw (non-EMA) generator of the
  ``dcgan-mnist`` run at a few steps, stored in fp16 (chapter 6 chooses a checkpoint with them);
  written by ``rebuild dcgan-mnist``.
* ``"cogan-edges"``, ``"cogan-negative"``: chapter 8's coupled generators
  (:class:`~gantutor.coupled.CoupledGenerator`, the moving average, eval mode, stored in fp16) for
  MNIST and its outlines / its negatives, trained on disjoint halves of the digits; the generator
  carries its prior of z (``N(0, I)`` for the outlines, chapter 5's mixture of 50 islands for the negatives).
* ``"chapter-5-run"``, ``"chapter-5-cgan-run"``: chapter 5's two runs, trained once with the
  chapter's recipes, as a :class:`~gantutor.train.Trainer` (weights, moving average, history):
  what the chapter's switch ``LOAD_SHIPPED = True`` loads instead of training.

The GANs are the library's DCGAN (:class:`~gantutor.nets.Generator` and
:class:`~gantutor.nets.Discriminator`), trained by :class:`~gantutor.train.Trainer` with the
recipes of the same names in :mod:`gantutor.recipes`; ``generator`` is the moving average (EMA)
of G's weights.

>>> from gantutor.pretrained import load
>>> G, D = load("dcgan-mnist")            # or: gan = load("dcgan-mnist"); gan.generator
>>> net = load("feature-net"); net.classes[:3]
['mnist:0', 'mnist:1', 'mnist:2']

This module loads and verifies; :mod:`gantutor.pretrained.rebuild` trains the files again.
Rebuild a file (it overwrites the asset and its manifest entry)::

    python -m gantutor.pretrained rebuild feature-net
    python -m gantutor.pretrained rebuild dcgan-mnist      # also writes dcgan-mnist-snapshots
    python -m gantutor.pretrained rebuild chapter-5-run    # chapter 5's run, as the chapter trains it
    python -m gantutor.pretrained verify                   # check every file against the manifest
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..nets import build, load_weights

__all__ = ["load", "verify", "manifest", "asset_dir", "PretrainedGAN", "AssetError", "NAMES", "ASSETS"]

FORMAT = "gantutor.pretrained/1"
MANIFEST = "manifest.json"

#: name -> (file name, the ``rebuild`` that writes it)
ASSETS = {
    "feature-net": ("feature-net.pt", "feature-net"),
    "dcgan-mnist": ("dcgan-mnist.pt", "dcgan-mnist"),
    "dcgan-mnist-snapshots": ("dcgan-mnist-snapshots.pt", "dcgan-mnist"),
    "dcgan-glyphs": ("dcgan-glyphs.pt", "dcgan-glyphs"),
    "cgan-mnist": ("cgan-mnist.pt", "cgan-mnist"),
    "chapter-5-run": ("chapter-5-run.pt", "chapter-5-run"),
    "chapter-5-cgan-run": ("chapter-5-cgan-run.pt", "chapter-5-cgan-run"),
    "cogan-edges": ("cogan-edges.pt", "cogan-edges"),
    "cogan-negative": ("cogan-negative.pt", "cogan-negative"),
}
NAMES = tuple(ASSETS)


class AssetError(RuntimeError):
    """A shipped file is missing, altered, or not what its manifest says."""


def asset_dir() -> Path:
    """The folder of the shipped weights (``gantutor/assets``)."""
    return Path(__file__).resolve().parent.parent / "assets"


def _rebuild_command(name: str) -> str:
    return f"python -m gantutor.pretrained rebuild {ASSETS[name][1]}"


def _check_name(name: str) -> None:
    if name not in ASSETS:
        raise ValueError(f"unknown pretrained asset {name!r}; known: {', '.join(NAMES)}")


def manifest(root: str | os.PathLike | None = None) -> dict:
    """The manifest: ``{"format": ..., "assets": {name: entry}}`` (empty if there is none).

    Raises:
        AssetError: the file is there but not a manifest (not JSON, or entries without file, sha256, size).
    """
    path = Path(root or asset_dir()) / MANIFEST
    if not path.exists():
        return {"format": FORMAT, "assets": {}}
    fix = "Restore it (reinstall gantutor) or rebuild the assets (python -m gantutor.pretrained rebuild NAME)."
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise AssetError(f"the manifest {path} is not valid JSON ({err.msg} at line {err.lineno}, column "
                         f"{err.colno}). {fix}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise AssetError(f"the manifest {path} cannot be read ({err}). {fix}") from None
    assets = data.get("assets") if isinstance(data, dict) else None
    if not isinstance(assets, dict):
        raise AssetError(f"the manifest {path} has no \"assets\" table. {fix}")
    broken = sorted(name for name, entry in assets.items()
                    if not isinstance(entry, dict) or not {"file", "sha256", "size"} <= set(entry))
    if broken:
        raise AssetError(f"the manifest {path} has entries without file, sha256 and size: {', '.join(broken)}. {fix}")
    return data


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified_path(name: str, root: Path) -> tuple[Path, dict]:
    """The asset's path after checking it exists and matches its manifest entry."""
    fix = f"Rebuild it with `{_rebuild_command(name)}` (or reinstall gantutor)."
    if not root.is_dir():
        raise AssetError(f"the folder of pretrained assets {root} does not exist. {fix}")
    entry = manifest(root)["assets"].get(name)
    if entry is None:
        raise AssetError(f"the pretrained asset {name!r} is not in the manifest {root / MANIFEST}. {fix}")
    path = root / entry["file"]
    if not path.exists():
        raise AssetError(f"the pretrained asset {name!r} is missing: no file {path}. {fix}")
    size, digest = path.stat().st_size, _sha256(path)
    if size != entry["size"] or digest != entry["sha256"]:
        raise AssetError(
            f"the pretrained asset {name!r} ({path}) does not match its manifest: sha256 {digest[:16]}... "
            f"({size:,} bytes), expected {entry['sha256'][:16]}... ({entry['size']:,} bytes). The file is "
            f"altered or truncated. {fix}")
    return path, entry


def verify(name: str | None = None, root: str | os.PathLike | None = None) -> dict[str, bool]:
    """Check one asset (or every asset in the manifest) against its sha256 and size.

    Returns ``{name: True}`` for every file that matches; raises :class:`AssetError` otherwise, also when
    ``root`` or its manifest does not exist, or the manifest lists nothing (there is nothing to vouch for).
    """
    root = Path(root or asset_dir())
    if not root.is_dir():
        raise AssetError(f"there is no folder {root} to verify: pass the folder that holds {MANIFEST} and the weights")
    if not (root / MANIFEST).exists():
        raise AssetError(f"there is no manifest {root / MANIFEST}: without it nothing can be verified. Reinstall "
                         "gantutor, or rebuild the assets (python -m gantutor.pretrained rebuild NAME)")
    names = [name] if name is not None else list(manifest(root)["assets"])
    if not names:
        raise AssetError(f"the manifest {root / MANIFEST} lists no assets: there is nothing to verify")
    for item in names:
        _check_name(item)
        _verified_path(item, root)
    return {item: True for item in names}


@dataclass
class PretrainedGAN:
    """A shipped GAN: ``generator`` (the EMA weights) and ``discriminator``, both in eval mode.

    Unpacks like a pair: ``G, D = load("dcgan-mnist")``. ``info`` is the manifest entry
    (training settings, data source, quality).
    """

    generator: torch.nn.Module
    discriminator: torch.nn.Module
    info: dict = field(default_factory=dict)

    def __iter__(self):
        return iter((self.generator, self.discriminator))

    @property
    def latent_dim(self) -> int:
        return self.generator.latent_dim


def _read(path: Path, name: str) -> dict:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("name") != name:
        raise AssetError(f"{path} is not the pretrained asset {name!r}. Rebuild it with `{_rebuild_command(name)}`.")
    return state


def _as_float32(state: dict) -> dict:
    return {k: v.float() if torch.is_floating_point(v) else v for k, v in state.items()}


def _net_from(described: dict, source: str) -> torch.nn.Module:
    net = build({"class": described["class"], "config": described["config"]})
    load_weights(net, _as_float32(described["state"]), source)
    return net.eval()


def load(name: str, root: str | os.PathLike | None = None, device: torch.device | str | None = None):
    """Load a shipped asset by name, after checking its sha256 against the manifest.

    Args:
        name: one of :data:`NAMES` (see the table in the module docstring).
        root: the folder holding the files and ``manifest.json`` (default: the package's assets).
        device: where to put the modules (default: the CPU).

    Returns:
        ``"feature-net"``: a :class:`~gantutor.nets.FeatureNet`; ``"dcgan-*"``: a
        :class:`PretrainedGAN`; ``"dcgan-mnist-snapshots"``: a list of ``(step, generator)``;
        ``"cogan-*"``: a :class:`~gantutor.coupled.CoupledGenerator`.
        Every module is float32 and in eval mode (call ``.train()`` to fine-tune it).

    Raises:
        AssetError: the file is missing or altered; the message names the rebuild command.
    """
    _check_name(name)
    root = Path(root or asset_dir())
    path, entry = _verified_path(name, root)
    state = _read(path, name)
    device = torch.device(device) if device is not None else torch.device("cpu")
    source = f"pretrained asset {name!r}"
    if name == "feature-net":
        return _net_from(state["net"], source).to(device)
    if name.startswith("cogan-"):
        return _net_from(state["generator"], source).to(device)
    if name.endswith("-run"):
        from ..train import Trainer

        return Trainer.resume(state["trainer"], device=device)
    if name.endswith("-snapshots"):
        return [(int(step), _net_from(described, source).to(device))
                for step, described in zip(state["steps"], state["generators"])]
    return PretrainedGAN(_net_from(state["generator"], source).to(device),
                         _net_from(state["discriminator"], source).to(device), info=entry)
