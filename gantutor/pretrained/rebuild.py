r"""Rebuilding the shipped weights: every file of ``gantutor/assets`` is trained again by one command.

::

    python -m gantutor.pretrained rebuild feature-net
    python -m gantutor.pretrained rebuild dcgan-mnist      # also writes dcgan-mnist-snapshots
    python -m gantutor.pretrained rebuild dcgan-glyphs
    python -m gantutor.pretrained rebuild cgan-mnist
    python -m gantutor.pretrained rebuild chapter-5-run    # and chapter-5-cgan-run: chapter 5's runs
    python -m gantutor.pretrained rebuild cogan-edges      # and cogan-negative: chapter 8's coupled GANs

Each rebuild writes the file atomically and records in ``manifest.json`` its sha256 and size,
the seed, steps, wall time and device, the recipe (:mod:`gantutor.recipes`) and the measured
quality. :mod:`gantutor.pretrained` loads and verifies what this module writes.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ..coupled import CODE
from ..data import load_domain
from ..data.images import jitter
from ..device import describe_machine, pick_device, seed_everything
from ..metrics import class_probabilities, evaluate
from ..nets import FEATURE_DOMAINS, REJECT_CLASS, FeatureNet
from ..recipes import recipe
from ..storage import atomic_save, atomic_write_text
from ..train import Callback, Trainer
from . import ASSETS, FORMAT, MANIFEST, _check_name, _rebuild_command, _sha256, asset_dir, manifest

__all__ = ["rebuild", "feature_accuracy", "gan_quality", "junk_images", "SNAPSHOT_STEPS", "FEATURE_STEPS", "COGAN_STEPS",
           "COGAN_PRIORS", "COGAN_R1", "COGAN_INFO"]

#: Steps of the ``dcgan-mnist`` run at which the raw generator is kept (``dcgan-mnist-snapshots``).
SNAPSHOT_STEPS = (250, 500, 1000, 2000, 4000, 8000, 14000, 20000)

#: Training steps of the shipped coupled GANs (chapter 8).
COGAN_STEPS = {"cogan-edges": 20000, "cogan-negative": 10000}  # outlines need the longer run

#: The prior of z of each shipped coupled GAN: InfoGAN's code prior (50 values; chapter 8 compares it
#: with N(0, I) and chapter 5's mixture of islands).
COGAN_PRIORS = {"cogan-edges": CODE, "cogan-negative": CODE}

#: The weight of chapter 5's R1 penalty on the discriminators of each shipped coupled GAN.
COGAN_R1 = {"cogan-edges": 1.0, "cogan-negative": 1.0}

#: The weight of InfoGAN's information term (0: none) of each shipped coupled GAN.
COGAN_INFO = {"cogan-edges": 1.0, "cogan-negative": 1.0}

#: Training steps of the feature network.
FEATURE_STEPS = 2000


def _described(net: torch.nn.Module, half: bool = False) -> dict:
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    if half:
        state = {k: v.half() if torch.is_floating_point(v) else v for k, v in state.items()}
    return {"class": type(net).__name__, "config": dict(net.config), "state": state}


def _write(root: Path, name: str, payload: dict, entry: dict) -> dict:
    """Save ``payload`` as the asset ``name`` and record ``entry`` (+ sha256, size) in the manifest."""
    file = ASSETS[name][0]
    path = atomic_save({"format": FORMAT, "name": name, **payload}, root / file)
    entry = {"file": file, "sha256": _sha256(path), "size": path.stat().st_size,
             "rebuild": _rebuild_command(name), **entry}
    current = manifest(root)
    current["format"] = FORMAT
    current["assets"][name] = entry
    current["assets"] = dict(sorted(current["assets"].items()))
    atomic_write_text(root / MANIFEST, json.dumps(current, indent=2) + "\n")
    return entry


def junk_images(n: int, generator: torch.Generator) -> torch.Tensor:
    """Images that are no domain's (the feature network's reject class): blank or constant,
    uniform noise, noisy levels, smooth blobs of noise."""
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
    generator = seed_everything(seed)
    images, labels, classes, sources = _feature_data("train", limit)
    classes = classes + [REJECT_CLASS]
    net = FeatureNet(classes).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=max(steps, 2))
    batch_size = 128
    started = time.perf_counter()
    net.train()
    for step in range(1, steps + 1):
        index = torch.randint(len(images), (batch_size - batch_size // 8,), generator=generator)
        augmented = jitter(images[index], generator, shift=2.0, padding_mode="border")
        batch = torch.cat([augmented, junk_images(batch_size // 8, generator)]).to(device)
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
                     "junk_class": f"{REJECT_CLASS}: 1/8 of every batch is blank, constant, noise or smooth blobs",
                     "sources": sources},
        "quality": {"test_accuracy": accuracy},
    }
    written = [_write(root, "feature-net", {"net": _described(net)}, entry)]
    if root.resolve() == asset_dir().resolve():
        from .. import metrics

        metrics._FEATURE_NET = None  # the next feature_net() loads the new file
    return written


def gan_quality(generator: torch.nn.Module, domain_name: str, n: int | None = None, seed: int = 0) -> dict:
    """FD and KID of ``generator`` against the held-out (test) images of ``domain_name``."""
    result = evaluate(generator, domain_name, n=n, seed=seed)
    keys = ("n", "fd", "kid", "kid_std", "precision", "recall", "fd_floor", "confident_share",
            "confident_share_real", "classes_covered", "label_accuracy")
    return {k: result[k] for k in keys if k in result}


def _rebuild_gan(name: str, root: Path, steps: int | None, seed: int | None, device: torch.device, progress: bool,
                 limit: int | None) -> list[dict]:
    """Train the shipped GAN ``name`` by its recipe (:data:`gantutor.recipes.RECIPES`) and write it.

    A name ending in ``-run`` is a chapter's run: the recipe of the name without ``-run``, shipped
    as the whole trainer (weights, EMA, history; no optimiser moments), which
    :func:`gantutor.pretrained.load` gives back as a :class:`~gantutor.train.Trainer`.
    """
    is_run = name.endswith("-run")
    run = recipe(name.removesuffix("-run"), **{k: v for k, v in dict(steps=steps, seed=seed).items() if v is not None})
    domain_name = run.domain
    seed_everything(run.train.seed)
    data = load_domain(domain_name, split="train", limit=limit, verbose=progress)
    trainer = Trainer.from_recipe(run, data, device=device)
    snapshot_steps = sorted({s for s in SNAPSHOT_STEPS if s < run.steps} | {run.steps})
    snapshots: list[tuple[int, dict]] = []

    class KeepSnapshots(Callback):
        def on_step_end(self, t: Trainer) -> None:
            if t.step_count in snapshot_steps:
                snapshots.append((t.step_count, _described(t.generator, half=True)))
            if progress and t.step_count % 500 == 0:
                h = t.history
                print(f"{name}: step {t.step_count}/{run.steps}  d_loss {h['d_loss'][-1]:.3f}  "
                      f"g_loss {h['g_loss'][-1]:.3f}  {h['time'][-1]:.0f}s", flush=True)

    started = time.perf_counter()
    trainer.fit(run.steps, progress=False, callbacks=[KeepSnapshots()])
    wall = time.perf_counter() - started
    ema = trainer.ema_generator.cpu().eval()
    n = None if limit is None else min(limit, 200)
    quality = gan_quality(ema, domain_name, n=n, seed=run.train.seed)
    quality["raw_generator"] = gan_quality(trainer.generator.cpu().eval(), domain_name, n=n, seed=run.train.seed)
    trainer.generator.to(device)  # back where the trainer keeps it (the run's state is saved from here)
    if progress:
        print(f"{name}: {quality}")
    common = {"seed": run.train.seed, "steps": run.steps, "wall_time_s": round(wall, 1),
              "device": describe_machine(device)}
    entry = {
        **common,
        "architecture": {"generator": {"class": type(trainer.generator).__name__, **trainer.generator.config},
                         "discriminator": {"class": type(trainer.discriminator).__name__,
                                           **trainer.discriminator.config}},
        "training": {"domain": domain_name, "split": "train", "images": len(data), "source": data.source,
                     "recipe": run.to_dict(), "generator_weights": f"EMA of G (decay {run.train.ema_decay})"},
        "quality": quality,
    }
    if is_run:
        entry["training"]["generator_weights"] = "the whole trainer: G, D, the EMA of G, history"
        payload = {"trainer": trainer.state_dict(optimizers=False)}
    else:
        payload = {"generator": _described(ema), "discriminator": _described(trainer.discriminator.cpu().eval())}
    written = [_write(root, name, payload, entry)]
    if f"{name}-snapshots" in ASSETS:
        snap_entry = {**common, "snapshot_steps": [s for s, _ in snapshots], "dtype": "float16 (loaded as float32)",
                      "training": {"same run as": name, "generator_weights": "raw G (not the EMA)"}}
        written.append(_write(root, f"{name}-snapshots",
                              {"steps": [s for s, _ in snapshots], "generators": [d for _, d in snapshots]},
                              snap_entry))
    return written


def _rebuild_cogan(name: str, root: Path, steps: int, seed: int, device: torch.device, progress: bool) -> list[dict]:
    """Train chapter 8's coupled GAN ``name`` (``cogan-edges``: MNIST + outlines, ``cogan-negative``: + negatives)."""
    from .. import coupled

    second = {"cogan-edges": "mnist-edges", "cogan-negative": "mnist-negative"}[name]
    seed_everything(seed)
    trainer = coupled.coupled_trainer(second, seed=seed, device=device, prior=COGAN_PRIORS[name],
                                      r1_gamma=COGAN_R1[name], info_weight=COGAN_INFO[name])

    class Progress(Callback):
        def on_step_end(self, t: Trainer) -> None:
            if progress and t.step_count % 1000 == 0:
                print(f"{name}: step {t.step_count}/{steps}  d_loss {t.history['d_loss'][-1]:.3f}  "
                      f"{t.history['time'][-1]:.0f}s", flush=True)

    started = time.perf_counter()
    trainer.fit(steps, progress=False, callbacks=[Progress()])
    wall = time.perf_counter() - started
    ema = trainer.ema_generator.cpu().eval()
    first, other = coupled.pairs(ema, 1000, seed=1)
    real = load_domain("mnist", split="test", verbose=False).images
    quality = {"pairs": 1000, "noise_seed": 1, **coupled.correspondence(first, other, second),
               "real_pairs": coupled.correspondence(real, coupled.render(real, second), second)}
    if progress:
        print(f"{name}: {quality}")
    entry = {"seed": seed, "steps": steps, "wall_time_s": round(wall, 1), "device": describe_machine(device),
             "dtype": "float16 (loaded as float32)",
             "architecture": {"generator": {"class": "CoupledGenerator", **ema.config},
                              "discriminator": {"class": "CoupledDiscriminator", **trainer.discriminator.config}},
             "training": {"domains": ["mnist", second], "split": "train", "images": len(trainer.batches),
                          "source": "two disjoint halves of MNIST's train split (no pairs)",
                          "settings": {k: getattr(trainer.config, k) for k in ("batch_size", "lr_g", "lr_d", "betas",
                                                                               "ema_decay", "r1_gamma",
                                                                               "info_weight")},
                          "generator_weights": f"EMA of G (decay {coupled.TRAINING.ema_decay})",
                          "latent_prior": ema.prior.describe()},
             "quality": quality}
    return [_write(root, name, {"generator": _described(ema, half=True)}, entry)]


