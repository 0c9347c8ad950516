"""Writing and reading a trainer checkpoint: the file format, its integrity, the run it continues.

:meth:`Trainer.save <gantutor.train.Trainer.save>` writes a checkpoint atomically with
``torch.save`` (:func:`save_checkpoint`), with a sha256 of its contents inside; this module reads
it back with ``torch.load(..., weights_only=True)`` (no code in a checkpoint ever runs), checks
the zip archive's CRCs and the sha256 before anything is used, and checks that it is a complete
checkpoint. Every way a checkpoint can be unusable -- missing, empty, truncated, corrupted,
another kind of file, incomplete -- is one :class:`CheckpointError` (a ``ValueError``) that names
the file, the problem and the fix. On resume, :func:`restore` also checks that what the run
depends on (the data, its size, the augmentation, the latent prior, the conditioning) is what it
was trained with.
"""
from __future__ import annotations

import functools
import hashlib
import os
import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn

from ..batches import describe_data
from ..nets import build, describe, load_weights
from ..recipes import TrainConfig
from ..storage import atomic_save

__all__ = ["CHECKPOINT_FORMAT", "CheckpointError", "CheckpointNotFoundError", "load_checkpoint", "save_checkpoint",
           "restore", "describe_network", "rebuild_network", "describe_run", "augment_name", "content_sha256"]

#: Format 3 adds the ``sha256`` of the contents and the ``run`` record (data size, augmentation,
#: conditioning). Format 2 checkpoints (without them) are still read.
CHECKPOINT_FORMAT = "gantutor.trainer/3"
_READS = ("gantutor.trainer/2", CHECKPOINT_FORMAT)
_KEYS = ("config", "latent", "step", "generator", "discriminator", "g_param_names", "d_param_names", "opt_g",
         "opt_d", "ema", "batches", "noise_rng", "torch_rng", "history", "data")
