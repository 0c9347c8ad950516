"""``python -m gantutor.pretrained``: rebuild, verify or list the shipped weights."""
from __future__ import annotations

import argparse
import json
import sys

import torch

from . import ASSETS, AssetError, manifest, verify
from .rebuild import rebuild


def main(argv: list[str] | None = None) -> int:
    """``python -m gantutor.pretrained rebuild NAME | verify | list``; returns the exit status
    (0 ok, 1 an error, printed as one line; 2 bad arguments). ``--debug`` shows the traceback instead."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("gantutor.pretrained: interrupted (files are written atomically: none is half-written)", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 -- one line, not a traceback
        if "--debug" in argv:
            raise
        known = isinstance(err, (AssetError, ValueError, OSError, RuntimeError, TypeError))
        text = str(err) if known else f"{type(err).__name__}: {err} (run again with --debug for the traceback)"
        print(f"gantutor.pretrained: error: {text}", file=sys.stderr)
        return 1


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m gantutor.pretrained",
                                     description="Shipped weights: rebuild one, verify all, or list them.")
    parser.add_argument("--debug", action="store_true", help="on an error, show the Python traceback")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("rebuild", help="train an asset again and write it with its manifest entry")
    build.add_argument("name", choices=sorted({target for _, target in ASSETS.values()}))
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