def rebuild(name: str, steps: int | None = None, out: str | os.PathLike | None = None, seed: int | None = None,
            device: torch.device | str | None = None, progress: bool = True, limit: int | None = None) -> list[dict]:
    """Train an asset again and write it (and its manifest entry) to ``out`` (default: the package's assets).

    Args:
        name: an asset of :data:`gantutor.pretrained.ASSETS` (``"dcgan-mnist"`` also writes
            ``dcgan-mnist-snapshots``).
        steps: training steps (default: the recipe's). A small number is a smoke test.
        out: the folder to write to (and whose ``manifest.json`` to update).
        seed: the seed (default: the recipe's, 0).
        device: where to train (default: :func:`gantutor.device.pick_device`).
        progress: print progress.
        limit: use only the first ``limit`` images of every split (smoke tests).

    Returns:
        the manifest entries written.
    """
    _check_name(name)
    target = ASSETS[name][1]
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be at least 1, got {steps}")
    root = Path(out or asset_dir())
    root.mkdir(parents=True, exist_ok=True)
    device = torch.device(device) if device is not None else pick_device()
    if target.startswith("cogan-"):
        return _rebuild_cogan(target, root, COGAN_STEPS[target] if steps is None else steps, 0 if seed is None else seed,
                              device, progress)
    if target == "feature-net":
        return _rebuild_feature_net(root, FEATURE_STEPS if steps is None else steps, 0 if seed is None else seed,
                                    device, progress, limit)
    return _rebuild_gan(target, root, steps, seed, device, progress, limit)
