r"""The 1-D quantities of chapter 1, computed on a grid, exactly to numerical precision.

Densities are NumPy arrays sampled on a grid ``x`` (equally spaced or not); integrals
use the trapezoidal rule, so a fine grid over the support gives errors far below
what the chapter's checks need. All logarithms are natural, so divergences are in nats
and :math:`\mathrm{JSD} \le \log 2`.

The results of Goodfellow et al. (2014) that chapter 1 checks:

.. math::

    V(D, G) = \mathbb E_{x\sim p_\text{data}}[\log D(x)] + \mathbb E_{x\sim p_g}[\log(1 - D(x))]

    D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}

    C(G) = V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data} \,\|\, p_g)
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = [
    "gaussian_density", "integrate", "optimal_discriminator", "gaussian_optimal_discriminator",
    "value_function", "value_at_optimum", "kl_divergence", "gaussian_kl", "jensen_shannon",
    "jensen_shannon_mc", "wasserstein_1d", "dirac_gan",
]


def _as_arrays(*arrays) -> list[np.ndarray]:
    out = [np.asarray(a, dtype=np.float64) for a in arrays]
    shape = out[0].shape
    for a in out[1:]:
        if a.shape != shape:
            raise ValueError(f"arrays must have the same shape, got {shape} and {a.shape}")
    return out


def gaussian_density(x, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    r"""The density of :math:`\mathcal N(\text{mean}, \text{std}^2)` at ``x``."""
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}")
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def integrate(values, x) -> float:
    r"""Trapezoidal rule :math:`\int f(x)\,dx` of samples ``values`` on the grid ``x`` (1-D, increasing)."""
    values, x = _as_arrays(values, x)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f"x must be a 1-D grid of at least 2 points, got shape {x.shape}")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    return float(np.sum(0.5 * (values[1:] + values[:-1]) * np.diff(x)))


def _xlogy_ratio(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``p * log(p / q)`` with the conventions ``0 log(0/q) = 0`` and ``p log(p/0) = +inf``."""
    out = np.zeros_like(p)
    positive = p > 0
    with np.errstate(divide="ignore"):
        out[positive] = p[positive] * (np.log(p[positive]) - np.log(q[positive]))
    return out


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    r"""The best discriminator for a fixed generator, pointwise on density arrays:

    .. math:: D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}

    Where both densities vanish :math:`D^*` is not determined (no sample ever lands
    there); we return :math:`\tfrac12` there.

    Args:
        p_data, p_g: non-negative arrays of the same shape (densities at the same points).
    """
    p_data, p_g = _as_arrays(p_data, p_g)
    if np.any(p_data < 0) or np.any(p_g < 0):
        raise ValueError("densities must be non-negative")
    total = p_data + p_g
    out = np.full_like(total, 0.5)
    np.divide(p_data, total, out=out, where=total > 0)
    return out


def gaussian_optimal_discriminator(x, mean_g: float, mean_data: float = 0.0, std: float = 1.0) -> np.ndarray:
    r"""Closed form of :math:`D^*` for :math:`p_\text{data} = \mathcal N(m_d, s^2)` and :math:`p_g = \mathcal N(m_g, s^2)`:

    .. math:: D^*(x) = \sigma\!\Big(\frac{(x - m_g)^2 - (x - m_d)^2}{2 s^2}\Big),

    which for :math:`m_d = 0, s = 1, m_g = \mu` is :math:`\sigma(\mu^2/2 - \mu x)`: a logistic
    regression in :math:`x`, so a logistic discriminator can represent it exactly.
    """
    x = np.asarray(x, dtype=np.float64)
    logit = ((x - mean_g) ** 2 - (x - mean_data) ** 2) / (2 * std**2)
    return 1.0 / (1.0 + np.exp(-logit))


