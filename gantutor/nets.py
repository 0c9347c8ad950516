r"""The networks of the book: toy MLPs (chapter 2) and the size-generic DCGAN (chapters 3-7).

DCGAN generator for a ``28×28`` image (``image_size = 7·2²``):

.. code-block:: text

    z (N, latent_dim)  -> ConvT k7 s1      -> (N, 2w, 7, 7)   BN, ReLU
                       -> ConvT k4 s2 p1   -> (N, w, 14, 14)  BN, ReLU
                       -> ConvT k4 s2 p1   -> (N, C, 28, 28)  tanh

A transposed convolution maps a side of length :math:`n` to
:math:`(n-1)s - 2p + k`, so ``k=4, s=2, p=1`` doubles the side exactly. The
discriminator mirrors it with strided convolutions (:math:`\lfloor (n + 2p - k)/s \rfloor + 1`)
and ends in one logit per image, to be used with ``BCEWithLogitsLoss`` or any loss in
:mod:`gantutor.losses`.

Every network records the arguments it was built with in ``.config`` so that a
checkpoint can say exactly which architecture it holds (see :func:`build`).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .checks import check_input, whole_number
from .latent import prior_for

__all__ = [
    "MLPGenerator", "MLPDiscriminator", "Generator", "Discriminator", "dcgan_init",
    "supported_sizes", "FeatureNet", "FEATURE_DOMAINS", "REJECT_CLASS", "CoupledGenerator", "CoupledDiscriminator", "build",
    "describe", "load_weights", "count_parameters",
]


def dcgan_init(module: nn.Module) -> None:
    """DCGAN initialisation (Radford et al., 2016), applied with ``net.apply(dcgan_init)``.

    Convolutions and linear layers: weights :math:`\\sim \\mathcal N(0, 0.02)`, biases 0.
    BatchNorm: scale :math:`\\sim \\mathcal N(1, 0.02)`, shift 0.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def count_parameters(net: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (only those with ``requires_grad`` if ``trainable_only``)."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad or not trainable_only)


# --------------------------------------------------------------------------- toy MLPs

def _mlp(in_dim: int, out_dim: int, hidden: int, depth: int, activation: type[nn.Module]) -> nn.Sequential:
    whole = (isinstance(v, int) and not isinstance(v, bool) for v in (hidden, depth))
    if not all(whole) or depth < 1 or hidden < 1:
        raise ValueError(f"an MLP needs depth >= 1 and hidden >= 1 (whole numbers), got depth={depth!r}, "
                         f"hidden={hidden!r}")
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), activation()]
        width = hidden
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """Toy generator: ``z (N, latent_dim) -> x (N, data_dim)``, ``depth`` hidden ReLU layers."""

    def __init__(self, latent_dim: int = 2, data_dim: int = 2, hidden: int = 64, depth: int = 2) -> None:
        super().__init__()
        latent_dim = whole_number(latent_dim, "latent_dim", "MLPGenerator")
        data_dim = whole_number(data_dim, "data_dim", "MLPGenerator")
        self.config = dict(latent_dim=latent_dim, data_dim=data_dim, hidden=hidden, depth=depth)
        self.latent_dim, self.data_dim = latent_dim, data_dim
        self.net = _mlp(latent_dim, data_dim, hidden, depth, nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_input(z, self, "z")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"MLPGenerator expects z of shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """Toy discriminator: ``x (N, data_dim) -> logit (N,)``, ``depth`` hidden LeakyReLU layers."""

    def __init__(self, data_dim: int = 2, hidden: int = 64, depth: int = 2) -> None:
        super().__init__()
        data_dim = whole_number(data_dim, "data_dim", "MLPDiscriminator")
        self.config = dict(data_dim=data_dim, hidden=hidden, depth=depth)
        self.data_dim = data_dim
        self.net = _mlp(data_dim, 1, hidden, depth, lambda: nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self, "x")
        if x.ndim != 2 or x.shape[1] != self.data_dim:
            raise ValueError(f"MLPDiscriminator expects x of shape (N, {self.data_dim}), got {tuple(x.shape)}")
        return self.net(x).squeeze(1)


# --------------------------------------------------------------------------- DCGAN

def _plan(image_size: int) -> tuple[int, int]:
    """Split ``image_size`` into a start side ``s0`` (7 or 4) and a number of doublings ``k >= 2``."""
    if isinstance(image_size, bool) or not isinstance(image_size, int):
        raise ValueError(f"image_size must be a whole number of pixels such as 28, got {image_size!r}")
    for start in (7, 4):
        ratio = image_size / start
        if ratio >= 4 and ratio == int(ratio) and int(ratio) & (int(ratio) - 1) == 0:
            return start, int(math.log2(ratio))
    raise ValueError(
        f"image_size={image_size} is not supported: the DCGAN grows from a 7x7 or 4x4 map by "
        f"doubling, so use one of {supported_sizes()} (or resize your images to 28)"
    )


def supported_sizes(up_to: int = 256) -> list[int]:
    """Image sides the DCGAN supports: ``7·2^k`` and ``4·2^k`` with ``k >= 2``."""
    return sorted({s * 2**k for s in (4, 7) for k in range(2, 8) if s * 2**k <= up_to})


def _check_labels(labels, n: int, num_classes: int | None, who: str) -> None:
    """Fail clearly when a conditional network gets no labels, or bad ones (or an unconditional one gets some)."""
    if num_classes is None:
        if labels is not None:
            raise ValueError(f"this {who} is unconditional (built without num_classes) and takes no labels: "
                             f"build it with num_classes=K to condition it on the class")
        return
    if labels is None:
        raise ValueError(f"this {who} is conditional (num_classes={num_classes}): pass the class of every sample, "
                         f"{who.lower()}(..., labels) with labels of shape ({n},)")
    if not isinstance(labels, torch.Tensor) or labels.dtype not in (torch.int64, torch.int32) or labels.shape != (n,):
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"labels must be an int64 tensor of shape ({n},), got {shape}"
                         + (f" of {labels.dtype}" if isinstance(labels, torch.Tensor) else ""))
    if n and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got values from {int(labels.min())} "
                         f"to {int(labels.max())}")


class Generator(nn.Module):
    r"""Size-generic DCGAN generator: ``z (N, latent_dim) -> images (N, channels, S, S)`` in ``[-1, 1]``.

    With ``num_classes=K`` it is **class-conditional** (Mirza & Osindero 2014): ``forward(z, labels)``
    feeds :math:`[z, \mathrm{onehot}(y)]` to the first block, so the label chooses *what* to draw and z
    *how*. The first block is linear in its input, so the one-hot part adds a learned map for
    each class: a label embedding. ``labels`` may also be probabilities of shape ``(N, K)``, fed in
    place of the one-hot: a mixture of the classes' embeddings (:class:`~gantutor.translation.GeneratorDecoder`).

    Args:
        latent_dim: length of the noise vector z.
        channels: image channels (1 for grey, 3 for colour).
        base_width: feature maps of the last hidden block; each earlier block has twice as many.
        image_size: side S of the square output, ``7·2^k`` or ``4·2^k`` (28, 32, 56, 64, ...).
        num_classes: the number of classes to condition on (``None``: unconditional).
    """

    def __init__(self, latent_dim: int = 64, channels: int = 1, base_width: int = 64, image_size: int = 28,
                 num_classes: int | None = None) -> None:
        super().__init__()
        latent_dim, channels, base_width = (whole_number(v, n, "Generator") for v, n in (
            (latent_dim, "latent_dim"), (channels, "channels"), (base_width, "base_width")))
        num_classes = whole_number(num_classes, "num_classes", "Generator", optional=True)
        start, doublings = _plan(image_size)
        self.config = dict(latent_dim=latent_dim, channels=channels, base_width=base_width, image_size=image_size)
        if num_classes is not None:
            self.config["num_classes"] = num_classes
        self.latent_dim, self.channels, self.image_size = latent_dim, channels, image_size
        self.num_classes = num_classes
        width = base_width * 2 ** (doublings - 1)
        blocks: list[nn.Module] = [  # 1x1 -> start x start
            nn.Sequential(nn.ConvTranspose2d(latent_dim + (num_classes or 0), width, start, 1, 0, bias=False),
                          nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        ]
        for _ in range(doublings - 1):  # each block doubles the side and halves the width
            blocks.append(nn.Sequential(nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                                        nn.BatchNorm2d(width // 2), nn.ReLU(inplace=True)))
            width //= 2
        blocks.append(nn.Sequential(nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()))
        self.blocks = nn.Sequential(*blocks)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_input(z, self, "z")
        if z.ndim == 4 and z.shape[2:] == (1, 1):
            z = z.flatten(1)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"Generator expects z of shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        if self.num_classes is not None and isinstance(labels, torch.Tensor) and labels.is_floating_point():
            if labels.shape != (len(z), self.num_classes):
                raise ValueError(f"label probabilities must have shape ({len(z)}, {self.num_classes}), one row per "
                                 f"sample, got {tuple(labels.shape)}; pass int64 labels of shape ({len(z)},) instead")
            return self.blocks(torch.cat([z, labels.to(z.dtype)], dim=1)[:, :, None, None])  # a mixture of classes
        _check_labels(labels, len(z), self.num_classes, "Generator")
        if labels is not None:
            z = torch.cat([z, nn.functional.one_hot(labels.long(), self.num_classes).to(z.dtype)], dim=1)
        return self.blocks(z[:, :, None, None])


class Discriminator(nn.Module):
    r"""Size-generic DCGAN discriminator: ``images (N, channels, S, S) -> logits (N,)``.

    Strided ``k4 s2 p1`` convolutions halve the side; LeakyReLU(0.2) everywhere; no
    BatchNorm on the input block (it would normalise away the statistics of real vs
    fake batches that D must see); a last ``k = s0`` convolution gives one logit.

    With ``num_classes=K`` it is a **projection discriminator** (Miyato & Koyama 2018):
    with :math:`\phi(x)` the flattened features of the last block and :math:`\psi` the
    linear head,

    .. math:: D(x, y) = \psi(\phi(x)) + \langle e(y), \phi(x) \rangle

    where :math:`e(y)` is a learned embedding of the label: the image is judged as an image
    of *that* class.

    Args:
        channels: image channels.
        base_width: feature maps of the first block; each later block has twice as many.
        image_size: side S of the input images (as for :class:`Generator`).
        batchnorm: use BatchNorm in the hidden blocks (not the first).
        num_classes: the number of classes to condition on (``None``: unconditional).
        spectral_norm: divide every weight by its largest singular value (Miyato et al. 2018),
            which bounds how fast D's output can change with its input.
    """

    def __init__(self, channels: int = 1, base_width: int = 64, image_size: int = 28, batchnorm: bool = True,
                 num_classes: int | None = None, spectral_norm: bool = False) -> None:
        super().__init__()
        channels, base_width = (whole_number(v, n, "Discriminator") for v, n in (
            (channels, "channels"), (base_width, "base_width")))
        num_classes = whole_number(num_classes, "num_classes", "Discriminator", optional=True)
        for name, flag in (("batchnorm", batchnorm), ("spectral_norm", spectral_norm)):
            if not isinstance(flag, bool):
                raise ValueError(f"Discriminator needs {name} True or False, got {flag!r}")
        start, doublings = _plan(image_size)
        self.config = dict(channels=channels, base_width=base_width, image_size=image_size, batchnorm=batchnorm)
        if num_classes is not None:
            self.config["num_classes"] = num_classes
        if spectral_norm:
            self.config["spectral_norm"] = True
        self.channels, self.image_size, self.num_classes = channels, image_size, num_classes
        width = base_width
        blocks: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True))
        ]
        for _ in range(doublings - 1):
            layers: list[nn.Module] = [nn.Conv2d(width, width * 2, 4, 2, 1, bias=not batchnorm)]
            if batchnorm:
                layers.append(nn.BatchNorm2d(width * 2))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            blocks.append(nn.Sequential(*layers))
            width *= 2
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Conv2d(width, 1, start, 1, 0)  # start x start -> 1x1: one logit
        self.apply(dcgan_init)
        if num_classes is not None:
            self.label_embedding = nn.Embedding(num_classes, width * start * start)
            nn.init.normal_(self.label_embedding.weight, 0.0, 0.02)
        if spectral_norm:
            for module in self.modules():
                if isinstance(module, (nn.Conv2d, nn.Embedding)):
                    nn.utils.parametrizations.spectral_norm(module)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_input(images, self, "images")
        expected = (self.channels, self.image_size, self.image_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(
                f"Discriminator expects images of shape (N, {', '.join(map(str, expected))}), "
                f"got {tuple(images.shape)}; resize the images or build the Discriminator "
                "with matching channels and image_size"
            )
        _check_labels(labels, len(images), self.num_classes, "Discriminator")
        features = self.blocks(images)
        logits = self.head(features).flatten()                                    # psi(phi(x))
        if self.num_classes is not None:
            logits = logits + (self.label_embedding(labels) * features.flatten(1)).sum(dim=1)  # <e(y), phi(x)>
        return logits


# --------------------------------------------------------------------------- the feature network

#: The offline image domains the shipped feature network knows (its classes are ``"domain:label"``).
FEATURE_DOMAINS = ("mnist", "digits", "glyphs", "mnist-edges", "mnist-negative")

#: The feature network's reject class: blank, constant and noise images that are no domain's.
REJECT_CLASS = "other:junk"


class FeatureNet(nn.Module):
    r"""A LeNet-like classifier of 28×28 grey images whose penultimate layer serves as features.

    .. code-block:: text

        (N, 1, 28, 28) -> Conv 5x5 stride 2 (w)  ReLU  -> (N, w, 14, 14)
                       -> Conv 5x5 stride 2 (2w) ReLU  -> (N, 2w, 7, 7)
                       -> Linear -> (N, feature_dim) ReLU          <- features()
                       -> Dropout -> Linear -> (N, num_classes)    <- forward(): logits

    LeNet's layout (two 5×5 convolutions, two linear layers) with strided convolutions
    in place of convolution + pooling: the same receptive field at a quarter of the cost,
    so that 20,000 images pass in a couple of seconds on two CPU cores.

    The shipped network (``gantutor.pretrained.load("feature-net")``) is trained on the
    train splits of the offline domains ``mnist``, ``digits``, ``glyphs``, ``mnist-edges``
    and ``mnist-negative``. Its classes are **domain × label**, named ``"domain:label"``
    (``"mnist:3"``, ``"glyphs:A"``, ``"mnist-negative:7"``): 10 + 10 + 26 + 10 + 10 = 66
    classes, plus one reject class ``"other:junk"`` trained on blank, constant and noise
    images (so that a blank square is not confidently called a "1"). Its features separate
    both *what* is drawn and *how* (stroke, edge, inverted, blurry, printed), which is what
    a distance between image sets must see.

    Args:
        classes: class names ``"domain:label"``, in the order of the logits.
        width: channels of the first convolution (the second has ``2·width``).
        feature_dim: length ``d`` of the feature vector.
    """

    def __init__(self, classes: list[str], width: int = 16, feature_dim: int = 128) -> None:
        super().__init__()
        if not classes:
            raise ValueError("a FeatureNet needs at least one class name")
        width = whole_number(width, "width", "FeatureNet")
        feature_dim = whole_number(feature_dim, "feature_dim", "FeatureNet")
        self.classes = list(classes)
        self.config = dict(classes=self.classes, width=width, feature_dim=feature_dim)
        self.feature_dim = feature_dim
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 5, stride=2, padding=2), nn.ReLU(inplace=True),              # 28 -> 14
            nn.Conv2d(width, 2 * width, 5, stride=2, padding=2), nn.ReLU(inplace=True),      # 14 -> 7
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, feature_dim), nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, len(self.classes))

    @property
    def domains(self) -> list[str]:
        """The image domains the classes come from, in order (without the reject class's ``"other"``)."""
        return [d for d in dict.fromkeys(name.split(":", 1)[0] for name in self.classes) if d != REJECT_CLASS.split(":", 1)[0]]

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 1, 28, 28)`` in ``[-1, 1]`` → ``(N, feature_dim)`` penultimate activations (≥ 0)."""
        self._check(images)
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 1, 28, 28)`` → ``(N, num_classes)`` logits."""
        self._check(images)
        return self.head(self.dropout(self.body(images)))

    def _check(self, images: torch.Tensor) -> None:
        check_input(images, self, "images")
        if images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28):
            raise ValueError(f"FeatureNet expects grey 28x28 images of shape (N, 1, 28, 28), got {tuple(images.shape)}")


