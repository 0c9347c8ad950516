"""Pictures for the book: image grids, training curves and animations.

Every chapter draws with these helpers, so that a figure looks the same everywhere.
Images are ``(N, C, H, W)`` tensors in ``[-1, 1]`` (the book's convention).
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["image_grid", "show_images", "plot_history", "animate", "smooth"]


# --------------------------------------------------------------------------- images

def image_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> np.ndarray:
    """Tile ``(N, C, H, W)`` images in ``[-1, 1]`` into one ``(H', W')`` or ``(H', W', 3)`` array in ``[0, 1]``."""
    from torchvision.utils import make_grid

    images = torch.as_tensor(images).detach().float().cpu()
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
    grid = make_grid((images.clamp(-1, 1) + 1) / 2, nrow=nrow, padding=padding, pad_value=1.0)
    grid = grid.permute(1, 2, 0).numpy()
    return grid[..., 0] if images.shape[1] == 1 else grid


def show_images(images: torch.Tensor, nrow: int = 8, title: str | None = None, ax=None, **kwargs):
    """Draw an image grid on ``ax`` (a new figure if ``None``) and return the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=kwargs.pop("figsize", (4, 4)))
    grid = image_grid(images, nrow=nrow)
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- training curves

def smooth(values: Sequence[float], window: int = 25) -> np.ndarray:
    """Moving average (same length; the first values average what is there)."""
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) == 0:
        return values
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    out = np.empty_like(values)
    for i in range(len(values)):
        lo = max(0, i + 1 - window)
        out[i] = (cumulative[i + 1] - cumulative[lo]) / (i + 1 - lo)
    return out


def plot_history(history: dict, window: int = 25, axes=None):
    """Two panels: the losses, and the mean of D(x) and D(G(z)), against steps (smoothed)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    steps = history["step"]
    axes[0].plot(steps, smooth(history["d_loss"], window), label="D loss")
    axes[0].plot(steps, smooth(history["g_loss"], window), label="G loss")
    axes[0].set_xlabel("step")
    axes[0].set_title("losses")
    axes[0].legend()
    axes[1].plot(steps, smooth(history["d_real"], window), label="D(x), real")
    axes[1].plot(steps, smooth(history["d_fake"], window), label="D(G(z)), fake")
    axes[1].axhline(0.5, color="grey", lw=0.8, ls="--")
    axes[1].set_ylim(0, 1)
    axes[1].set_xlabel("step")
    axes[1].set_title("discriminator outputs")
    axes[1].legend()
    return axes


# --------------------------------------------------------------------------- animations

def animate(frames: Sequence[tuple[int, torch.Tensor]], nrow: int = 8, interval: int = 300, size: float = 4.0):
    """An HTML animation of ``(step, images)`` frames (e.g. :class:`gantutor.train.Snapshots`).

    Returns an ``IPython.display.HTML`` object that plays in notebooks and in the static book.
    """
    from IPython.display import HTML
    from matplotlib import animation

    if not frames:
        raise ValueError("no frames to animate: record snapshots while training first")
    fig, ax = plt.subplots(figsize=(size, size))
    ax.set_axis_off()
    image = ax.imshow(image_grid(frames[0][1], nrow), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    title = ax.set_title(f"step {frames[0][0]}")

    def draw(i):
        image.set_data(image_grid(frames[i][1], nrow))
        title.set_text(f"step {frames[i][0]}")
        return image, title

    anim = animation.FuncAnimation(fig, draw, frames=len(frames), interval=interval, blit=False)
    html = HTML(anim.to_jshtml(default_mode="once"))
    plt.close(fig)
    return html


# --------------------------------------------------------------------------- toy data (chapters 1-2)


# --------------------------------------------------------------------------- evaluation (chapter 6)


# --------------------------------------------------------------------------- transfer (chapter 7)
