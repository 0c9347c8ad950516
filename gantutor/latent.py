r"""Latent priors: where the noise ``z`` that G turns into images comes from.

A generator is a continuous function, so it maps a *connected* latent distribution
(such as :math:`\mathcal{N}(0, I)`) onto a connected set of images. When the data
fall into separate classes (the ten digits), some latent vectors must land *between*
them: on any path from a latent "3" to a latent "8", a classifier's two probabilities
cross, and at the crossing neither can exceed 0.5. Chapter 5 measures this.

A Gaussian mixture prior (DeLiGAN, Gurumurthy et al., 2017) gives G separate islands
of latent mass with little probability between them, so G can spend the gaps on the
transitions. Both priors sample through a ``torch.Generator`` and describe themselves
as a plain dict, so a checkpoint can rebuild them.
"""
from __future__ import annotations

import torch

__all__ = ["StandardNormal", "MixturePrior", "build_prior", "prior_for"]


class StandardNormal:
    """``z ~ N(0, I)`` in ``latent_dim`` dimensions: the prior of DCGAN and of the whole book by default."""

    def __init__(self, latent_dim: int) -> None:
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be at least 1, got {latent_dim}")
        self.latent_dim = latent_dim

    def sample(self, n: int, generator: torch.Generator | None = None,
               device: torch.device | str | None = None) -> torch.Tensor:
        """``n`` latent vectors, shape ``(n, latent_dim)``."""
        device = generator.device if generator is not None else device
        return torch.randn(n, self.latent_dim, generator=generator, device=device)

    def describe(self) -> dict:
        return {"name": "StandardNormal", "latent_dim": self.latent_dim}

    def __repr__(self) -> str:
        return f"StandardNormal(latent_dim={self.latent_dim})"


class MixturePrior(StandardNormal):
    r"""``z = c_k + \varepsilon``: a uniformly chosen centre ``c_k`` plus ``N(0, I)`` noise.

    The ``components`` centres are drawn once from ``N(0, scale^2 I)`` with ``seed``, so
    the same arguments always give the same prior. In 64 dimensions two centres lie
    about ``11 * scale`` apart while a sample lies about 8 from its own centre, so the
    islands barely overlap for ``scale >= 1``.

    Args:
        latent_dim: length of z.
        components: number of islands (more than the number of classes in the data,
            so that G can give each class several).
        scale: spread of the centres.
        seed: seeds the centres.
    """

    def __init__(self, latent_dim: int, components: int = 50, scale: float = 1.0, seed: int = 0) -> None:
        super().__init__(latent_dim)
        if components < 1:
            raise ValueError(f"components must be at least 1, got {components}")
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.components, self.scale, self.seed = components, float(scale), seed
        self.centres = torch.randn(components, latent_dim, generator=torch.Generator().manual_seed(seed)) * scale

    def sample(self, n: int, generator: torch.Generator | None = None,
               device: torch.device | str | None = None) -> torch.Tensor:
        """``n`` latent vectors, shape ``(n, latent_dim)``."""
        device = generator.device if generator is not None else device
        index = torch.randint(self.components, (n,), generator=generator, device=device)
        noise = torch.randn(n, self.latent_dim, generator=generator, device=device)
        return self.centres.to(noise.device)[index] + noise

    def describe(self) -> dict:
        return {"name": "MixturePrior", "latent_dim": self.latent_dim, "components": self.components,
                "scale": self.scale, "seed": self.seed}

    def __repr__(self) -> str:
        return (f"MixturePrior(latent_dim={self.latent_dim}, components={self.components}, "
                f"scale={self.scale}, seed={self.seed})")


_PRIORS = {cls.__name__: cls for cls in (StandardNormal, MixturePrior)}
_PRIORS["GaussianMixture"] = MixturePrior  # the name checkpoints written before the rename carry


def build_prior(description: dict) -> StandardNormal:
    """Rebuild a prior from :meth:`describe`'s dict (as stored in a checkpoint)."""
    description = dict(description)
    name = description.pop("name", None)
    if name not in _PRIORS:
        raise ValueError(f"unknown latent prior {name!r}; known: StandardNormal, MixturePrior")
    return _PRIORS[name](**description)


def prior_for(description: dict | None, latent_dim: int, who: str) -> StandardNormal:
    """The prior a network that carries its own (e.g. ``CoupledGenerator``) was built with: ``N(0, I)``
    for ``None``, else :func:`build_prior` of ``description``, checked against ``latent_dim``."""
    if description is None:
        return StandardNormal(latent_dim)
    if not isinstance(description, dict):
        raise ValueError(f"{who}'s prior is a prior's description (a dict, e.g. MixturePrior(64).describe()), "
                         f"got {type(description).__name__}")
    prior = build_prior(description)
    if prior.latent_dim != latent_dim:
        raise ValueError(f"the prior makes z of length {prior.latent_dim} but latent_dim is {latent_dim}: "
                         f"build the prior with latent_dim={latent_dim}")
    return prior
