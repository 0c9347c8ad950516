r"""Toy distributions for chapters 1 and 2: Gaussian mixtures in 1-D and 2-D.

Each distribution can draw samples and reports its mode centres and the common
standard deviation :math:`\sigma`, which is what mode-coverage metrics need.

- ``ring``: 8 Gaussians evenly spaced on the unit circle, :math:`\sigma = 0.05`.
- ``grid``: 25 Gaussians on the 5×5 grid :math:`\{-1, -\tfrac12, 0, \tfrac12, 1\}^2`, :math:`\sigma = 0.05`.
- ``gaussian-1d``: one Gaussian :math:`\mathcal N(0, 1)` (chapter 1's :math:`p_\text{data}`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["GaussianMixture", "ring", "grid", "gaussian_1d", "TOY_DOMAINS"]


@dataclass
class GaussianMixture:
    """An equal-weight mixture of isotropic Gaussians.

    Attributes:
        name: registry name.
        centres: ``(K, D)`` mode centres.
        sigma: standard deviation of every component.
    """

    name: str
    centres: torch.Tensor
    sigma: float

    def __post_init__(self) -> None:
        self.centres = torch.as_tensor(self.centres, dtype=torch.float32)
        if self.centres.ndim != 2:
            raise ValueError(f"centres must have shape (K, D), got {tuple(self.centres.shape)}")
        if not self.sigma > 0:
            raise ValueError(f"sigma must be positive, got {self.sigma}")

    @property
    def dim(self) -> int:
        """Dimension D of a sample."""
        return self.centres.shape[1]

    @property
    def num_modes(self) -> int:
        """Number K of mixture components."""
        return self.centres.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` samples, shape ``(n, D)``, float32 on the CPU."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        idx = torch.randint(self.num_modes, (n,), generator=generator)
        noise = torch.randn(n, self.dim, generator=generator)
        return self.centres[idx] + self.sigma * noise

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        """Log of the mixture density at points ``x`` of shape ``(n, D)``; returns ``(n,)``."""
        x = torch.as_tensor(x, dtype=torch.float32)
        if x.ndim == 1 and self.dim == 1:
            x = x[:, None]
        sq = torch.cdist(x, self.centres).pow(2)  # (n, K)
        log_comp = -sq / (2 * self.sigma**2) - self.dim * math.log(self.sigma * math.sqrt(2 * math.pi))
        return torch.logsumexp(log_comp, dim=1) - math.log(self.num_modes)

    def density(self, x: torch.Tensor) -> torch.Tensor:
        """Mixture density at ``x`` (``(n, D)``, or ``(n,)`` in 1-D)."""
        return self.log_density(x).exp()

    def __len__(self) -> int:  # a toy distribution has no fixed size
        raise TypeError(f"toy distribution {self.name!r} has no length: draw samples with .sample(n)")


def ring(num_modes: int = 8, radius: float = 1.0, sigma: float = 0.05) -> GaussianMixture:
    """``num_modes`` Gaussians evenly spaced on a circle.

    The angles are ``2πk/K`` for ``k = 0..K-1`` (``linspace(0, 2π, K)`` would put the
    last mode on top of the first and give only K-1 distinct modes).
    """
    angles = torch.arange(num_modes, dtype=torch.float64) * (2 * math.pi / num_modes)
    centres = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    return GaussianMixture("ring", centres.float(), sigma)


def grid(side: int = 5, spacing: float = 0.5, sigma: float = 0.05) -> GaussianMixture:
    """``side × side`` Gaussians on a square grid centred on the origin."""
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    xs, ys = torch.meshgrid(ticks, ticks, indexing="ij")
    return GaussianMixture("grid", torch.stack([xs.flatten(), ys.flatten()], dim=1), sigma)


def gaussian_1d(mean: float = 0.0, std: float = 1.0) -> GaussianMixture:
    """A single 1-D Gaussian :math:`\\mathcal N(\\text{mean}, \\text{std}^2)`."""
    return GaussianMixture("gaussian-1d", torch.tensor([[float(mean)]]), std)


TOY_DOMAINS = {
    "ring": (ring, "8 Gaussians evenly spaced on the unit circle (2-D, sigma 0.05)"),
    "grid": (grid, "25 Gaussians on a 5x5 grid in [-1, 1]^2 (2-D, sigma 0.05)"),
    "gaussian-1d": (gaussian_1d, "one 1-D Gaussian N(0, 1), chapter 1's data"),
}