_DAMAGED = ("Fix: use an earlier copy of it if you have one; otherwise delete it and train again "
            "(the command line: --overwrite)")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file, the problem and the fix."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """No checkpoint at the path (a :class:`CheckpointError` and a ``FileNotFoundError``)."""


def describe_network(net: nn.Module) -> dict:
    """The network's class and constructor arguments, or ``config: None`` for a network not of gantutor's."""
    try:
        return describe(net)
    except TypeError:
        return {"class": type(net).__name__, "config": None}


def rebuild_network(description: dict, role: str) -> nn.Module:
    """A fresh network as the checkpoint describes it (``role``: generator or discriminator, for the message)."""
    if description.get("config") is None:
        raise ValueError(f"the checkpoint's {role} ({description['class']}) is not one of gantutor's "
                         f"networks: build it yourself and pass {role}= to Trainer.resume")
    try:
        return build(description)
    except (TypeError, ValueError) as err:  # an edited description, or one of another version's networks
        raise CheckpointError(f"the checkpoint's {role} cannot be rebuilt from its description "
                              f"{description.get('class')}({description.get('config')}): {err}") from None


def augment_name(augment) -> str | None:
    """What a run records of its augmentation: ``None``, or the function's qualified name
    (``"gantutor.transfer.diffaugment"``; a ``functools.partial`` names the function it wraps)."""
    if augment is None:
        return None
    suffix = ""
    while isinstance(augment, functools.partial):
        augment, suffix = augment.func, " (partial)"
    owner = augment if hasattr(augment, "__qualname__") else type(augment)
    return f"{getattr(owner, '__module__', '?')}.{owner.__qualname__}{suffix}"


def describe_run(trainer) -> dict:
    """What else the run depends on: the number of samples (``None`` for a distribution), the
    augmentation and the classes it is conditioned on. Checked by :func:`restore`."""
    order = trainer.batches.state_dict().get("order")
    return {"data_size": len(order) if order is not None else None, "augment": augment_name(trainer.augment),
            "num_classes": trainer.num_classes}


def content_sha256(state) -> str:
    """sha256 of a checkpoint's contents: every key, plain value and tensor (dtype, shape, bytes), in order.

    It does not depend on how the file is serialised, so the loaded contents can be checked
    against the number recorded when they were saved.
    """
    digest = hashlib.sha256()

    def feed(value) -> None:
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
        elif isinstance(value, dict):
            digest.update(f"D{len(value)}".encode())
            for key, item in value.items():
                feed(key)
                feed(item)
        elif isinstance(value, (list, tuple)):
            digest.update(f"L{len(value)}".encode())
            for item in value:
                feed(item)
        else:
            digest.update(f"{type(value).__name__}:{value!r};".encode())

    feed(state)
    return digest.hexdigest()


def save_checkpoint(state: dict, path: str | os.PathLike) -> Path:
    """Write ``state`` (a :meth:`Trainer.state_dict`) atomically, with the sha256 of its contents inside."""
    state = {k: v for k, v in state.items() if k != "sha256"}
    return atomic_save({**state, "sha256": content_sha256(state)}, path)


def _read(path: Path):
    """``torch.load`` of the file, weights only, after checking it is a complete, uncorrupted zip archive."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise CheckpointError(f"the checkpoint {path} is empty (0 bytes): it was never written completely "
                                  f"(a full disk, or a copy that stopped). {_DAMAGED}")
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except zipfile.BadZipFile:
        raise CheckpointError(f"{path} is not a readable checkpoint: it is not a complete PyTorch (zip) file, so it "
                              f"is truncated, corrupted or another kind of file ({size:,} bytes). {_DAMAGED}") from None
    except (OSError, EOFError, RuntimeError) as err:
        raise CheckpointError(f"the checkpoint {path} cannot be read ({type(err).__name__}: {err}). "
                              "Fix: check the file's permissions and the disk") from None
    if bad is not None:
        raise CheckpointError(f"the checkpoint {path} is corrupted: its part {bad!r} fails the zip CRC check "
                              f"(bytes changed on disk or in a copy). {_DAMAGED}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Weights only load failed" in str(err):
            refused = [line.strip() for line in str(err).splitlines() if "GLOBAL" in line]
            raise CheckpointError(
                f"{path} holds Python objects that weights-only loading refuses to create"
                + (f" ({refused[0]})" if refused else "") + ": it was not written by gantutor (or was altered), "
                "and loading it could run code, so gantutor does not load it") from None
        raise CheckpointError(f"the checkpoint {path} is corrupted ({err}). {_DAMAGED}") from None
    except Exception as err:  # noqa: BLE001 -- whatever torch.load trips over, the file is damaged
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"the checkpoint {path} cannot be loaded ({type(err).__name__}: {first}). "
                              f"{_DAMAGED}") from None


