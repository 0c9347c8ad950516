r"""Shipped pretrained weights: load by name, verified by sha256, rebuilt by one command.

Long training runs are done once, by a command of this module, and their weights ship
inside the package (``gantutor/assets/``) next to ``manifest.json``, which records for
every file its sha256, size, the command that rebuilds it, the seed, steps, wall time,
device, and its measured quality. The chapters *load* these instead of re-training.

Names and what ``load(name)`` returns:

* ``"feature-net"``: a :class:`~gantutor.metrics.FeatureNet` (eval mode), the classifier whose
  features the metrics use; classes ``"domain:label"``.
* ``"dcgan-mnist"``: a :class:`PretrainedGAN` ``(generator, discriminator)`` trained on ``mnist``,
  the source model that chapter 7 adapts.
* ``"dcgan-glyphs"``: a :class:`PretrainedGAN` trained on ``glyphs``.
* ``"dcgan-mnist-snapshots"``: a list of ``(step, generator)``, the raw (non-EMA) generator of the
  ``dcgan-mnist`` run at a few steps, stored in fp16 (chapter 6 chooses a checkpoint with them);
  written by ``rebuild dcgan-mnist``.

Both GANs are the library's DCGAN (:class:`~gantutor.nets.Generator` and
:class:`~gantutor.nets.Discriminator`) with ``latent_dim=64`` and ``base_width=32``,
trained by :class:`~gantutor.train.Trainer` (non-saturating loss, Adam 2e-4, β=(0.5, 0.999),
batch 64) with an EMA of G's weights (decay 0.999); ``generator`` is the EMA generator.

>>> from gantutor.pretrained import load
>>> G, D = load("dcgan-mnist")            # or: gan = load("dcgan-mnist"); gan.generator
>>> net = load("feature-net"); net.classes[:3]
['mnist:0', 'mnist:1', 'mnist:2']

Rebuild a file (it overwrites the asset and its manifest entry)::

    python -m gantutor.pretrained rebuild feature-net
    python -m gantutor.pretrained rebuild dcgan-mnist      # also writes dcgan-mnist-snapshots
    python -m gantutor.pretrained verify                   # check every file against the manifest
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from .data.images import jitter
from .device import describe_machine, pick_device, seed_everything

__all__ = ["load", "rebuild", "verify", "manifest", "asset_dir", "PretrainedGAN", "AssetError", "NAMES",
           "FEATURE_DOMAINS", "GAN_CONFIG", "SNAPSHOT_STEPS"]

FORMAT = "gantutor.pretrained/1"
MANIFEST = "manifest.json"

#: The offline image domains the feature network is trained on (train splits only).
FEATURE_DOMAINS = ("mnist", "digits", "glyphs", "mnist-edges", "mnist-negative")

#: Architecture and training settings of both shipped GANs.
GAN_CONFIG = dict(latent_dim=64, base_width=32, batch_size=64, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999),
                  loss="non-saturating", ema_decay=0.999)

#: Steps of the ``dcgan-mnist`` run at which the raw generator is kept (``dcgan-mnist-snapshots``).
SNAPSHOT_STEPS = (100, 250, 500, 1000, 1500, 2000, 3000, 4000)

#: name -> (file name, default steps, seed, which rebuild writes it)
_ASSETS = {
    "feature-net": ("feature-net.pt", 2000, 0, "feature-net"),
    "dcgan-mnist": ("dcgan-mnist.pt", 4000, 0, "dcgan-mnist"),
    "dcgan-mnist-snapshots": ("dcgan-mnist-snapshots.pt", 4000, 0, "dcgan-mnist"),
    "dcgan-glyphs": ("dcgan-glyphs.pt", 4000, 0, "dcgan-glyphs"),
}
NAMES = tuple(_ASSETS)


class AssetError(RuntimeError):
    """A shipped file is missing, altered, or not what its manifest says."""


def asset_dir() -> Path:
    """The folder of the shipped weights (``gantutor/assets``)."""
    return Path(__file__).resolve().parent / "assets"


def _rebuild_command(name: str) -> str:
    return f"python -m gantutor.pretrained rebuild {_ASSETS[name][3]}"


def _check_name(name: str) -> None:
    if name not in _ASSETS:
        raise ValueError(f"unknown pretrained asset {name!r}; known: {', '.join(NAMES)}")


def manifest(root: str | os.PathLike | None = None) -> dict:
    """The manifest: ``{"format": ..., "assets": {name: entry}}`` (empty if there is none)."""
    path = Path(root or asset_dir()) / MANIFEST
    if not path.exists():
        return {"format": FORMAT, "assets": {}}
    return json.loads(path.read_text())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified_path(name: str, root: Path) -> tuple[Path, dict]:
    """The asset's path after checking it exists and matches its manifest entry."""
    entry = manifest(root)["assets"].get(name)
    fix = f"Rebuild it with `{_rebuild_command(name)}` (or reinstall gantutor)."
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

    Returns ``{name: True}`` for every file that matches; raises :class:`AssetError` otherwise.
    """
    root = Path(root or asset_dir())
    names = [name] if name is not None else list(manifest(root)["assets"])
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
    from .metrics import FeatureNet
    from .nets import build, load_weights

    if described["class"] == "FeatureNet":
        net = FeatureNet(**described["config"])
    else:
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
        ``"feature-net"``: a :class:`~gantutor.metrics.FeatureNet`; ``"dcgan-*"``: a
        :class:`PretrainedGAN`; ``"dcgan-mnist-snapshots"``: a list of ``(step, generator)``.
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
    if name.endswith("-snapshots"):
        return [(int(step), _net_from(described, source).to(device))
                for step, described in zip(state["steps"], state["generators"])]
    return PretrainedGAN(_net_from(state["generator"], source).to(device),
                         _net_from(state["discriminator"], source).to(device), info=entry)


# --------------------------------------------------------------------------- rebuilding

def _described(net: torch.nn.Module, half: bool = False) -> dict:
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    if half:
        state = {k: v.half() if torch.is_floating_point(v) else v for k, v in state.items()}
    return {"class": type(net).__name__, "config": dict(net.config), "state": state}


def _write(root: Path, name: str, payload: dict, entry: dict) -> dict:
    """Save ``payload`` as the asset ``name`` and record ``entry`` (+ sha256, size) in the manifest."""
    from .train import atomic_save

    file = _ASSETS[name][0]
    path = atomic_save({"format": FORMAT, "name": name, **payload}, root / file)
    path.chmod(0o644)  # package data: readable by everyone (the temporary file was private)
    entry = {"file": file, "sha256": _sha256(path), "size": path.stat().st_size,
             "rebuild": _rebuild_command(name), **entry}
    current = manifest(root)
    current["format"] = FORMAT
    current["assets"][name] = entry
    current["assets"] = dict(sorted(current["assets"].items()))
    tmp = root / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(current, indent=2) + "\n")
    os.replace(tmp, root / MANIFEST)
    return entry


JUNK_CLASS = "other:junk"


def _junk(n: int, generator: torch.Generator) -> torch.Tensor:
    """Images that are no domain's: blank or constant, uniform noise, noisy levels, smooth blobs of noise."""
    kind = torch.randint(4, (n, 1, 1, 1), generator=generator)
    level = torch.rand(n, 1, 1, 1, generator=generator) * 2 - 1
    uniform = torch.rand(n, 1, 28, 28, generator=generator) * 2 - 1
    noisy = level + 0.5 * torch.rand(n, 1, 1, 1, generator=generator) * torch.randn(n, 1, 28, 28, generator=generator)
    blobs = F.interpolate(torch.randn(n, 1, 7, 7, generator=generator), size=28, mode="bilinear", align_corners=False)
    blobs = torch.tanh(2 * blobs + level)
    images = torch.where(kind == 0, level.expand(n, 1, 28, 28), torch.where(kind == 1, uniform,
                         torch.where(kind == 2, noisy, blobs)))
    return images.clamp(-1, 1)


