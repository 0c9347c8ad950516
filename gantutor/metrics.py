"""Measuring a GAN: how many modes it covers, how far its samples are from real ones.

Chapter 2 uses :func:`mode_coverage` on the toy mixtures; chapter 6 adds the
feature network, the Fréchet distance, KID and precision/recall.
"""
from __future__ import annotations

import math

import torch

__all__ = ["mode_coverage"]


def mode_coverage(samples: torch.Tensor, centres: torch.Tensor, sigma: float,
                  min_count: int | None = None) -> dict:
    r"""Mode coverage of samples from a Gaussian mixture (VEEGAN / PacGAN benchmarks).

    A sample is **high quality** when it lies within :math:`3\sigma` of its nearest centre.
    A mode is **covered** when at least ``min_count`` high-quality samples fall to it;
    the default is PacGAN's rule, 20 per 2,500 samples, scaled to ``len(samples)``.

    Args:
        samples: ``(N, D)`` points.
        centres: ``(K, D)`` mode centres.
        sigma: the common standard deviation of the modes.
        min_count: high-quality samples a mode needs to count as covered.

    Returns:
        ``modes_covered`` (int), ``num_modes``, ``high_quality`` (share of samples within 3σ),
        ``counts`` (high-quality samples per mode) and ``kl_to_uniform`` (KL divergence of the
        high-quality samples' mode histogram from the uniform one; 0 is perfectly balanced).
    """
    samples = torch.as_tensor(samples, dtype=torch.float32).detach().cpu()
    centres = torch.as_tensor(centres, dtype=torch.float32).detach().cpu()
    if samples.ndim != 2 or centres.ndim != 2 or samples.shape[1] != centres.shape[1]:
        raise ValueError(f"samples (N, D) and centres (K, D) must agree in D, got {tuple(samples.shape)} "
                         f"and {tuple(centres.shape)}")
    if len(samples) == 0:
        raise ValueError("no samples to measure")
    if min_count is None:
        min_count = max(1, round(20 * len(samples) / 2500))
    distances = torch.cdist(samples, centres)
    nearest_distance, nearest = distances.min(dim=1)
    good = nearest_distance <= 3 * sigma
    counts = torch.bincount(nearest[good], minlength=len(centres))
    share = counts.float() / max(1, int(good.sum()))
    nonzero = share > 0
    kl = float((share[nonzero] * (share[nonzero] * len(centres)).log()).sum()) if good.any() else math.inf
    return {
        "modes_covered": int((counts >= min_count).sum()),
        "num_modes": len(centres),
        "high_quality": float(good.float().mean()),
        "counts": counts.tolist(),
        "kl_to_uniform": kl,
    }
