r"""Translating images from one domain into another while keeping what they show.

Two methods, each with its own training step (both optimise more than the GAN game, so the
one :class:`~gantutor.train.Trainer`, which plays exactly one G against one D, does not fit):

- :class:`DTN`, the Domain Transfer Network (Taigman, Polyak & Wolf 2017): ``G = g ∘ f`` with
  ``f`` a classifier trained on the **source** domain's labels and then frozen (the transfer
  part: f's knowledge of digits is reused), ``g`` a DCGAN generator that decodes f's
  features into a target-domain image. Losses: the adversarial one on the target domain,
  f-constancy :math:`\lVert f(x) - f(G(x)) \rVert^2` (the translation keeps what f sees),
  identity on target images :math:`\lVert x_t - G(x_t) \rVert^2`, optionally TV. With a
  trained target-domain generator as ``decoder``, g is that generator behind a small learned map
  (:class:`GeneratorDecoder`): a translation can then only be an image the generator draws.
- :class:`CycleGAN` (Zhu et al. 2017): two translators ``G: S -> T`` and ``F: T -> S``, a
  discriminator per domain, and cycle consistency :math:`\lVert F(G(x)) - x \rVert_1`. Nothing
  ties a translation to its input's *label*: a low cycle error can hide the input in the
  image, which :func:`label_preservation` measures.

Both are judged the same way: the book's feature network (a classifier neither ever saw)
reads the digit of each translation.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from . import losses
from .checks import whole_number
from .data import ImageDomain
from .nets import Discriminator, FeatureNet, Generator

__all__ = ["augment_shapes", "perturb", "train_classifier", "self_train", "FixedSteps", "GeneratorDecoder", "DTN", "Translator", "CycleGAN", "label_preservation"]


def _images_labels(data, who: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    images = data.images if isinstance(data, ImageDomain) else data
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        raise ValueError(f"{who} needs grey 28x28 images, an ImageDomain or a (N, 1, 28, 28) tensor in [-1, 1]")
    return images, (data.labels if isinstance(data, ImageDomain) else None)


def augment_shapes(images: torch.Tensor, generator: torch.Generator, scale: tuple[float, float] = (0.55, 1.0),
                   degrees: float = 15.0, shift: float = 0.1, thin: float = 0.5) -> torch.Tensor:
    """Random changes of *how* a digit is drawn that keep *which* digit it is.

    Each image is zoomed out by a factor in ``scale`` (scikit-learn's digits fill their frame,
    MNIST's sit in a 20-pixel box), turned by up to ``degrees``, moved by up to ``shift`` of
    the frame, and with probability ``thin`` its strokes are thinned (a 3×3 erosion). A
    classifier trained on one domain with these reads other domains' digits far better.
    """
    n = len(images)
    s = torch.empty(n).uniform_(*scale, generator=generator)
    a = torch.empty(n).uniform_(-degrees, degrees, generator=generator) * math.pi / 180
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(a) / s, -torch.sin(a) / s
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(a) / s, torch.cos(a) / s
    theta[:, :, 2] = torch.empty(n, 2).uniform_(-shift, shift, generator=generator)
    grid = nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    out = nn.functional.grid_sample(images + 1, grid, align_corners=False) - 1  # the background stays -1
    thinned = -nn.functional.max_pool2d(-out, 3, 1, 1)
    chosen = (torch.rand(n, 1, 1, 1, generator=generator) < thin).float()
    return chosen * thinned + (1 - chosen) * out


def perturb(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, eps: float, steps: int = 3,
            generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Images changed by at most ``eps`` per pixel to raise ``net``'s loss: projected gradient ascent
    (PGD; Madry et al. 2018) from a random start,

    .. math:: \delta \leftarrow \Pi_{\lVert \delta \rVert_\infty \le \epsilon}\big(\delta + \tfrac{2.5\,\epsilon}{k}\,
              \mathrm{sign}\, \nabla_\delta \mathrm{CE}(\mathrm{net}(x + \delta), y)\big), \quad k \text{ steps},

    kept inside the pixel range ``[-1, 1]``. ``net``'s own weights get no gradient.
    """
    steps = whole_number(steps, "steps", "perturb")
    delta = ((torch.rand(images.shape, generator=generator) * 2 - 1) * eps).to(images.device)
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = nn.functional.cross_entropy(net((images + delta).clamp(-1, 1)), labels)
        grad, = torch.autograd.grad(loss, delta)
        delta = (delta + 2.5 * eps / steps * grad.sign()).clamp(-eps, eps).detach()
    return (images + delta).clamp(-1, 1).detach()


def train_classifier(data: ImageDomain, steps: int = 1200, batch_size: int = 64, lr: float = 1e-3, seed: int = 0,
                     feature_dim: int = 128, augment: bool = True, robust: float = 0.0) -> FeatureNet:
    r"""A :class:`~gantutor.nets.FeatureNet` trained on ``data``'s labels (cross-entropy, Adam), frozen, in eval mode.

    With DTN this is ``f``: trained on the source domain only. With ``augment`` each batch
    goes through :func:`augment_shapes` (digits of scikit-learn, read by a classifier trained
    on them: 0.99 without, MNIST's digits: about 0.25 without and 0.7 with; see chapter 8).

    With ``robust`` :math:`= \epsilon > 0` the classifier is trained **adversarially**: on each batch
    changed by :func:`perturb` to raise its loss,
    :math:`\min_f \mathbb{E}\, \max_{\lVert\delta\rVert_\infty \le \epsilon} \mathrm{CE}(f(x + \delta), y)`
    (Madry et al. 2018). Small pixel changes sway such a classifier far less, so a generator
    trained to satisfy it gains less from changes that do not make the image more of a digit
    (chapter 8 measures what that does to DTN).
    """
    _check_robust(robust, "train_classifier")
    images, labels = _images_labels(data, "train_classifier")
    if labels is None:
        raise ValueError("train_classifier needs labelled images: pass an ImageDomain")
    steps = whole_number(steps, "steps", "train_classifier")
    rng = torch.Generator().manual_seed(seed)

    def batch():
        index = torch.randint(len(images), (batch_size,), generator=rng)
        return (augment_shapes(images[index], rng) if augment else images[index]), labels[index]

    return _fit_classifier([f"{data.name}:{c}" for c in data.classes], feature_dim, batch, steps, lr, seed, robust, rng)


def _check_robust(robust, who: str) -> None:
    if isinstance(robust, bool) or not isinstance(robust, (int, float)) or not 0 <= robust < 1:
        raise ValueError(f"{who}'s robust is the attack's size per pixel, 0 (off) to below 1, got {robust!r}")


def _fit_classifier(classes: list[str], feature_dim: int, batch, steps: int, lr: float, init_seed: int,
                    robust: float, rng: torch.Generator) -> FeatureNet:
    """The one training loop of the classifiers here: a fresh FeatureNet (weights from ``init_seed``),
    Adam on cross-entropy over ``steps`` batches ``batch() -> (x, y)``, each first attacked by
    :func:`perturb` when ``robust`` > 0; returned frozen, in eval mode."""
    torch.manual_seed(init_seed)
    net = FeatureNet(classes, feature_dim=feature_dim)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(steps):
        x, y = batch()
        if robust:
            net.eval()  # the attack sees the classifier as it will be used (no dropout)
            x = perturb(net, x, y, robust, generator=rng)
            net.train()
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval().requires_grad_(False)


@torch.no_grad()
def _confident(f: FeatureNet, images: torch.Tensor, per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The indices of the ``per_class`` images ``f`` is surest of in each class it predicts, and f's labels."""
    f.eval()
    p = torch.cat([f(images[i: i + 1000]).softmax(1) for i in range(0, len(images), 1000)])
    confidence, guess = p.max(1)
    chosen = []
    for c in range(p.shape[1]):
        members = (guess == c).nonzero().squeeze(1)
        chosen.append(members[confidence[members].argsort(descending=True)[:per_class]])
    chosen = torch.cat(chosen)
    return chosen, guess[chosen]


def self_train(source: ImageDomain, target, rounds: int = 3, per_class: int = 100, steps: int = 1200,
               batch_size: int = 64, lr: float = 1e-3, seed: int = 0, feature_dim: int = 128,
               robust: float = 0.0, start: FeatureNet | None = None, history: list | None = None) -> FeatureNet:
    r"""A source classifier adapted to the target domain **without target labels**: self-training.

    Round 0 is :func:`train_classifier` on the source. In round :math:`r = 1, \dots,` ``rounds``
    the previous classifier labels every target image and, in each class it predicts, the
    :math:`r \cdot` ``per_class`` images it is surest of keep their guessed label
    :math:`\hat y = \arg\max_c f(x_t)_c` (pseudo-labels; Lee 2013). A fresh classifier then trains
    ``steps`` steps on batches half source images (true labels), half pseudo-labelled target
    images, both through :func:`augment_shapes`:

    .. math:: \min_f \; \mathbb{E}_{(x_s, y_s)}\, \mathrm{CE}(f(x_s), y_s) + \mathbb{E}_{x_t \in P_r}\, \mathrm{CE}(f(x_t), \hat y(x_t)).

    Confident guesses are right more often than the classifier is on average, so each round
    learns the target's way of drawing from mostly right examples, and labels more of them.
    ``robust`` trains every round adversarially (as in :func:`train_classifier`). ``start``, when
    given, is round 0's classifier already trained (``train_classifier(source, steps, seed=seed,
    robust=robust)``), so it is not trained twice. ``history``, when a list, receives per round ``{"round", "pseudo_labels", "target_images"}``
    (the indices are into ``target``'s images; the book measures how many guesses were right).
    """
    images, labels = _images_labels(source, "self_train")
    target_images, _ = _images_labels(target, "self_train")
    if labels is None:
        raise ValueError("self_train needs a labelled source: pass an ImageDomain")
    rounds = whole_number(rounds, "rounds", "self_train", minimum=0)
    per_class = whole_number(per_class, "per_class", "self_train")
    steps = whole_number(steps, "steps", "self_train")
    if batch_size < 2 or batch_size % 2:
        raise ValueError(f"self_train splits each batch in half (source, target): batch_size must be even, got {batch_size}")
    _check_robust(robust, "self_train")
    if start is not None and not isinstance(start, FeatureNet):
        raise ValueError(f"self_train's start is round 0's FeatureNet (train_classifier(source)), got {type(start).__name__}")
    f = start if start is not None else train_classifier(source, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                                                          feature_dim=feature_dim, robust=robust)
    rng = torch.Generator().manual_seed(seed + 1)
    half = batch_size // 2
    for r in range(1, rounds + 1):
        chosen, guess = _confident(f, target_images, r * per_class)
        if history is not None:
            history.append({"round": r, "target_images": chosen, "pseudo_labels": guess})

        def batch():
            i = torch.randint(len(images), (half,), generator=rng)
            j = torch.randint(len(chosen), (half,), generator=rng)
            x = torch.cat([augment_shapes(images[i], rng), augment_shapes(target_images[chosen[j]], rng, scale=(0.9, 1.1))])
            return x, torch.cat([labels[i], guess[j]])

        f = _fit_classifier(f.classes, feature_dim, batch, steps, lr, seed + r, robust, rng)
    return f


class _Batches:
    """Random batches of a tensor of images (with replacement), from a seeded stream of its own."""

    def __init__(self, images: torch.Tensor, batch_size: int, generator: torch.Generator) -> None:
        self.images, self.batch_size, self.generator = images, batch_size, generator

    def next(self) -> torch.Tensor:
        return self.images[torch.randint(len(self.images), (self.batch_size,), generator=self.generator)]


class FixedSteps:
    """The base of a method that brings its own ``step()`` (DTN, CycleGAN): ``fit(steps)`` calls it
    a fixed number of times, never until a clock runs out, so a slow machine only takes longer."""

    def fit(self, steps: int):
        for _ in range(whole_number(steps, "steps", f"{type(self).__name__}.fit")):
            self.step()
        return self


class GeneratorDecoder(nn.Module):
    r"""DTN's g made of a **trained, frozen** generator: ``g(h) = G(m(h))``, where only the map ``m``
    (features -> G's input, a two-layer MLP) learns.

    For an unconditional ``G``, ``m(h)`` is its latent vector. For a class-conditional one
    (``num_classes = K``), ``m(h)`` has ``K`` more outputs whose softmax is fed where ``G`` expects
    the one-hot label, :math:`G([z, \mathrm{softmax}(u)])`: the map chooses both what to draw and how.
    With ``head`` (the frozen class layer of the classifier the features come from, ``f.head``)
    the class is not learnt: ``G`` gets that classifier's own class probabilities,
    :math:`g(h) = G([m(h), \mathrm{softmax}(\mathrm{head}(h))])`, and the map only chooses *how*
    the digit is drawn. The head's class ``c`` must mean ``G``'s class ``c`` (both digits 0-9 here).
    ``G`` stays in eval mode (its BatchNorm statistics are those of its own training), so every
    translation is an image of the generator's own kind.

    Args:
        generator: a trained :class:`~gantutor.nets.Generator` (e.g. ``pretrained.load("cgan-mnist").generator``).
        feature_dim: length of the features the map reads (``f.feature_dim``).
        hidden: width of the map's hidden layer.
        head: ``None`` (the map learns the class too) or a frozen ``nn.Linear(feature_dim, K)``
            for a generator of ``K`` classes.
    """

    def __init__(self, generator: Generator, feature_dim: int, hidden: int = 256, head: nn.Linear | None = None) -> None:
        super().__init__()
        if not isinstance(generator, Generator):
            raise ValueError(f"GeneratorDecoder needs a trained gantutor Generator (e.g. pretrained.load('cgan-mnist')"
                             f".generator), got {type(generator).__name__}")
        feature_dim, hidden = whole_number(feature_dim, "feature_dim", "GeneratorDecoder"), whole_number(
            hidden, "hidden", "GeneratorDecoder")
        self.generator = generator.eval().requires_grad_(False)
        self.classes = generator.num_classes or 0
        if head is not None:
            if not self.classes:
                raise ValueError("GeneratorDecoder's head gives the generator its class: it needs a class-conditional "
                                 "generator (e.g. pretrained.load('cgan-mnist').generator), this one has no classes")
            if not isinstance(head, nn.Linear) or (head.in_features, head.out_features) != (feature_dim, self.classes):
                raise ValueError(f"GeneratorDecoder's head must be an nn.Linear({feature_dim}, {self.classes}) (the "
                                 f"classifier's class layer, f.head, over the generator's {self.classes} classes), got {head!r}")
            head.requires_grad_(False)
        self.head = head
        self.map = nn.Sequential(nn.Linear(feature_dim, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, generator.latent_dim + (self.classes if head is None else 0)))

    def train(self, mode: bool = True) -> "GeneratorDecoder":
        super().train(mode)
        self.generator.eval()  # frozen: always its own BatchNorm statistics
        return self

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        u = self.map(features)
        if self.head is not None:  # the classifier's own class probabilities are G's (soft) label
            return self.generator(u, self.head(features).softmax(1))
        if self.classes:  # the last K outputs choose the class: their softmax is G's (soft) label
            return self.generator(u[:, :-self.classes], u[:, -self.classes:].softmax(1))
        return self.generator(u)


class DTN(FixedSteps):
    r"""The Domain Transfer Network: ``G(x) = g(f(x))`` trained so that target images come back
    unchanged and source images become target-domain images that ``f`` reads as the input.

    One :meth:`step`:

    1. D (target real vs both kinds of fakes, non-saturating BCE):
       :math:`L_D = -\log D(x_t) - \tfrac12[\log(1 - D(G(x_s))) + \log(1 - D(G(x_t)))]`.
    2. g: :math:`L_G = L_\text{GAN} + \alpha\, L_\text{CONST}(x_s) + \beta\, L_\text{TID}(x_t) + \gamma\, L_\text{TV}`.

    The paper's D is ternary (it tells G(x_s), G(x_t) and x_t apart); this one is binary, with
    both kinds of translation as fakes.

    Args:
        f: the frozen source classifier (:func:`train_classifier`); its features are g's input.
        source, target: the two domains' training images (no pairs, no target labels needed).
        alpha, beta, gamma: weights of f-constancy, identity and TV (0 switches a term off).
        base_width: of g and D; lr: Adam's rate for both (betas 0.5, 0.999); seed: all draws.
        decoder: a trained target-domain :class:`~gantutor.nets.Generator` to build g from
            (:class:`GeneratorDecoder`: only its input map trains); ``None``: g is a fresh generator.
        labels: with a class-conditional ``decoder``, who chooses the digit it draws: ``"map"``
            (the map learns it with the rest) or ``"f"`` (f's own class layer, ``f.head``; the map
            learns only how it is drawn).
    """

    def __init__(self, f: FeatureNet, source, target, *, alpha: float = 1.0, beta: float = 15.0, gamma: float = 0.0,
                 constancy: str = "logits", batch_size: int = 64, base_width: int = 32, lr: float = 5e-4,
                 seed: int = 0, decoder: Generator | None = None, labels: str = "map") -> None:
        if labels not in ("map", "f"):
            raise ValueError(f"DTN's labels (who chooses the decoder's class) is 'map' or 'f', got {labels!r}")
        if labels == "f" and (decoder is None or not getattr(decoder, "num_classes", None)):
            raise ValueError("DTN(labels='f') gives f's class to a class-conditional decoder: pass "
                             "decoder=pretrained.load('cgan-mnist').generator")
        if constancy not in ("features", "logits"):
            raise ValueError(f"DTN's constancy is measured on f's 'features' or on its class 'logits', got {constancy!r}")
        self.constancy = constancy
        self.source, _ = _images_labels(source, "DTN")
        self.target, _ = _images_labels(target, "DTN")
        for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"DTN needs {name} >= 0 (0 switches its loss off), got {value!r}")
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        torch.manual_seed(seed)
        self.f = f.eval().requires_grad_(False)
        self.g = Generator(latent_dim=f.feature_dim, base_width=base_width)  # first either way, so that
        self.D = Discriminator(base_width=base_width)                      # D starts as the plain DTN's
        if decoder is not None:
            self.g = GeneratorDecoder(decoder, f.feature_dim, head=f.head if labels == "f" else None)
        self.opt_g = torch.optim.Adam([p for p in self.g.parameters() if p.requires_grad], lr=lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=(0.5, 0.999))
        rng = torch.Generator().manual_seed(seed)
        self.source_batches, self.target_batches = _Batches(self.source, batch_size, rng), _Batches(self.target, batch_size, rng)
        self.loss = losses.get_loss("non-saturating")
        self.history: dict[str, list[float]] = {k: [] for k in ("d_loss", "gan", "const", "tid", "tv")}

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.g(self.f.features(x))

    def step(self) -> dict[str, float]:
        xs, xt = self.source_batches.next(), self.target_batches.next()
        f_xs = self.f.features(xs)
        g_xs, g_xt = self.g(f_xs), self(xt)
        seen = (lambda x: self.f.features(x)) if self.constancy == "features" else (lambda x: self.f.head(self.f.body(x)))
        real = self.D(xt)
        fake = self.D(torch.cat([g_xs, g_xt]).detach())
        d_loss = self.loss.d_loss(real, fake)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        self.D.requires_grad_(False)
        try:
            terms = {"gan": self.loss.g_loss(self.D(torch.cat([g_xs, g_xt]))),
                     "const": losses.f_constancy(seen(xs) if self.constancy == "logits" else f_xs, seen(g_xs)),
                     "tid": losses.identity_loss(xt, g_xt),
                     "tv": losses.total_variation(g_xs)}
            g_loss = terms["gan"] + self.alpha * terms["const"] + self.beta * terms["tid"] + self.gamma * terms["tv"]
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            self.opt_g.step()
        finally:
            self.D.requires_grad_(True)
        record = {"d_loss": d_loss.item(), **{k: v.item() for k, v in terms.items()}}
        for k, v in record.items():
            self.history[k].append(v)
        return record

    @torch.no_grad()
    def translate(self, x: torch.Tensor) -> torch.Tensor:
        """``G(x)`` in eval mode (BatchNorm's running statistics), batch by batch."""
        x, _ = _images_labels(x, "DTN.translate")
        self.g.eval()
        try:
            return torch.cat([self(x[i: i + 500]) for i in range(0, len(x), 500)])
        finally:
            self.g.train()


class Translator(nn.Module):
    """A small image-to-image network for 28×28 grey images (CycleGAN's G and F at this scale).

    .. code-block:: text

        (N,1,28,28) -> conv 4x4 s2 (w) -> conv 4x4 s2 (2w) -> 2 residual blocks at 7x7
                    -> deconv 4x4 s2 (w) -> deconv 4x4 s2 (1) tanh -> (N,1,28,28)

    Instance normalisation and ReLUs, as in CycleGAN's generators, at a fraction of the depth.
    """

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        w = whole_number(width, "width", "Translator")
        norm = lambda c: nn.InstanceNorm2d(c, affine=True)  # noqa: E731
        self.down = nn.Sequential(nn.Conv2d(1, w, 4, 2, 1), norm(w), nn.ReLU(True),
                                  nn.Conv2d(w, 2 * w, 4, 2, 1), norm(2 * w), nn.ReLU(True))
        self.res = nn.ModuleList([nn.Sequential(nn.Conv2d(2 * w, 2 * w, 3, 1, 1), norm(2 * w), nn.ReLU(True),
                                                nn.Conv2d(2 * w, 2 * w, 3, 1, 1), norm(2 * w)) for _ in range(2)])
        self.up = nn.Sequential(nn.ConvTranspose2d(2 * w, w, 4, 2, 1), norm(w), nn.ReLU(True),
                                nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.down(x)
        for block in self.res:
            h = h + block(h)
        return self.up(h)


class CycleGAN(FixedSteps):
    r"""CycleGAN between a source and a target domain, least-squares GAN losses as in the paper.

    One :meth:`step`: the translators ``G: S -> T`` and ``F: T -> S`` minimise

    .. math:: L = L_\text{GAN}(G, D_T) + L_\text{GAN}(F, D_S)
              + \lambda\,(\lVert F(G(x_s)) - x_s \rVert_1 + \lVert G(F(x_t)) - x_t \rVert_1)

    then each discriminator takes a least-squares step on its domain's real images vs the
    translations into it.

    Args:
        source, target: the two domains' training images (unpaired).
        cycle_weight: :math:`\lambda` (the paper's 10).
        width: of the translators and the discriminators; lr: Adam's rate (betas 0.5, 0.999).
    """

    def __init__(self, source, target, *, cycle_weight: float = 10.0, batch_size: int = 64, width: int = 32,
                 lr: float = 2e-4, seed: int = 0) -> None:
        self.source, _ = _images_labels(source, "CycleGAN")
        self.target, _ = _images_labels(target, "CycleGAN")
        if not isinstance(cycle_weight, (int, float)) or isinstance(cycle_weight, bool) or cycle_weight < 0:
            raise ValueError(f"CycleGAN needs cycle_weight >= 0, got {cycle_weight!r}")
        self.cycle_weight = float(cycle_weight)
        torch.manual_seed(seed)
        self.G, self.F = Translator(width), Translator(width)
        self.D_t, self.D_s = Discriminator(base_width=width), Discriminator(base_width=width)
        params = list(self.G.parameters()) + list(self.F.parameters())
        self.opt_g = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(list(self.D_t.parameters()) + list(self.D_s.parameters()), lr=lr,
                                      betas=(0.5, 0.999))
        rng = torch.Generator().manual_seed(seed)
        self.source_batches, self.target_batches = _Batches(self.source, batch_size, rng), _Batches(self.target, batch_size, rng)
        self.loss = losses.get_loss("least-squares")
        self.history: dict[str, list[float]] = {k: [] for k in ("d_loss", "gan", "cycle")}

    def step(self) -> dict[str, float]:
        xs, xt = self.source_batches.next(), self.target_batches.next()
        for d in (self.D_t, self.D_s):
            d.requires_grad_(False)
        try:
            fake_t, fake_s = self.G(xs), self.F(xt)
            gan = self.loss.g_loss(self.D_t(fake_t)) + self.loss.g_loss(self.D_s(fake_s))
            cycle = losses.cycle_loss(xs, self.F(fake_t)) + losses.cycle_loss(xt, self.G(fake_s))
            g_loss = gan + self.cycle_weight * cycle
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            self.opt_g.step()
        finally:
            for d in (self.D_t, self.D_s):
                d.requires_grad_(True)
        d_loss = (self.loss.d_loss(self.D_t(xt), self.D_t(fake_t.detach()))
                  + self.loss.d_loss(self.D_s(xs), self.D_s(fake_s.detach())))
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        record = {"d_loss": d_loss.item(), "gan": gan.item(), "cycle": cycle.item()}
        for k, v in record.items():
            self.history[k].append(v)
        return record

    @torch.no_grad()
    def translate(self, x: torch.Tensor, back: bool = False) -> torch.Tensor:
        """``G(x)`` (source to target), or ``F(x)`` with ``back=True``, batch by batch."""
        x, _ = _images_labels(x, "CycleGAN.translate")
        net = self.F if back else self.G
        return torch.cat([net(x[i: i + 500]) for i in range(0, len(x), 500)])

    @torch.no_grad()
    def cycle_error(self, x: torch.Tensor) -> float:
        """Mean absolute error of ``F(G(x))`` against ``x`` (pixels in [-1, 1])."""
        return float(losses.cycle_loss(x, self.translate(self.translate(x), back=True)))


def label_preservation(translated: torch.Tensor, labels: torch.Tensor, domain: str = "mnist") -> dict:
    """How well translations keep their input's digit, judged by the book's feature network.

    - ``accuracy``: the most likely of *all* its classes is ``domain``'s class of the input's
      label: the right digit, drawn in the target domain;
    - ``label_accuracy``: the right digit among ``domain``'s classes only (style aside);
    - ``in_domain``: the share whose most likely class is one of ``domain``'s.
    """
    from .metrics import class_probabilities, feature_net, label_accuracy, predicted_labels

    net = feature_net()
    probs = class_probabilities(translated, net)
    columns = [i for i, c in enumerate(net.classes) if c.split(":", 1)[0] == domain]
    labels = torch.as_tensor(labels).long()
    return {"accuracy": label_accuracy(translated, labels, domain=domain, net=net),
            "label_accuracy": float((predicted_labels(translated, domain, net) == labels).float().mean()),
            "in_domain": float(torch.isin(probs.argmax(1), torch.tensor(columns)).float().mean())}
