r"""GAN losses by name, all written on the discriminator's **logits** :math:`\ell`.

With :math:`D(x) = \sigma(\ell(x))` and the identities
:math:`-\log \sigma(\ell) = \operatorname{softplus}(-\ell)` and
:math:`-\log(1-\sigma(\ell)) = \operatorname{softplus}(\ell)`, every loss is
numerically stable (no ``log(0)``). Each function's docstring carries the formula
it computes; ``tests/test_losses.py`` checks formula against code.

Use :func:`get_loss` (or the registry :data:`LOSSES`) to pick a pair by name:

>>> loss = get_loss("non-saturating")
>>> d_loss = loss.d_loss(real_logits, fake_logits); g_loss = loss.g_loss(fake_logits)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

__all__ = ["GANLoss", "LOSSES", "get_loss", "bce_d_loss", "saturating_g_loss",
           "non_saturating_g_loss", "least_squares_d_loss", "least_squares_g_loss",
           "hinge_d_loss", "hinge_g_loss", "r1_penalty", "info_loss", "f_constancy", "identity_loss", "total_variation", "cycle_loss"]


def bce_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    r"""Goodfellow et al.'s discriminator loss (binary cross-entropy):

    .. math:: L_D = -\mathbb E_x[\log D(x)] - \mathbb E_z[\log(1 - D(G(z)))]
                  = \overline{\operatorname{softplus}(-\ell_\text{real})} + \overline{\operatorname{softplus}(\ell_\text{fake})}
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def saturating_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The minimax generator loss, which **saturates** when D rejects the fakes:

    .. math:: L_G = \mathbb E_z[\log(1 - D(G(z)))] = -\overline{\operatorname{softplus}(\ell_\text{fake})}

    Its gradient with respect to the logit is :math:`-\sigma(\ell)`, which vanishes when
    :math:`D(G(z)) \to 0`: exactly early in training.
    """
    return -F.softplus(fake_logits).mean()


def non_saturating_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The non-saturating generator loss used in practice:

    .. math:: L_G = -\mathbb E_z[\log D(G(z))] = \overline{\operatorname{softplus}(-\ell_\text{fake})}

    Its gradient with respect to the logit is :math:`\sigma(\ell) - 1`, close to
    :math:`-1` when D rejects the fakes.
    """
    return F.softplus(-fake_logits).mean()


def least_squares_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    r"""Least-squares GAN (Mao et al., 2017), discriminator with targets 1 (real) and 0 (fake):

    .. math:: L_D = \tfrac12\,\mathbb E_x[(\ell_\text{real} - 1)^2] + \tfrac12\,\mathbb E_z[\ell_\text{fake}^2]
    """
    return 0.5 * (real_logits - 1).pow(2).mean() + 0.5 * fake_logits.pow(2).mean()


