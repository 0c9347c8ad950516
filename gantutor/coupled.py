r"""Coupled GANs (Liu & Tuzel 2016): corresponding images in two domains, learned without pairs.

Two generators share their **first** blocks (the high-level layout: which digit, where, how
slanted) and keep their own last blocks (how a stroke is rendered in each domain); two
discriminators keep their own first blocks and share their **last** ones. Each pair is a
plain GAN on its own domain's images, and the two domains' images are *disjoint* halves of
the data: no pair is ever shown. The sharing is what makes one z give the same digit in
both domains, because the cheapest way for a shared trunk to serve two heads is to encode
what the domains have in common.

Written this way a coupled GAN is a **conditional GAN whose label picks the domain**:
``G(z, d)`` runs the shared trunk on z and then domain d's head; ``D(x, d)`` runs domain d's
front and then the shared back. The sum of the two GAN losses is then exactly the loss the
book's one :class:`~gantutor.train.Trainer` already computes for a conditional GAN with
labels ``d`` drawn 50/50, so CoGAN needs no training loop of its own.

    >>> G = CoupledGenerator(shared=3)
    >>> x_mnist, x_edges = pairs(G, 8)          # the same z through both heads
"""
from __future__ import annotations

import torch
from torch import nn

from .checks import whole_number
from .data import ImageDomain, load_domain
from .data.images import mnist_edges
from .latent import CodePrior, MixturePrior
from .nets import CoupledDiscriminator, CoupledGenerator
from .recipes import TrainConfig

__all__ = ["CoupledGenerator", "CoupledDiscriminator", "PAIR_DOMAINS", "TRAINING", "MIXTURE", "CODE", "disjoint_pair",
           "coupled_trainer", "pairs", "render", "foreground", "iou", "correspondence"]

#: The second domains a coupled GAN pairs with MNIST, and how an MNIST image looks in each
#: (CoGAN's own digit experiments: edges and negatives).
PAIR_DOMAINS = ("mnist-edges", "mnist-negative")


#: How the book trains a coupled GAN: chapter 5's settings (Adam 5e-4 for both, batch 64, EMA 0.999).
TRAINING = TrainConfig(lr_g=5e-4, lr_d=5e-4, ema_decay=0.999)

#: A prior of z for coupled GANs: chapter 5's mixture of 50 islands (DeLiGAN), which leaves fewer
#: generated digits between two classes, and so fewer pairs whose digit can be read two ways.
MIXTURE = MixturePrior(64, components=50).describe()

#: A prior of z with InfoGAN's categorical code: 50 noise entries and a one-hot code of 50 values.
#: Trained with ``info_weight > 0``, one code head on the discriminators' shared back must read the
#: code in *both* domains, so both generators have to draw each code alike, and differently from
#: every other code.
CODE = CodePrior(100, categories=50).describe()


def render(images: torch.Tensor, domain: str) -> torch.Tensor:
    """MNIST images as ``domain`` draws them: ``mnist-edges`` their outlines, ``mnist-negative`` ``-x``."""
    if domain == "mnist-edges":
        return mnist_edges(images)
    if domain == "mnist-negative":
        return -images
    raise ValueError(f"a coupled pair is MNIST and one of {', '.join(PAIR_DOMAINS)}, got {domain!r}")


def disjoint_pair(second: str, n: int = 2000, split: str = "train") -> ImageDomain:
    """Training data of a coupled GAN: ``n`` MNIST images labelled 0, and the *other* ``n`` MNIST
    images drawn as ``second`` labelled 1. No image of one domain is the counterpart of one of the other."""
    render(torch.zeros(1, 1, 28, 28), second)  # checks the name
    n = whole_number(n, "n", "disjoint_pair", minimum=1)
    base = load_domain("mnist", split=split)
    if 2 * n > len(base):
        raise ValueError(f"the MNIST {split} split has {len(base)} images, so two disjoint halves hold at most "
                         f"{len(base) // 2} each; pass n <= {len(base) // 2}")
    images = torch.cat([base.images[:n], render(base.images[n: 2 * n], second)])
    domains = torch.cat([torch.zeros(n), torch.ones(n)]).long()
    return ImageDomain(images, domains, name=f"mnist+{second}", split=split,
                       source=f"two disjoint halves of {base.source}", classes=["mnist", second])


