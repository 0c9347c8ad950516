r"""Latent priors: where the noise ``z`` that G turns into images comes from.

A generator is a continuous function, so it maps a *connected* latent distribution
(such as :math:`\mathcal{N}(0, I)`) onto a connected set of images. When the data
fall into separate classes (the ten digits), some latent vectors must land *between*
them: on any path from a latent "3" to a latent "8", a classifier's two probabilities
cross, and at the crossing neither can exceed 0.5. Chapter 5 measures this.

A Gaussian mixture prior (DeLiGAN, Gurumurthy et al., 2017) gives G separate islands
of latent mass with little probability between them, so G can spend the gaps on the
transitions. A code prior (InfoGAN, Chen et al., 2016) appends a one-hot *categorical
code* to the noise; trained with ``TrainConfig.info_weight``, D must read the code back
from G's image, so every value of the code has to draw something recognisably its own.
Every prior samples through a ``torch.Generator`` and describes itself as a plain dict,
so a checkpoint can rebuild it.
"""
from __future__ import annotations

import torch

__all__ = ["StandardNormal", "MixturePrior", "CodePrior", "build_prior", "prior_for"]


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


class CodePrior(StandardNormal):
    r""":math:`z = [\varepsilon, \operatorname{onehot}(c)]`: noise plus InfoGAN's categorical code.

    The last ``categories`` entries of z are a one-hot code :math:`c`, drawn uniformly; the
    first ``latent_dim - categories`` are :math:`\mathcal N(0, I)` noise. On its own the code is
    just more input. Trained with ``TrainConfig.info_weight`` :math:`\lambda > 0`, the
    discriminator gets a code head :math:`Q` that must tell :math:`c` from :math:`G(z)`, and G is
    rewarded when it can (:func:`gantutor.losses.info_loss`, Chen et al. 2016):

    .. math:: \min_{G, Q} \max_D \; V(D, G) + \lambda\, \mathbb E_{c, \varepsilon}\big[-\log Q(c \mid G(\varepsilon, c))\big]

    so each value of the code has to draw something that no other value draws.

    Args:
        latent_dim: length of z, code included.
        categories: values of the code (at least 2, fewer than ``latent_dim``).
    """

    def __init__(self, latent_dim: int, categories: int = 10) -> None:
        super().__init__(latent_dim)
        if isinstance(categories, bool) or not isinstance(categories, int) or categories < 2:
            raise ValueError(f"a categorical code needs at least 2 categories, got {categories!r}")
        if categories >= latent_dim:
            raise ValueError(f"the code ({categories} entries) leaves no noise in z of length {latent_dim}: "
                             f"make latent_dim larger than categories")
        self.categories = categories

    def sample(self, n: int, generator: torch.Generator | None = None,
               device: torch.device | str | None = None) -> torch.Tensor:
        """``n`` latent vectors ``(n, latent_dim)``, each code value equally likely."""
        device = generator.device if generator is not None else device
        noise = torch.randn(n, self.latent_dim - self.categories, generator=generator, device=device)
        codes = torch.randint(self.categories, (n,), generator=generator, device=device)
        return self.with_code(noise, codes)

    def with_code(self, noise: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """z from ``noise (n, latent_dim - categories)`` and chosen ``codes (n,)``: one code's images, side by side."""
        codes = torch.as_tensor(codes, device=noise.device).long()
        if noise.ndim != 2 or noise.shape[1] != self.latent_dim - self.categories or codes.shape != (len(noise),):
            raise ValueError(f"with_code needs noise of shape (n, {self.latent_dim - self.categories}) and n codes, "
                             f"got {tuple(noise.shape)} and {tuple(codes.shape)}")
        if len(codes) and (int(codes.min()) < 0 or int(codes.max()) >= self.categories):
            raise ValueError(f"codes must lie in 0..{self.categories - 1}")
        return torch.cat([noise, torch.nn.functional.one_hot(codes, self.categories).to(noise.dtype)], dim=1)

    def code(self, z: torch.Tensor) -> torch.Tensor:
        """The code of each latent vector, ``(n,)`` int64."""
        return z[:, -self.categories:].argmax(dim=1)

    def describe(self) -> dict:
        return {"name": "CodePrior", "latent_dim": self.latent_dim, "categories": self.categories}

    def __repr__(self) -> str:
        return f"CodePrior(latent_dim={self.latent_dim}, categories={self.categories})"


_PRIORS = {cls.__name__: cls for cls in (StandardNormal, MixturePrior, CodePrior)}
_PRIORS["GaussianMixture"] = MixturePrior  # the name checkpoints written before the rename carry


def build_prior(description: dict) -> StandardNormal:
    """Rebuild a prior from :meth:`describe`'s dict (as stored in a checkpoint)."""
    description = dict(description)
    name = description.pop("name", None)
    if name not in _PRIORS:
        raise ValueError(f"unknown latent prior {name!r}; known: StandardNormal, MixturePrior, CodePrior")
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
