"""Pictures for the book: image grids, training curves and animations.

Every chapter draws with these helpers, so that a figure looks the same everywhere.
Images are ``(N, C, H, W)`` tensors in ``[-1, 1]`` (the book's convention).
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["image_grid", "show_images", "plot_history", "animate", "smooth",
           "decision_surface", "generator_gradients", "plot_toy", "animate_toy",
           "plot_strategy_map", "plot_fd_curves"]


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

    return _html_animation(fig, draw, len(frames), interval)


def _html_animation(fig, draw, count: int, interval: int):
    """Play ``draw(i)`` for ``i < count`` as an HTML (jshtml) animation and close ``fig``.

    The frames are embedded in the page, so the static book shows training too.
    """
    from IPython.display import HTML
    from matplotlib import animation

    anim = animation.FuncAnimation(fig, draw, frames=count, interval=interval, blit=False)
    html = HTML(anim.to_jshtml(default_mode="once"))
    plt.close(fig)
    return html


# --------------------------------------------------------------------------- toy data (chapters 1-2)

def _logits_on(discriminator, points: torch.Tensor) -> torch.Tensor:
    """D's logits at ``points`` (any device, eval mode, no gradient), on the CPU."""
    parameter = next(discriminator.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    was_training = discriminator.training
    discriminator.eval()
    try:
        with torch.no_grad():
            return discriminator(points.to(device)).float().cpu()
    finally:
        discriminator.train(was_training)


def decision_surface(discriminator, extent: Sequence[float] = (-1.6, 1.6, -1.6, 1.6),
                     resolution: int = 64) -> np.ndarray:
    r"""D's belief that a point is real, :math:`D(x) = \sigma(\text{logit})`, on a ``resolution²`` grid.

    Returns a ``(resolution, resolution)`` array, rows along y (bottom to top) and columns
    along x, ready for ``imshow(..., origin="lower", extent=extent)``.
    """
    x0, x1, y0, y1 = extent
    xs = torch.linspace(x0, x1, resolution)
    ys = torch.linspace(y0, y1, resolution)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([grid_x.flatten(), grid_y.flatten()], dim=1)
    return torch.sigmoid(_logits_on(discriminator, points)).reshape(resolution, resolution).numpy()


def generator_gradients(discriminator, fake: torch.Tensor, loss="non-saturating") -> torch.Tensor:
    r"""Where G's loss pushes each fake point: :math:`-\nabla_x L_G(D(x))` at every point of ``fake``.

    This is the direction in data space in which the generator would like each of its
    samples to move (GAN Lab's "gradient arrows"); G's weights follow it through
    :math:`\partial x / \partial\theta`. Returns ``(N, 2)`` on the CPU.
    """
    from .losses import get_loss

    g_loss = get_loss(loss).g_loss
    parameter = next(discriminator.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    points = torch.as_tensor(fake, dtype=torch.float32).detach().to(device).requires_grad_(True)
    was_training = discriminator.training
    discriminator.eval()
    try:
        # the loss is a mean over points: times N gives each point's own gradient
        (g_loss(discriminator(points)) * len(points)).backward(inputs=[points])
    finally:
        discriminator.train(was_training)
    return (-points.grad).detach().cpu()


def plot_toy(real: torch.Tensor | None = None, fake: torch.Tensor | None = None, discriminator=None, *,
             arrows: torch.Tensor | None = None, extent: Sequence[float] = (-1.6, 1.6, -1.6, 1.6),
             resolution: int = 64, ax=None, title: str | None = None, max_points: int = 1000):
    """GAN Lab's main view on ``ax``: D's decision surface as a heat-map (if ``discriminator``),
    real points (green), fake points (purple) and, if ``arrows`` (``(N, 2)``, one per fake point),
    the direction G's loss pushes each fake point. Returns the axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.2))
    if discriminator is not None:
        surface = decision_surface(discriminator, extent, resolution)
        image = ax.imshow(surface, origin="lower", extent=extent, cmap="RdBu", vmin=0, vmax=1,
                          interpolation="bilinear", alpha=0.85)
        plt.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="D(x): belief x is real")
    if real is not None:
        real = torch.as_tensor(real)[:max_points].cpu()
        ax.scatter(real[:, 0], real[:, 1], s=4, c="#1a9641", label="real", alpha=0.6)
    if fake is not None:
        fake = torch.as_tensor(fake)[:max_points].cpu()
        ax.scatter(fake[:, 0], fake[:, 1], s=4, c="#7b3294", label="fake (G)", alpha=0.6)
        if arrows is not None:
            arrows = torch.as_tensor(arrows)[:max_points].cpu()
            ax.quiver(fake[:, 0], fake[:, 1], arrows[:, 0], arrows[:, 1], color="black", alpha=0.5,
                      angles="xy", width=0.004)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8, markerscale=3)
    if title:
        ax.set_title(title)
    return ax


def animate_toy(frames: Sequence[tuple[int, torch.Tensor]], real: torch.Tensor | None = None, *,
                extent: Sequence[float] = (-1.6, 1.6, -1.6, 1.6), interval: int = 250, size: float = 4.0):
    """An HTML animation of 2-D ``(step, points)`` frames (:class:`gantutor.train.Snapshots` on toy data),
    over the real points if given. Plays in notebooks and in the static book."""
    if not frames:
        raise ValueError("no frames to animate: record snapshots while training first")
    if frames[0][1].ndim != 2 or frames[0][1].shape[1] != 2:
        raise ValueError(f"animate_toy draws 2-D points (N, 2), got {tuple(frames[0][1].shape)}: use animate() for images")
    fig, ax = plt.subplots(figsize=(size, size), dpi=80)  # 80 dpi keeps the embedded frames small
    if real is not None:
        real = torch.as_tensor(real).cpu()
        ax.scatter(real[:, 0], real[:, 1], s=4, c="#1a9641", alpha=0.4, label="real")
    points = ax.scatter(frames[0][1][:, 0], frames[0][1][:, 1], s=5, c="#7b3294", alpha=0.7, label="fake (G)")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8, markerscale=3)
    title = ax.set_title(f"step {frames[0][0]}")

    def draw(i):
        points.set_offsets(frames[i][1].cpu().numpy())
        title.set_text(f"step {frames[i][0]}")
        return points, title

    return _html_animation(fig, draw, len(frames), interval)


# --------------------------------------------------------------------------- transfer (chapter 7)

def plot_strategy_map(generator, discriminator, trained: dict, ax=None):
    """Which blocks of G and D each strategy trains (green: trained, grey: frozen, hatched: partly).

    Args:
        generator, discriminator: the DCGAN pair (``.blocks``; D also ``.head``).
        trained: ``{strategy: (g_params, d_params)}``, the parameters each strategy trains, e.g.
            :func:`gantutor.transfer.strategy_map`; one row per strategy, in this order.
    """
    from matplotlib.patches import Rectangle

    strategies = list(trained)
    parts = [("G", f"G block {i}", block) for i, block in enumerate(generator.blocks)]
    parts += [("D", f"D block {i}", block) for i, block in enumerate(discriminator.blocks)]
    parts += [("D", "D head", discriminator.head)]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * len(parts) + 1.5, 0.6 * len(strategies) + 1))
    for row, strategy in enumerate(strategies):
        g_params, d_params = trained[strategy]
        moving = {id(p) for p in list(g_params) + list(d_params)}
        for col, (_, label, module) in enumerate(parts):
            params = list(module.parameters())
            share = sum(p.numel() for p in params if id(p) in moving) / max(1, sum(p.numel() for p in params))
            colour = "#4caf50" if share == 1 else ("#c8e6c9" if share > 0 else "#bdbdbd")
            ax.add_patch(Rectangle((col, -row), 0.9, 0.8, facecolor=colour, edgecolor="black",
                                   hatch="//" if 0 < share < 1 else None))
            text = f"{100 * share:.0f}%" if share == 0 or share >= 0.01 else f"{100 * share:.2f}%"
            ax.text(col + 0.45, -row + 0.4, text, ha="center", va="center", fontsize=8)
    ax.set_xlim(-0.1, len(parts))
    ax.set_ylim(-len(strategies) + 0.9, 1.3)
    ax.set_xticks([c + 0.45 for c in range(len(parts))], [label for _, label, _ in parts], rotation=30, fontsize=8)
    ax.set_yticks([-r + 0.4 for r in range(len(strategies))],
                  [{"scratch": "scratch (fresh init)", "adapter": "adapter (+ a new map after G)"}.get(s, s)
                   for s in strategies])
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