def least_squares_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    r"""Least-squares GAN generator loss:

    .. math:: L_G = \tfrac12\,\mathbb E_z[(\ell_\text{fake} - 1)^2]
    """
    return 0.5 * (fake_logits - 1).pow(2).mean()


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    r"""Hinge discriminator loss (Lim & Ye 2017; Miyato et al. 2018):

    .. math:: L_D = \mathbb E_x[\max(0, 1 - \ell_\text{real})] + \mathbb E_z[\max(0, 1 + \ell_\text{fake})]
    """
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def hinge_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    r"""Hinge generator loss:

    .. math:: L_G = -\mathbb E_z[\ell_\text{fake}]
    """
    return -fake_logits.mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    r"""The R1 gradient penalty (Mescheder, Geiger & Nowozin 2018) on real images, without its weight:

    .. math:: R_1 = \mathbb E_x \lVert \nabla_x \ell(x) \rVert^2

    ``real`` must require grad and ``real_logits`` be computed from it. The gradient is kept in
    the graph (``create_graph=True``), so ``(gamma / 2) * r1_penalty(...)`` added to D's loss
    trains D to be flat around the data: it cannot sharpen its verdict on the real images
    without bound, which is what makes plain GAN training oscillate near equilibrium.
    """
    if not real.requires_grad:
        raise ValueError("r1_penalty needs the gradient with respect to the real images: call "
                         "real.requires_grad_(True) before computing real_logits from them")
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def info_loss(code_logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    r"""InfoGAN's information term (Chen et al. 2016), without its weight: how badly the code head
    :math:`Q` reads the categorical code :math:`c` back from the fakes,

    .. math:: L_I = \mathbb E_{c, \varepsilon}\big[-\log Q(c \mid G(\varepsilon, c))\big]
              = H(c) - \big(\text{a lower bound of } I(c; G(\varepsilon, c))\big)

    the cross-entropy of ``code_logits (N, K)`` against ``codes (N,)``. D (which holds :math:`Q`)
    and G both minimise it: :math:`Q` learns to read the code, G to draw it readably, which
    maximises the bound on the mutual information between code and image.
    """
    return F.cross_entropy(code_logits, codes)


# --------------------------------------------------------------------------- translation between domains

def f_constancy(f_x: torch.Tensor, f_gx: torch.Tensor) -> torch.Tensor:
    r"""DTN's f-constancy (Taigman et al. 2017): the translation keeps what ``f`` sees.

    .. math:: L_\text{CONST} = \mathbb E_x\, \lVert f(x) - f(G(x)) \rVert_2^2 / d

    with ``d`` the length of the feature vector (a mean over its entries).
    """
    return (f_x - f_gx).pow(2).flatten(1).mean(1).mean()


def identity_loss(x: torch.Tensor, g_x: torch.Tensor) -> torch.Tensor:
    r"""An image already in the target domain should come back unchanged (mean squared error):

    .. math:: L_\text{TID} = \mathbb E_{x_t}\, \lVert x_t - G(x_t) \rVert_2^2 / (C H W)
    """
    return (x - g_x).pow(2).mean()


def total_variation(images: torch.Tensor) -> torch.Tensor:
    r"""Anisotropic total variation, a smoothness prior: mean absolute difference of neighbouring pixels.

    .. math:: L_\text{TV} = \mathbb E\, |x_{i+1,j} - x_{i,j}| + \mathbb E\, |x_{i,j+1} - x_{i,j}|
    """
    return ((images[..., 1:, :] - images[..., :-1, :]).abs().mean()
            + (images[..., :, 1:] - images[..., :, :-1]).abs().mean())


def cycle_loss(x: torch.Tensor, x_back: torch.Tensor) -> torch.Tensor:
    r"""CycleGAN's cycle consistency (Zhu et al. 2017): there and back again gives the input (L1).

    .. math:: L_\text{cyc} = \mathbb E_x\, \lVert F(G(x)) - x \rVert_1 / (C H W)
    """
    return (x - x_back).abs().mean()


@dataclass(frozen=True)
class GANLoss:
    """A named pair of losses: ``d_loss(real_logits, fake_logits)`` and ``g_loss(fake_logits)``."""

    name: str
    d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    g_loss: Callable[[torch.Tensor], torch.Tensor]
    description: str


#: Every loss pair by name (saturating, non-saturating, least-squares, hinge).
LOSSES: dict[str, GANLoss] = {
    loss.name: loss
    for loss in (
        GANLoss("saturating", bce_d_loss, saturating_g_loss,
                "the original minimax game: G minimises log(1 - D(G(z)))"),
        GANLoss("non-saturating", bce_d_loss, non_saturating_g_loss,
                "G maximises log D(G(z)): same fixed point, strong gradients early on"),
        GANLoss("least-squares", least_squares_d_loss, least_squares_g_loss,
                "LSGAN: squared distance of the logits to the targets 1 and 0"),
        GANLoss("hinge", hinge_d_loss, hinge_g_loss,
                "hinge loss for D, -logit for G (SNGAN, BigGAN)"),
    )
}


def get_loss(name: str | GANLoss) -> GANLoss:
    """The loss pair called ``name`` (``"saturating"``, ``"non-saturating"``, ``"least-squares"``, ``"hinge"``).

    Raises:
        ValueError: unknown name; the message lists the known ones.
    """
    if isinstance(name, GANLoss):
        return name
    key = str(name).strip().lower().replace("_", "-").replace(" ", "-")
    aliases = {"minimax": "saturating", "ns": "non-saturating", "nonsaturating": "non-saturating",
               "lsgan": "least-squares", "ls": "least-squares"}
    key = aliases.get(key, key)
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(LOSSES)}")
    return LOSSES[key]