def _check_contents(state, where: str, from_file: bool) -> None:
    """The format, the sha256 (format 3) and the keys a checkpoint must have."""
    found = state.get("format") if isinstance(state, dict) else None
    if found not in _READS:
        if isinstance(found, str) and found.startswith("gantutor.trainer/"):
            version, ours = found.rsplit("/", 1)[-1], int(CHECKPOINT_FORMAT.rsplit("/", 1)[-1])
            newer = version.isdigit() and int(version) > ours
            raise CheckpointError(
                f"{where} is a checkpoint of {'a newer' if newer else 'an older'} gantutor ({found}; this one reads "
                f"{', '.join(_READS)}): " + ("upgrade gantutor to read it" if newer else "train it again with this version"))
        if isinstance(found, str) and found.startswith("gantutor.pretrained/"):
            raise CheckpointError(f"{where} is a shipped pretrained asset, not a trainer checkpoint: load it with "
                                  "gantutor.pretrained.load(name)")
        if isinstance(state, dict) and state and all(isinstance(v, torch.Tensor) for v in state.values()):
            raise CheckpointError(f"{where} holds only a network's weights (a state_dict), not a trainer checkpoint: "
                                  "load it with net.load_state_dict(torch.load(path, weights_only=True))")
        what = f"a {type(state).__name__}" if not isinstance(state, dict) else f"format {found!r}"
        raise CheckpointError(f"{where} is not a gantutor trainer checkpoint (it holds {what}; expected "
                              f"format {CHECKPOINT_FORMAT!r}). Fix: pass a file written by Trainer.save or by "
                              "python -m gantutor.train")
    recorded = state.get("sha256")
    if recorded is None and found == CHECKPOINT_FORMAT and from_file:
        raise CheckpointError(f"{where} has no sha256 of its contents, which every {CHECKPOINT_FORMAT} checkpoint "
                              f"file carries: it was altered. {_DAMAGED}")
    if recorded is not None and recorded != content_sha256({k: v for k, v in state.items() if k != "sha256"}):
        raise CheckpointError(f"{where} is corrupted: its contents do not match the sha256 recorded when it was "
                              f"saved (bytes changed on disk or in a copy, or it was edited). {_DAMAGED}")
    missing = [k for k in _KEYS if k not in state]
    missing += [f"{role}.{k}" for role in ("generator", "discriminator") if isinstance(state.get(role), dict)
                for k in ("class", "config", "state") if k not in state[role]]
    wrong = [k for k, kind in (("step", int), ("config", dict), ("history", dict), ("generator", dict),
                               ("discriminator", dict), ("batches", dict)) if k in state and not isinstance(state[k], kind)]
    if missing or wrong:
        raise CheckpointError(f"{where} is incomplete or altered: " + "; ".join(
            ([f"missing {', '.join(missing)}"] if missing else []) + ([f"wrong type of {', '.join(wrong)}"] if wrong else []))
            + f". {_DAMAGED}")


def load_checkpoint(source: str | os.PathLike | dict) -> dict:
    """Load a trainer checkpoint with ``torch.load(weights_only=True)`` and check it.

    ``source`` is a file, or a checkpoint already in memory (a dict, as a shipped run holds one).

    Raises:
        CheckpointNotFoundError: no file at ``source`` (also a ``FileNotFoundError``).
        CheckpointError: a folder, an empty, truncated or corrupted file (zip CRC, sha256), a file of another
            kind, an older or newer format, or missing parts; the message names the file and the fix.
    """
    if isinstance(source, dict):
        state, where, from_file = source, "the checkpoint", False
    else:
        path = Path(source)
        if not path.exists():
            raise CheckpointNotFoundError(f"no checkpoint at {path}: check the path (python -m gantutor.train "
                                          "--out DIR writes DIR/checkpoint.pt)")
        if path.is_dir():
            hint = f": pass {path / 'checkpoint.pt'}" if (path / "checkpoint.pt").exists() else ""
            raise CheckpointError(f"{path} is a folder, not a checkpoint file{hint}")
        state, where, from_file = _read(path), str(path), True
    _check_contents(state, where, from_file)
    return state


def _say_data(described: dict | None) -> str:
    if described is None:
        return "data that is not in the registry"
    if "split" not in described:
        return f"the toy domain {described['domain']!r}"
    return f"{described['domain']!r} [{described['split']}] ({described['limit']:,} images)"


def _check_same_run(state: dict, where: str, generator: nn.Module | None, data, overrides: dict) -> None:
    """What the run depends on, as passed to resume, against what the checkpoint recorded (before building)."""
    fix = "pass the same to continue this run, or start a new run"
    if generator is not None:
        recorded = (state["generator"].get("config") or {}).get("num_classes")
        given = getattr(generator, "num_classes", None)
        if recorded != given:
            say = lambda k: f"conditioned on {k} classes" if k else "unconditional"  # noqa: E731
            raise ValueError(f"{where} holds a GAN that is {say(recorded)} but the generator passed is {say(given)}: "
                             "pass networks built like the checkpoint's, or let Trainer.resume rebuild them")
    if data is not None and state["data"] is not None:
        given = describe_data(data)
        if given is not None and given != state["data"]:
            raise ValueError(f"{where} was trained on {_say_data(state['data'])} but the data passed is "
                             f"{_say_data(given)}: {fix}")
    if "run" in state:  # format 3 records the augmentation
        recorded, given = state["run"].get("augment"), augment_name(overrides.get("augment"))
        if recorded != given:
            hint = "no augment" if recorded is None else f"augment={recorded.rsplit('.', 1)[-1]}"
            raise ValueError(f"{where} was trained with augment={recorded} but is resumed with augment={given}: "
                             f"pass {hint} to Trainer.resume to continue this run, or start a new run")