def _feature_data(split: str, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor, list[str], dict]:
    from .data import load_domain

    images, labels, classes, sources = [], [], [], {}
    for domain_name in FEATURE_DOMAINS:
        domain = load_domain(domain_name, split=split, limit=limit, verbose=False)
        images.append(domain.images)
        labels.append(domain.labels + len(classes))
        classes += [f"{domain_name}:{c}" for c in domain.classes]
        sources[domain_name] = domain.source
    return torch.cat(images), torch.cat(labels), classes, sources


def feature_accuracy(net, limit: int | None = None) -> dict[str, float]:
    """Accuracy (over all ``domain:label`` classes) of ``net`` on each domain's test split."""
    from .data import load_domain
    from .metrics import class_probabilities

    result = {}
    offset = 0
    for domain_name in FEATURE_DOMAINS:
        domain = load_domain(domain_name, split="test", limit=limit, verbose=False)
        offset = net.classes.index(f"{domain_name}:{domain.classes[0]}")
        predicted = class_probabilities(domain.images, net).argmax(dim=1)
        result[domain_name] = round(float((predicted == domain.labels + offset).float().mean()), 4)
    return result


def _rebuild_feature_net(root: Path, steps: int, seed: int, device: torch.device, progress: bool,
                         limit: int | None) -> list[dict]:
    from .metrics import FeatureNet

    generator = seed_everything(seed)
    images, labels, classes, sources = _feature_data("train", limit)
    classes = classes + [JUNK_CLASS]
    net = FeatureNet(classes).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=max(steps, 2))
    batch_size = 128
    started = time.perf_counter()
    net.train()
    for step in range(1, steps + 1):
        index = torch.randint(len(images), (batch_size - batch_size // 8,), generator=generator)
        augmented = jitter(images[index], generator, shift=2.0, padding_mode="border")
        batch = torch.cat([augmented, _junk(batch_size // 8, generator)]).to(device)
        target = torch.cat([labels[index], torch.full((batch_size // 8,), len(classes) - 1)]).to(device)
        loss = F.cross_entropy(net(batch), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if progress and (step % 250 == 0 or step == steps):
            print(f"feature-net: step {step}/{steps}  loss {loss.item():.3f}  {time.perf_counter() - started:.0f}s",
                  flush=True)
    wall = time.perf_counter() - started
    net = net.cpu().eval()
    accuracy = feature_accuracy(net, limit)
    if progress:
        print(f"feature-net: test accuracy {accuracy}")
    entry = {
        "seed": seed, "steps": steps, "wall_time_s": round(wall, 1), "device": describe_machine(device),
        "architecture": {"class": "FeatureNet", "width": net.config["width"], "feature_dim": net.feature_dim,
                         "num_classes": len(classes)},
        "training": {"domains": list(FEATURE_DOMAINS), "split": "train", "images": len(images),
                     "batch_size": batch_size, "optimizer": "Adam, one-cycle lr up to 2e-3",
                     "augment": "random rotation ±10°, scale 0.9-1.1, shift ±2 px",
                     "junk_class": f"{JUNK_CLASS}: 1/8 of every batch is blank, constant, noise or smooth blobs",
                     "sources": sources},
        "quality": {"test_accuracy": accuracy},
    }
    written = [_write(root, "feature-net", {"net": _described(net)}, entry)]
    if root.resolve() == asset_dir().resolve():
        from . import metrics

        metrics._FEATURE_NET = None  # the next feature_net() loads the new file
    return written


def gan_quality(generator: torch.nn.Module, domain_name: str, n: int | None = None, seed: int = 0) -> dict:
    """FD and KID of ``generator`` against the held-out (test) images of ``domain_name``."""
    from .metrics import evaluate

    result = evaluate(generator, domain_name, n=n, seed=seed)
    return {k: result[k] for k in ("n", "fd", "kid", "kid_std", "precision", "recall", "fd_floor",
                                               "confident_share", "confident_share_real", "classes_covered")
            if k in result}


def _rebuild_gan(domain_name: str, root: Path, steps: int, seed: int, device: torch.device, progress: bool,
                 limit: int | None) -> list[dict]:
    from .data import load_domain
    from .nets import Discriminator, Generator
    from .train import Callback, Trainer

    name = f"dcgan-{domain_name}"
    seed_everything(seed)
    data = load_domain(domain_name, split="train", limit=limit, verbose=progress)
    cfg = GAN_CONFIG
    generator = Generator(latent_dim=cfg["latent_dim"], base_width=cfg["base_width"])
    discriminator = Discriminator(base_width=cfg["base_width"])
    trainer = Trainer(generator, discriminator, data, loss=cfg["loss"], batch_size=cfg["batch_size"],
                      lr_g=cfg["lr_g"], lr_d=cfg["lr_d"], betas=cfg["betas"], ema_decay=cfg["ema_decay"],
                      device=device, seed=seed)
    snapshot_steps = sorted({s for s in SNAPSHOT_STEPS if s < steps} | {steps})
    snapshots: list[tuple[int, dict]] = []

    class KeepSnapshots(Callback):
        def on_step_end(self, t: Trainer) -> None:
            if t.step_count in snapshot_steps:
                snapshots.append((t.step_count, _described(t.generator, half=True)))
            if progress and t.step_count % 500 == 0:
                h = t.history
                print(f"{name}: step {t.step_count}/{steps}  d_loss {h['d_loss'][-1]:.3f}  "
                      f"g_loss {h['g_loss'][-1]:.3f}  {h['time'][-1]:.0f}s", flush=True)

    started = time.perf_counter()
    trainer.fit(steps, progress=False, callbacks=[KeepSnapshots()])
    wall = time.perf_counter() - started
    ema = trainer.ema_generator.cpu().eval()
    quality = gan_quality(ema, domain_name, n=None if limit is None else min(limit, 200), seed=seed)
    quality["raw_generator"] = gan_quality(trainer.generator.cpu().eval(), domain_name,
                                           n=None if limit is None else min(limit, 200), seed=seed)
    if progress:
        print(f"{name}: {quality}")
    entry = {
        "seed": seed, "steps": steps, "wall_time_s": round(wall, 1), "device": describe_machine(device),
        "architecture": {"generator": {"class": "Generator", **generator.config},
                         "discriminator": {"class": "Discriminator", **discriminator.config}},
        "training": {"domain": domain_name, "split": "train", "images": len(data), "source": data.source,
                     "trainer": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()
                                 if k not in ("latent_dim", "base_width")},
                     "generator_weights": "EMA of G (decay 0.999)"},
        "quality": quality,
    }
    written = [_write(root, name, {"generator": _described(ema), "discriminator": _described(trainer.discriminator.cpu().eval())},
                      entry)]
    if domain_name == "mnist":
        snap_entry = {"seed": seed, "steps": steps, "wall_time_s": round(wall, 1), "device": describe_machine(device),
                      "snapshot_steps": [s for s, _ in snapshots], "dtype": "float16 (loaded as float32)",
                      "training": {"same run as": "dcgan-mnist", "generator_weights": "raw G (not the EMA)"}}
        written.append(_write(root, "dcgan-mnist-snapshots",
                              {"steps": [s for s, _ in snapshots], "generators": [d for _, d in snapshots]},
                              snap_entry))
    return written


def rebuild(name: str, steps: int | None = None, out: str | os.PathLike | None = None, seed: int | None = None,
            device: torch.device | str | None = None, progress: bool = True, limit: int | None = None) -> list[dict]:
    """Train an asset again and write it (and its manifest entry) to ``out`` (default: the package's assets).

    Args:
        name: ``"feature-net"``, ``"dcgan-mnist"`` (also writes ``dcgan-mnist-snapshots``) or ``"dcgan-glyphs"``.
        steps: training steps (default: those of the shipped file). A small number is a smoke test.
        out: the folder to write to (and whose ``manifest.json`` to update).
        seed: the seed (default: the shipped file's).
        device: where to train (default: :func:`gantutor.device.pick_device`).
        progress: print progress.
        limit: use only the first ``limit`` images of every split (smoke tests).

    Returns:
        the manifest entries written.
    """
    _check_name(name)
    target = _ASSETS[name][3]
    default_steps, default_seed = _ASSETS[target][1], _ASSETS[target][2]
    steps = default_steps if steps is None else int(steps)
    seed = default_seed if seed is None else int(seed)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    root = Path(out or asset_dir())
    root.mkdir(parents=True, exist_ok=True)
    device = torch.device(device) if device is not None else pick_device()
    if target == "feature-net":
        return _rebuild_feature_net(root, steps, seed, device, progress, limit)
    return _rebuild_gan(target.removeprefix("dcgan-"), root, steps, seed, device, progress, limit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gantutor.pretrained", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("rebuild", help="train an asset again and write it with its manifest entry")
    build.add_argument("name", choices=[n for n in NAMES if not n.endswith("-snapshots")])
    build.add_argument("--steps", type=int, default=None)
    build.add_argument("--seed", type=int, default=None)
    build.add_argument("--out", default=None, help="folder to write to (default: the package's assets)")
    build.add_argument("--device", default=None)
    build.add_argument("--threads", type=int, default=None,
                       help="torch CPU threads (1 trains fastest on a busy shared machine)")
    check = commands.add_parser("verify", help="check every shipped file against the manifest")
    check.add_argument("--root", default=None)
    commands.add_parser("list", help="list the assets with their size and quality")
    args = parser.parse_args(argv)
    if args.command == "rebuild":
        if args.threads:
            torch.set_num_threads(args.threads)
        for entry in rebuild(args.name, steps=args.steps, out=args.out, seed=args.seed, device=args.device):
            print(json.dumps(entry, indent=2))
    elif args.command == "verify":
        try:
            checked = verify(root=args.root)
        except AssetError as err:
            print(f"FAILED: {err}", file=sys.stderr)
            return 1
        print(f"ok: {', '.join(checked)}")
    else:
        for name, entry in manifest()["assets"].items():
            print(f"{name:24s} {entry['size'] / 1e6:6.2f} MB  {entry['rebuild']}  quality={entry.get('quality')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