def value_function(d, p_data, p_g, x) -> float:
    r"""The value of the game for a discriminator ``d`` (an array of :math:`D(x)` in ``(0, 1)``):

    .. math:: V(D, G) = \int p_\text{data}(x) \log D(x) + p_g(x) \log(1 - D(x))\, dx

    Terms with zero density contribute zero (``0 · log 0 = 0``).
    """
    d, p_data, p_g, x = _as_arrays(d, p_data, p_g, x)
    if np.any(d < 0) or np.any(d > 1):
        raise ValueError("D(x) must lie in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        real_term = np.where(p_data > 0, p_data * np.log(d), 0.0)
        fake_term = np.where(p_g > 0, p_g * np.log1p(-d), 0.0)
    return integrate(real_term + fake_term, x)


def value_at_optimum(p_data, p_g, x) -> float:
    r"""The generator's criterion :math:`C(G) = V(D^*, G)`, integrated directly.

    Goodfellow et al.'s Theorem 1 says :math:`C(G) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data}\|p_g)`,
    with its minimum :math:`-\log 4` exactly when :math:`p_g = p_\text{data}`. This function does
    **not** use that identity (it evaluates :math:`V` at :math:`D^*`, as
    :math:`\int p_\text{data}\log\frac{p_\text{data}}{p_\text{data}+p_g} + p_g\log\frac{p_g}{p_\text{data}+p_g}\,dx`),
    so the two can be checked against each other.
    """
    p_data, p_g, x = _as_arrays(p_data, p_g, x)
    if np.any(p_data < 0) or np.any(p_g < 0):
        raise ValueError("densities must be non-negative")
    total = p_data + p_g
    # log D* = log(p_data / total) and log(1 - D*) = log(p_g / total), taken as ratios so that
    # far in the tails (where D* rounds to exactly 0 or 1) nothing becomes log 0.
    return integrate(_xlogy_ratio(p_data, total) + _xlogy_ratio(p_g, total), x)


def kl_divergence(p, q, x) -> float:
    r""":math:`\mathrm{KL}(p\|q) = \int p \log(p/q)\,dx` on the grid ``x`` (``inf`` where ``p > 0 = q``)."""
    p, q, x = _as_arrays(p, q, x)
    return integrate(_xlogy_ratio(p, q), x)


def gaussian_kl(mean_p: float, std_p: float, mean_q: float, std_q: float) -> float:
    r"""Closed form :math:`\mathrm{KL}(\mathcal N(m_p, s_p^2) \| \mathcal N(m_q, s_q^2)) = \log\frac{s_q}{s_p} + \frac{s_p^2 + (m_p - m_q)^2}{2 s_q^2} - \frac12`."""
    return math.log(std_q / std_p) + (std_p**2 + (mean_p - mean_q) ** 2) / (2 * std_q**2) - 0.5


def jensen_shannon(p, q, x) -> float:
    r"""Jensen--Shannon divergence of two densities on the grid ``x``, in nats:

    .. math:: \mathrm{JSD}(p\|q) = \tfrac12 \mathrm{KL}(p\|m) + \tfrac12 \mathrm{KL}(q\|m), \quad m = \tfrac{p + q}{2}

    Symmetric, between 0 (equal densities) and :math:`\log 2` (disjoint supports), and finite
    even when the supports do not overlap (unlike the KL divergence).
    """
    p, q, x = _as_arrays(p, q, x)
    m = 0.5 * (p + q)
    return 0.5 * integrate(_xlogy_ratio(p, m), x) + 0.5 * integrate(_xlogy_ratio(q, m), x)


def jensen_shannon_mc(sample_p: Callable[[int, np.random.Generator], np.ndarray], log_p: Callable,
                      sample_q: Callable[[int, np.random.Generator], np.ndarray], log_q: Callable,
                      n: int = 100_000, seed: int = 0) -> tuple[float, float]:
    r"""Monte Carlo estimate of the JSD from samples, with its standard error:

    .. math:: \mathrm{JSD} = \tfrac12\,\mathbb E_{x\sim p}\Big[\log\frac{2p(x)}{p(x)+q(x)}\Big]
              + \tfrac12\,\mathbb E_{x\sim q}\Big[\log\frac{2q(x)}{p(x)+q(x)}\Big]

    Args:
        sample_p, sample_q: ``f(n, rng)`` returning ``n`` samples.
        log_p, log_q: log densities, vectorised over arrays.
        n: samples from each distribution.
        seed: seeds the NumPy generator passed to the samplers.

    Returns:
        ``(estimate, standard_error)`` in nats.
    """
    rng = np.random.default_rng(seed)
    terms = []
    for sample, log_own, log_other in ((sample_p, log_p, log_q), (sample_q, log_q, log_p)):
        xs = np.asarray(sample(n, rng), dtype=np.float64)
        own, other = log_own(xs), log_other(xs)
        terms.append(math.log(2) + own - np.logaddexp(own, other))  # log 2p/(p+q), stable
    estimate = 0.5 * (terms[0].mean() + terms[1].mean())
    error = 0.5 * math.sqrt(terms[0].var(ddof=1) / n + terms[1].var(ddof=1) / n)
    return float(estimate), float(error)


def wasserstein_1d(p, q, x) -> float:
    r"""Earth mover's distance of two 1-D densities on the grid ``x``: :math:`W_1 = \int |F_p(x) - F_q(x)|\,dx`.

    Unlike the JSD it keeps shrinking as two disjoint distributions move towards each other
    (Arjovsky et al., 2017).
    """
    p, q, x = _as_arrays(p, q, x)
    steps = np.diff(x)
    cdf = lambda f: np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * steps)])
    return integrate(np.abs(cdf(p) - cdf(q)), x)


def dirac_gan(theta: float = 1.0, psi: float = 1.0, lr: float = 0.1, steps: int = 200,
              simultaneous: bool = True) -> np.ndarray:
    r"""Gradient play in the Dirac-GAN of Mescheder et al. (2018).

    The data is a point mass at 0, the generator a point mass at :math:`\theta`, the
    discriminator :math:`D_\psi(x) = \sigma(\psi x)`. With :math:`f(t) = -\log(1 + e^{-t})`,

    .. math:: V(\psi, \theta) = f(\psi\theta) + f(0),

    D ascends :math:`V` in :math:`\psi` and G descends it in :math:`\theta`. The unique
    equilibrium is :math:`(\theta, \psi) = (0, 0)`; the game's Jacobian there has eigenvalues
    :math:`\pm i f'(0)`, so simultaneous steps spiral *outwards* and alternating steps circle.

    Returns:
        ``(steps + 1, 2)`` array of :math:`(\theta, \psi)` along the way.
    """
    def f_prime(t: float) -> float:  # f'(t) = sigma(-t)
        return 1.0 / (1.0 + math.exp(t))

    path = [(theta, psi)]
    for _ in range(steps):
        if simultaneous:
            grad_theta = f_prime(psi * theta) * psi   # dV/dtheta
            grad_psi = f_prime(psi * theta) * theta   # dV/dpsi
            theta, psi = theta - lr * grad_theta, psi + lr * grad_psi
        else:  # D first, then G sees the new D
            psi = psi + lr * f_prime(psi * theta) * theta
            theta = theta - lr * f_prime(psi * theta) * psi
        path.append((theta, psi))
    return np.asarray(path)