def restore(trainer_class, path: str | os.PathLike | dict, *, generator: nn.Module | None = None,
            discriminator: nn.Module | None = None, data=None, **overrides):
    """The body of :meth:`Trainer.resume <gantutor.train.Trainer.resume>`: a trainer of ``trainer_class``
    rebuilt from the checkpoint at ``path``, with every state (weights, optimisers, EMA, data order,
    random streams, step count, history) as it was saved.

    Raises:
        CheckpointError: the checkpoint cannot be used (see :func:`load_checkpoint`).
        ValueError: the networks, data, augmentation or latent prior passed differ from the run's.
    """
    state = load_checkpoint(path)
    where = "the checkpoint" if isinstance(path, dict) else str(path)
    _check_same_run(state, where, generator, data, overrides)
    generator = generator if generator is not None else rebuild_network(state["generator"], "generator")
    if discriminator is None:
        discriminator = rebuild_network(state["discriminator"], "discriminator")
    load_weights(generator, state["generator"]["state"], f"checkpoint {where}")
    load_weights(discriminator, state["discriminator"]["state"], f"checkpoint {where}")
    if data is None:
        if state["data"] is None:
            raise ValueError(f"checkpoint {where} was trained on data that is not in the registry: pass data=")
        from ..data import load_domain

        described = dict(state["data"])
        data = load_domain(described.pop("domain"), verbose=False, **described)
    named_g, named_d = dict(generator.named_parameters()), dict(discriminator.named_parameters())
    settings = {k: overrides.pop(k) for k in list(overrides) if k in state["config"]}  # e.g. a new learning rate
    try:
        config = TrainConfig.from_dict(state["config"]).replace(**settings)
        g_params, d_params = [named_g[n] for n in state["g_param_names"]], [named_d[n] for n in state["d_param_names"]]
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{where} has settings this gantutor cannot use ({err}). {_DAMAGED}") from None
    given_latent = overrides.setdefault("latent", state["latent"])
    trainer = trainer_class(generator, discriminator, data, config, g_params=g_params, d_params=d_params, **overrides)
    if given_latent is not state["latent"] and trainer.latent.describe() != state["latent"]:
        raise ValueError(f"{where} was trained with the latent prior {state['latent']} but is resumed with "
                         f"{trainer.latent.describe()}: pass the same prior (or none: the checkpoint's is used), "
                         "or start a new run")
    saved, own = state["batches"].get("order"), trainer.batches.state_dict().get("order")
    if (saved is None) != (own is None) or (saved is not None and len(saved) != len(own)):
        count = lambda order: "samples drawn from a distribution" if order is None else f"{len(order):,} samples"  # noqa: E731
        raise ValueError(f"{where} was trained on {count(saved)} but the data passed has {count(own)}: pass the same "
                         "data (the same limit) to continue this run, or start a new run")
    try:
        if state["opt_g"] is not None:  # None: a finished run shipped without its optimisers' moments
            trainer.opt_g.load_state_dict(state["opt_g"])
            trainer.opt_d.load_state_dict(state["opt_d"])
        if trainer.ema_generator is not None and state["ema"] is not None:
            trainer.ema_generator.load_state_dict(state["ema"])
        trainer.batches.load_state_dict(state["batches"])
        trainer.noise_generator.set_state(state["noise_rng"])
        torch.set_rng_state(state["torch_rng"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{where}: a saved state does not fit the trainer ({type(err).__name__}: "
                              f"{str(err).splitlines()[0] if str(err) else ''}). {_DAMAGED}") from None
    trainer.step_count = int(state["step"])
    trainer.history = {k: list(v) for k, v in state["history"].items()}
    return trainer
