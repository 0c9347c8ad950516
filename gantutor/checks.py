"""Checks of what a user hands the library: batches of images, network inputs, whole numbers.

One place decides what a valid batch of images is -- the book's convention, a float tensor
``(N, C, H, W)`` with values in ``[-1, 1]`` -- so that the Trainer, :mod:`gantutor.transfer`,
:mod:`gantutor.metrics` and the networks refuse a bad one in the same words, naming the
problem and the fix, instead of training on it silently or failing deep inside torch.

>>> import torch
>>> from gantutor.checks import check_images
>>> check_images(torch.zeros(2, 1, 28, 28)).shape
torch.Size([2, 1, 28, 28])
>>> try:
...     check_images(torch.full((2, 1, 28, 28), 255.0))
... except ValueError as error:
...     print(error)
images have values in [255, 255], but images must be in [-1, 1] (the book's convention): map [0, 1] images with x * 2 - 1 and [0, 255] ones with x / 127.5 - 1
"""
from __future__ import annotations

import numbers

import torch
from torch import nn

__all__ = ["IMAGE_RANGE", "check_images", "check_input", "whole_number"]

#: The values a batch of images may hold: ``[-1, 1]`` with some slack (bilinear resizing
#: and augmentation overshoot a little); ``[0, 255]`` and most ``[0, 1]`` mistakes land outside.
IMAGE_RANGE = (-1.5, 1.5)

_MAPPING = "map [0, 1] images with x * 2 - 1 and [0, 255] ones with x / 127.5 - 1"


def check_images(images, name: str = "images", *, channels: int | None = None, size: int | None = None,
                 min_count: int = 1, scan: bool = True, reason: str = "") -> torch.Tensor:
    """Check that ``images`` is a batch of images as the book uses them, and return it.

    Args:
        images: the tensor to check.
        name: what to call it in a message (``"the training data"``, ``"held_out"``).
        channels, size: the channel count and side the caller needs (``None``: any).
        min_count: the fewest images that will do (e.g. 2 to fit a covariance); ``reason`` says why.
        scan: also look at every value (finite, about ``[-1, 1]``, see :data:`IMAGE_RANGE`): once per
            data set, not on every forward pass.

    Raises:
        TypeError: not a tensor.
        ValueError: not ``(N, C, H, W)``, too few images, not floating point, another channel count
            or size, NaN or infinite values, values outside :data:`IMAGE_RANGE`.
    """
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of images (N, C, H, W), got a {type(images).__name__}")
    shape = tuple(images.shape)
    if images.ndim != 4:
        hint = ""
        if images.ndim == 3:
            hint = "; for grey images (N, H, W) use x[:, None], for one image (C, H, W) use x[None]"
        elif images.ndim == 2:
            hint = "; flat (N, H*W) images must be reshaped, e.g. x.reshape(-1, 1, 28, 28)"
        raise ValueError(f"{name} must be a batch of images of shape (N, C, H, W), got shape {shape}{hint}")
    if len(images) < min_count:
        raise ValueError(f"{name} must hold at least {min_count} image{'s' if min_count > 1 else ''}"
                         f"{' (' + reason + ')' if reason else ''}, got {len(images)}")
    if not torch.is_floating_point(images):
        raise ValueError(f"{name} are {images.dtype}, not floating point: images are float32 in [-1, 1]; "
                         f"{_MAPPING} (after .float())")
    wanted = (channels if channels is not None else shape[1], size if size is not None else shape[2],
              size if size is not None else shape[3])
    if shape[1:] != wanted:
        raise ValueError(f"{name} have images of shape {shape[1:]} but {wanted} are needed: resize them to "
                         f"{wanted[1]}x{wanted[2]} and use {wanted[0]} channel(s) (e.g. convert colour to grey)")
    if scan and images.numel():
        finite = torch.isfinite(images)
        if not bool(finite.all()):
            bad = int((~finite).sum())
            first = int((~finite).flatten(1).any(1).nonzero()[0])
            raise ValueError(f"{name} contain {bad} NaN or infinite value(s) (the first in image {first}): "
                             "remove or repair those images (a division by zero, or NaN in the source)")
        low, high = (float(v) for v in torch.aminmax(images.detach()))
        if low < IMAGE_RANGE[0] or high > IMAGE_RANGE[1]:
            raise ValueError(f"{name} have values in [{low:.3g}, {high:.3g}], but images must be in [-1, 1] "
                             f"(the book's convention): {_MAPPING}")
    return images


def check_input(tensor, net: nn.Module, what: str) -> None:
    """The cheap checks of a network's input on every call: a tensor, of the network's dtype.

    ``what`` names the input in the message (``"z"``, ``"images"``). Shapes are checked by the
    networks themselves; values are not looked at (that is :func:`check_images`' job, once per data set).
    """
    who = type(net).__name__
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{who} expects {what} as a torch.Tensor, got a {type(tensor).__name__}")
    weight = next(net.parameters(), None)
    expected = weight.dtype if weight is not None else torch.float32
    if tensor.dtype == expected:
        return
    if not torch.is_floating_point(tensor):
        fix = f"{_MAPPING} (after .float())" if what == "images" else "convert it with .float()"
        raise ValueError(f"{who} expects {what} of dtype {expected}, got {tensor.dtype}: {fix}")
    fix = ".float()" if expected == torch.float32 else f".to({expected})"
    raise ValueError(f"{who} has {expected} weights but got {what} of dtype {tensor.dtype}: convert it with {fix}")


def whole_number(value, name: str, who: str, minimum: int = 1, optional: bool = False) -> int | None:
    """``value`` as an ``int`` when it is a whole number ``>= minimum`` (``None`` too when ``optional``).

    Raises:
        ValueError: a float, a bool, a string, or too small; the message names ``who`` and ``name``.
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{who} needs {name} >= {minimum} (a whole number{' or None' if optional else ''}), "
                         f"got {value!r}")
    return int(value)