def coupled_trainer(second: str, shared_g: int = 3, shared_d: int = 2, base_width: int = 32, seed: int = 0,
                    n: int = 2000, device=None, prior: dict | None = None, r1_gamma: float = 0.0,
                    info_weight: float = 0.0):
    """A :class:`~gantutor.train.Trainer` of a coupled GAN for MNIST and ``second`` on :func:`disjoint_pair`,
    with :data:`TRAINING`'s settings and ``seed`` (the networks are built from it too).

    Args:
        prior: the prior of z (default ``N(0, I)``; e.g. :data:`MIXTURE` or :data:`CODE`), which the
            generator keeps; its ``latent_dim`` is the generator's.
        r1_gamma: chapter 5's R1 penalty on both discriminators (0: none, as in the chapter's live runs).
        info_weight: InfoGAN's information term (0: none); needs a :class:`~gantutor.latent.CodePrior`,
            and gives the shared back of the discriminators a code head that reads its code in both domains.
    """
    from .train import Trainer

    latent_dim = prior["latent_dim"] if isinstance(prior, dict) and "latent_dim" in prior else 64
    torch.manual_seed(seed)
    G = CoupledGenerator(shared=shared_g, latent_dim=latent_dim, base_width=base_width, prior=prior)
    code_classes = getattr(G.prior, "categories", None) if info_weight else None
    D = CoupledDiscriminator(shared=shared_d, base_width=base_width, code_classes=code_classes)
    settings = TRAINING.replace(seed=seed, r1_gamma=r1_gamma, info_weight=info_weight)
    return Trainer(G, D, disjoint_pair(second, n=n), settings, device=device, latent=G.prior)


@torch.no_grad()
def pairs(generator: CoupledGenerator, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` pairs ``(G(z, 0), G(z, 1))``: the same z, drawn from the generator's own prior with
    ``seed``, through both heads (eval mode, on the CPU)."""
    z = generator.prior.sample(n, generator=torch.Generator().manual_seed(seed))
    device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    try:
        z = z.to(device)
        zeros = torch.zeros(n, dtype=torch.long, device=device)
        return generator(z, zeros).cpu(), generator(z, zeros + 1).cpu()
    finally:
        generator.train(was_training)


def foreground(images: torch.Tensor, domain: str) -> torch.Tensor:
    """Where the strokes are: bright pixels (above mid-grey), dark ones for ``mnist-negative``."""
    return images < 0 if domain == "mnist-negative" else images > 0


def _dilate(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    if pixels == 0:
        return mask
    return torch.nn.functional.max_pool2d(mask.float(), 2 * pixels + 1, 1, pixels) > 0


def iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Intersection over union of two boolean masks, per image ``(N,)`` (1 where both are empty)."""
    a, b = a.flatten(1), b.flatten(1)
    union = (a | b).sum(1)
    return torch.where(union > 0, (a & b).sum(1) / union.clamp(min=1), torch.ones_like(union, dtype=torch.float))


def correspondence(first: torch.Tensor, second: torch.Tensor, domain: str, seed: int = 0, tolerance: int = 0) -> dict:
    """How well pairs ``(first[i], second[i])`` (MNIST, ``domain``) show the same digit, next to chance.

    - ``label_agreement``: the feature network's digit of ``first[i]`` (among MNIST's classes)
      equals its digit of ``second[i]`` (among ``domain``'s classes);
    - ``iou``: foreground IoU between ``render(first[i], domain)`` and ``second[i]`` (with
      ``tolerance=1`` both masks are dilated by 3×3 first: an outline one pixel off still counts);
    - ``shuffled_*``: the same with the second images in a random order: the level that images
      of the right domains reach without corresponding;
    - ``rendered_label_agreement``: the digit of ``first[i]`` against that of ``render(first[i], domain)``,
      the pair a *perfect* second generator would draw: the ceiling that the first images'
      own ambiguity sets (a digit between a 4 and a 9 may be read one way, its outline the other).
    """
    from .metrics import predicted_labels

    if len(first) != len(second):
        raise ValueError(f"{len(first)} first images but {len(second)} second ones: pass pairs")
    drawn = render(first, domain)  # what a perfect second generator would draw
    a, b, rendered = predicted_labels(first, "mnist"), predicted_labels(second, domain), predicted_labels(drawn, domain)
    order = torch.randperm(len(second), generator=torch.Generator().manual_seed(seed))
    fa, fb = (_dilate(foreground(x, domain), tolerance) for x in (drawn, second))
    return {"label_agreement": float((a == b).float().mean()),
            "shuffled_label_agreement": float((a == b[order]).float().mean()),
            "iou": float(iou(fa, fb).mean()), "shuffled_iou": float(iou(fa, fb[order]).mean()),
            "rendered_label_agreement": float((a == rendered).float().mean())}
