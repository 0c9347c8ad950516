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

def plot_strategy_map(generator, discriminator, strategies: Sequence[str] | None = None, ax=None):
    """Which blocks of G and D each transfer strategy trains, computed from
    :func:`gantutor.transfer.trainable_parameters` (green: trained, grey: frozen, hatched: partly)."""
    from matplotlib.patches import Rectangle

    from .transfer import STRATEGIES, trainable_parameters

    strategies = list(strategies or STRATEGIES)
    parts = [("G", f"G block {i}", block) for i, block in enumerate(generator.blocks)]
    parts += [("D", f"D block {i}", block) for i, block in enumerate(discriminator.blocks)]
    parts += [("D", "D head", discriminator.head)]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * len(parts) + 1.5, 0.6 * len(strategies) + 1))
    for row, strategy in enumerate(strategies):
        g_params, d_params = trainable_parameters(generator, discriminator, strategy)
        trained = {id(p) for p in g_params + d_params}
        for col, (_, label, module) in enumerate(parts):
            params = list(module.parameters())
            share = sum(p.numel() for p in params if id(p) in trained) / max(1, sum(p.numel() for p in params))
            colour = "#4caf50" if share == 1 else ("#c8e6c9" if share > 0 else "#bdbdbd")
            ax.add_patch(Rectangle((col, -row), 0.9, 0.8, facecolor=colour, edgecolor="black",
                                   hatch="//" if 0 < share < 1 else None))
            text = f"{100 * share:.0f}%" if share == 0 or share >= 0.01 else f"{100 * share:.2f}%"
            ax.text(col + 0.45, -row + 0.4, text, ha="center", va="center", fontsize=8)
    ax.set_xlim(-0.1, len(parts))
    ax.set_ylim(-len(strategies) + 0.9, 1.3)
    ax.set_xticks([c + 0.45 for c in range(len(parts))], [label for _, label, _ in parts], rotation=30, fontsize=8)
    ax.set_yticks([-r + 0.4 for r in range(len(strategies))],
                  [f"{s} (fresh init)" if s == "scratch" else s for s in strategies])
    ax.set_title("share of each block's parameters that the strategy trains")
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    return ax


def plot_fd_curves(curves: dict, ax=None, std: dict | None = None, title: str = "FD to held-out target images"):
    """FD against steps, one line per strategy: ``curves[name] = (steps, fds)``; optional ``std[name]`` band."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, (steps, values) in curves.items():
        line, = ax.plot(steps, values, marker="o", ms=3, label=name)
        if std and name in std:
            low = np.asarray(values) - np.asarray(std[name])
            high = np.asarray(values) + np.asarray(std[name])
            ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("step")
    ax.set_ylabel("Fréchet distance")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    return ax