# --------------------------------------------------------------------------- coupled GANs (chapter 8)

def _check_shared(shared, most: int, who: str) -> int:
    shared = whole_number(shared, "shared", who, minimum=0)
    if shared > most:
        raise ValueError(f"{who} has {most} blocks that can be shared, so shared must lie in 0..{most}, got {shared}")
    return shared


class CoupledGenerator(nn.Module):
    """Two DCGAN-style generators whose first ``shared`` layers are one.

    Each generator is the book's :class:`~gantutor.nets.Generator` up to its last hidden map, then, as in
    the paper, an upsampling to the *full* resolution and a 5×5 convolution to pixels. So a shared trunk
    can fix the layout of the strokes at 28×28, and a head only decides how a stroke is drawn (bright,
    dark, as an outline):

    .. code-block:: text

        layer 1: z -> 7x7 (2w)     layer 2: -> 14x14 (w)     layer 3: -> 28x28 (w/2)
        layer 4: 5x5 conv -> 28x28 (1), tanh

    ``forward(z, domains)``: the shared layers run on the whole batch, then each sample goes through the rest
    of its domain's generator (0 or 1). ``num_classes`` is 2, so the Trainer treats the domain as the label of
    a conditional GAN. It carries the prior of its z (:attr:`prior`), which training and ``pairs`` draw from.

    Args:
        shared: how many of the first layers both generators use (0 .. 3: all but the last).
        latent_dim, base_width: as for :class:`~gantutor.nets.Generator` (28×28 images).
        prior: the prior of z as a prior's ``describe()`` dict, e.g. ``MixturePrior(64).describe()`` (``N(0, I)``).
    """

    def __init__(self, shared: int = 3, latent_dim: int = 64, base_width: int = 32, prior: dict | None = None) -> None:
        super().__init__()
        self.shared = _check_shared(shared, 3, "CoupledGenerator")
        nets = [self._layers(latent_dim, base_width) for _ in range(2)]
        self.trunk = nn.Sequential(*nets[0][:self.shared])
        self.heads = nn.ModuleList([nn.Sequential(*layers[self.shared:]) for layers in nets])
        self.latent_dim, self.channels, self.image_size, self.num_classes = latent_dim, 1, 28, 2
        self.prior = prior_for(prior, latent_dim, "CoupledGenerator")
        self.config = dict(shared=self.shared, latent_dim=latent_dim, base_width=base_width,
                           **({"prior": self.prior.describe()} if prior is not None else {}))

    @staticmethod
    def _layers(latent_dim: int, base_width: int) -> list[nn.Module]:
        blocks = list(Generator(latent_dim=latent_dim, base_width=base_width, image_size=28).blocks)[:-1]
        w = base_width
        up = nn.Sequential(nn.ConvTranspose2d(w, w // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(w // 2), nn.ReLU(True))
        out = nn.Sequential(nn.Conv2d(w // 2, 1, 5, 1, 2), nn.Tanh())
        return blocks + [up.apply(dcgan_init), out.apply(dcgan_init)]  # apply() returns the module

    def forward(self, z: torch.Tensor, domains: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != self.latent_dim:
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"CoupledGenerator expects z of shape (N, {self.latent_dim}), got {shape}")
        domains = _check_domains(domains, len(z), "CoupledGenerator")
        h = self.trunk(z[:, :, None, None])
        out = z.new_empty(len(z), 1, self.image_size, self.image_size)
        for d, head in enumerate(self.heads):
            chosen = domains == d
            if chosen.any():
                out[chosen] = head(h[chosen])
        return out


class CoupledDiscriminator(nn.Module):
    """Two DCGAN discriminators whose last ``shared`` layers (the logit head counts as one) are one.

    ``forward(images, domains)``: each image goes through its domain's front blocks, then the shared back.

    ``code_classes=K`` adds InfoGAN's code head (Chen et al. 2016): one linear read-out of the shared features
    under the logit layer for both domains; ``forward(images, domains, code=True)`` then also returns its
    ``(N, K)`` logits, which the Trainer asks for when ``info_weight > 0``.

    Args:
        shared: how many of the last layers both discriminators use (0 .. all but the input block; >= 1 with a code head).
        base_width, image_size: as for :class:`~gantutor.nets.Discriminator`.
        code_classes: values of the generator's categorical code (:class:`~gantutor.latent.CodePrior`), or ``None``.
    """

    def __init__(self, shared: int = 2, base_width: int = 32, image_size: int = 28,
                 code_classes: int | None = None) -> None:
        super().__init__()
        first = Discriminator(base_width=base_width, image_size=image_size)
        layers = list(first.blocks) + [first.head]
        self.shared = _check_shared(shared, len(layers) - 1, "CoupledDiscriminator")
        self.code_classes = whole_number(code_classes, "code_classes", "CoupledDiscriminator", optional=True, minimum=2)
        if code_classes is not None and self.shared < 1:
            raise ValueError("a code head reads the features under the shared logit layer: pass shared >= 1")
        second = Discriminator(base_width=base_width, image_size=image_size)
        split = len(layers) - self.shared
        self.fronts = nn.ModuleList([nn.Sequential(*layers[:split]),
                                     nn.Sequential(*(list(second.blocks) + [second.head])[:split])])
        self.back = nn.Sequential(*layers[split:])
        self.channels, self.image_size, self.num_classes = 1, image_size, 2
        self.config = dict(shared=self.shared, base_width=base_width, image_size=image_size)
        if code_classes is not None:  # the logit layer's window (k = s0), read out K times
            self.code_head = nn.Conv2d(first.head.in_channels, code_classes, first.head.kernel_size).apply(dcgan_init)
            self.config["code_classes"] = code_classes

    def forward(self, images: torch.Tensor, domains: torch.Tensor, code: bool = False):
        expected = (1, self.image_size, self.image_size)
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != expected:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ValueError(f"CoupledDiscriminator expects images of shape (N, 1, {self.image_size}, "
                             f"{self.image_size}), got {shape}")
        domains = _check_domains(domains, len(images), "CoupledDiscriminator")
        h = None
        for d, front in enumerate(self.fronts):
            chosen = domains == d
            if chosen.any():
                part = front(images[chosen])
                if h is None:
                    h = part.new_empty(len(images), *part.shape[1:])
                h[chosen] = part
        if not code:
            return self.back(h).flatten()
        if self.code_classes is None:
            raise ValueError("this CoupledDiscriminator has no code head: build it with code_classes=K")
        features = self.back[:-1](h)
        return self.back[-1](features).flatten(), self.code_head(features).flatten(1)


def _check_domains(domains, n: int, who: str) -> torch.Tensor:
    if not isinstance(domains, torch.Tensor) or domains.shape != (n,) or domains.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"{who} needs the domain (0 or 1) of every sample: an int64 tensor of shape ({n},)")
    if n and (int(domains.min()) < 0 or int(domains.max()) > 1):
        raise ValueError(f"{who}: domains must be 0 (the first domain) or 1 (the second)")
    return domains


# --------------------------------------------------------------------------- checkpoints

_CLASSES = {cls.__name__: cls for cls in (MLPGenerator, MLPDiscriminator, Generator, Discriminator, FeatureNet,
                                          CoupledGenerator, CoupledDiscriminator)}


def describe(net: nn.Module) -> dict:
    """``{"class": name, "config": {...}}``: enough to rebuild ``net`` with :func:`build`."""
    if not hasattr(net, "config"):
        raise TypeError(f"{type(net).__name__} has no .config; only gantutor's networks can be described")
    return {"class": type(net).__name__, "config": dict(net.config)}


def build(description: dict) -> nn.Module:
    """Rebuild a network from :func:`describe`'s output."""
    name = description.get("class")
    if name not in _CLASSES:
        raise ValueError(f"unknown network class {name!r}; known: {', '.join(_CLASSES)}")
    return _CLASSES[name](**description["config"])


def load_weights(net: nn.Module, state: dict, source: str = "checkpoint") -> None:
    """``net.load_state_dict(state)`` with an error that names both shapes when they differ.

    Raises:
        ValueError: a key is missing or unexpected, or a tensor's shape differs.
    """
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [(k, tuple(state[k].shape), tuple(own[k].shape)) for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        config = getattr(net, "config", None)
        lines = [f"the {source} does not fit this {type(net).__name__}"
                 + (f" (built with {config})" if config else "") + ":"]
        lines += [f"  {k}: shape {s} in the {source} but {o} in the model" for k, s, o in wrong[:5]]
        if missing:
            lines.append(f"  missing from the {source}: {', '.join(missing[:5])}")
        if unexpected:
            lines.append(f"  not in the model: {', '.join(unexpected[:5])}")
        lines.append("Fix: build the network with the same arguments as the one that was saved.")
        raise ValueError("\n".join(lines))
    net.load_state_dict(state)
