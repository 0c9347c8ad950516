"""Measuring a GAN: how many modes it covers, how far its samples are from real ones.

Chapter 2 uses :func:`mode_coverage` on the toy mixtures. Chapter 6 adds distances
between sets of images measured in the feature space of a small classifier, the
**feature network** (:class:`FeatureNet`, shipped pretrained as ``"feature-net"``):

* :func:`features` -- the ``d``-dimensional penultimate-layer activations of images;
* :func:`frechet_distance` -- the Fréchet distance between Gaussians fitted to two sets
  of features (FID's formula, with our feature network instead of Inception);
* :func:`kernel_distance` -- the unbiased kernel distance (KID);
* :func:`precision_recall` -- quality and coverage (Kynkäänniemi et al., 2019);
* :func:`confident_share` -- the share of images the feature network confidently
  assigns to a class of one domain ("a fixed MNIST classifier");
* :func:`memorisation` -- whether samples copy the training images (few-shot transfer);
* :func:`evaluate` -- all of them for a generator against held-out real images.

Why not Inception? The usual FID uses an ImageNet Inception-v3 network: its weights
cannot be downloaded here (everything in the book runs offline) and it expects
299×299 colour photographs, not 28×28 grey digits. A small classifier trained on the
book's own domains measures what matters for them, in milliseconds. Distances in its
feature space are comparable with each other, **not** with published FID numbers.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .checks import check_images, whole_number
from .nets import FeatureNet
from .pretrained import load

__all__ = [
    "mode_coverage", "feature_net", "features", "class_probabilities", "confident_share",
    "frechet_distance", "gaussian_frechet_distance", "polynomial_kernel", "kernel_distance", "precision_recall",
    "sample_images", "label_accuracy", "predicted_labels", "memorisation", "evaluate",
]


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


# --------------------------------------------------------------------------- the feature network

_FEATURE_NET: FeatureNet | None = None


def feature_net() -> FeatureNet:
    """The shipped feature network (loaded once, verified by sha256, in eval mode, on the CPU)."""
    global _FEATURE_NET
    if _FEATURE_NET is None:
        _FEATURE_NET = load("feature-net")
    return _FEATURE_NET


def _as_images(images, name: str = "images") -> torch.Tensor:
    """``images`` as a float ``(N, 1, 28, 28)`` tensor, finite and in about ``[-1, 1]``, with a clear error otherwise."""
    if not isinstance(images, torch.Tensor):
        if isinstance(getattr(images, "images", None), torch.Tensor):
            images = images.images  # an ImageDomain
        else:
            images = torch.as_tensor(images)
    if images.ndim == 3 and images.shape[1:] == (28, 28):
        images = images[:, None]
    if images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        raise ValueError(f"the feature network expects grey 28x28 images of shape (N, 1, 28, 28), got "
                         f"{tuple(images.shape)}; convert colour images to grey and resize them to 28x28")
    if len(images) == 0:
        raise ValueError("no images to measure")
    return check_images(images.detach(), name)


def _batched(images: torch.Tensor, net: nn.Module, batch_size: int, function) -> torch.Tensor:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            out = [function(images[i: i + batch_size].to(device, torch.float32)).float().cpu()
                   for i in range(0, len(images), batch_size)]
    finally:
        net.train(was_training)
    return torch.cat(out)


def features(images, net: FeatureNet | None = None, batch_size: int = 1000) -> torch.Tensor:
    """Penultimate-layer features of images: ``(N, 1, 28, 28)`` in ``[-1, 1]`` → ``(N, d)`` float32 on the CPU.

    Args:
        images: a tensor (or an ``ImageDomain``) of grey 28×28 images in ``[-1, 1]``.
        net: the feature network (default: the shipped one, :func:`feature_net`).
        batch_size: images per forward pass.
    """
    images = _as_images(images)
    net = net if net is not None else feature_net()
    return _batched(images, net, batch_size, net.features)


def class_probabilities(images, net: FeatureNet | None = None, batch_size: int = 1000) -> torch.Tensor:
    """The feature network's softmax over its ``domain:label`` classes, ``(N, num_classes)``."""
    images = _as_images(images)
    net = net if net is not None else feature_net()
    return _batched(images, net, batch_size, lambda x: net(x).softmax(dim=1))


def confident_share(images, domain: str = "mnist", threshold: float = 0.9, net: FeatureNet | None = None,
                    batch_size: int = 1000) -> float:
    r"""Share of images that the feature network assigns to a class of ``domain`` with probability ≥ ``threshold``.

    The softmax runs over *all* classes of the network (every domain), so an image counts
    only when the network is sure both of the domain and of the label: a fake digit that
    looks half like a blurry ``digits`` image or like no digit at all does not count.
    Chapter 5 uses it as "a fixed MNIST classifier": compare the share on generated
    digits with the share on held-out real digits.

    Returns:
        a number in ``[0, 1]``.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    net = net if net is not None else feature_net()
    if domain not in net.domains:
        raise ValueError(f"the feature network knows no domain {domain!r}; it knows {', '.join(net.domains)}")
    probabilities = class_probabilities(images, net, batch_size)
    top, index = probabilities.max(dim=1)
    in_domain = torch.tensor([name.split(":", 1)[0] == domain for name in net.classes])
    return float(((top >= threshold) & in_domain[index]).float().mean())


# --------------------------------------------------------------------------- Fréchet distance

def _as_features(feats, name: str) -> torch.Tensor:
    feats = torch.as_tensor(feats).detach().cpu().double()
    if feats.ndim != 2:
        raise ValueError(f"{name} must be a (N, d) matrix of features, got shape {tuple(feats.shape)}; "
                         "compute them with gantutor.metrics.features(images)")
    if len(feats) < 2:
        raise ValueError(f"{name} needs at least 2 rows to fit a covariance, got {len(feats)}")
    if not torch.isfinite(feats).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return feats


def _psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix by eigendecomposition."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def gaussian_frechet_distance(mean_a: torch.Tensor, cov_a: torch.Tensor,
                              mean_b: torch.Tensor, cov_b: torch.Tensor) -> float:
    r"""Fréchet (2-Wasserstein²) distance between :math:`\mathcal N(\mu_a, \Sigma_a)` and :math:`\mathcal N(\mu_b, \Sigma_b)`:

    .. math::

        d^2 = \lVert \mu_a - \mu_b \rVert^2 + \operatorname{tr}\Sigma_a + \operatorname{tr}\Sigma_b
              - 2 \operatorname{tr}\bigl(\Sigma_a^{1/2}\, \Sigma_b\, \Sigma_a^{1/2}\bigr)^{1/2}

    The last trace equals :math:`\operatorname{tr}(\Sigma_a\Sigma_b)^{1/2}`; computing it from the
    *symmetric* product :math:`\Sigma_a^{1/2}\Sigma_b\Sigma_a^{1/2}` with two eigendecompositions in
    float64 is stable even when the covariances are singular (more dimensions than samples,
    dead ReLU features), where a general matrix square root returns complex noise.
    """
    mean_a, mean_b = mean_a.double(), mean_b.double()
    cov_a, cov_b = cov_a.double(), cov_b.double()
    root_a = _psd_sqrt(cov_a)
    product = root_a @ cov_b @ root_a
    cross = torch.linalg.eigvalsh((product + product.T) / 2).clamp_min(0).sqrt().sum()
    distance = (mean_a - mean_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * cross
    return max(0.0, float(distance))


def frechet_distance(feats_a, feats_b) -> float:
    r"""Fréchet distance between Gaussians fitted to two sets of features ``(N_a, d)`` and ``(N_b, d)``.

    Fits :math:`\mu = \frac1N\sum_i f_i` and the unbiased covariance :math:`\Sigma` to each set and
    returns :func:`gaussian_frechet_distance`. Zero for identical sets, symmetric, and biased
    upwards for small ``N``: **compare distances only at equal sample sizes**.
    """
    a, b = _as_features(feats_a, "feats_a"), _as_features(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the two feature sets differ in dimension: {a.shape[1]} vs {b.shape[1]}")
    return gaussian_frechet_distance(a.mean(0), torch.cov(a.T).reshape(a.shape[1], a.shape[1]),
                                     b.mean(0), torch.cov(b.T).reshape(b.shape[1], b.shape[1]))


# --------------------------------------------------------------------------- kernel distance (KID)

def polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""KID's cubic kernel :math:`k(x, y) = \bigl(\tfrac{1}{d}\, x^\top y + 1\bigr)^3` for rows of ``x`` and ``y``."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def _unbiased_mmd2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, n = len(x), len(y)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    return ((k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
            + (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
            - 2 * k_xy.mean())


def kernel_distance(feats_a, feats_b, subsets: int = 50, subset_size: int = 1000,
                    seed: int = 0) -> tuple[float, float]:
    r"""Kernel Inception Distance (Bińkowski et al., 2018) in our feature space: ``(mean, std)`` over subsets.

    The squared maximum mean discrepancy with the cubic kernel :func:`polynomial_kernel`,
    estimated without bias on ``subsets`` random subsets of ``subset_size`` rows of each set:

    .. math::

        \widehat{\mathrm{MMD}}^2_u = \frac{1}{m(m-1)}\sum_{i \ne j} k(a_i, a_j)
            + \frac{1}{m(m-1)}\sum_{i \ne j} k(b_i, b_j) - \frac{2}{m^2}\sum_{i,j} k(a_i, b_j)

    Leaving out the diagonal :math:`i = j` makes its expectation exactly the population MMD²,
    for every :math:`m`: so KID, unlike FD, does not drift with the sample size, and it can
    be slightly *negative* when the two distributions are the same.

    Returns:
        the mean and the standard deviation of the estimate over the subsets.
    """
    a, b = _as_features(feats_a, "feats_a"), _as_features(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the two feature sets differ in dimension: {a.shape[1]} vs {b.shape[1]}")
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}")
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError(f"subset_size must be at least 2, got {subset_size}")
    generator = torch.Generator().manual_seed(seed)
    values = torch.stack([
        _unbiased_mmd2(a[torch.randperm(len(a), generator=generator)[:size]],
                       b[torch.randperm(len(b), generator=generator)[:size]])
        for _ in range(subsets)
    ])
    return float(values.mean()), float(values.std()) if subsets > 1 else 0.0


# --------------------------------------------------------------------------- precision and recall

def _as_vectors(x, name: str) -> torch.Tensor:
    """Points ``(N, D)`` as they are; images ``(N, 1, 28, 28)`` through :func:`features`."""
    x = x.images if isinstance(getattr(x, "images", None), torch.Tensor) else torch.as_tensor(x)
    if x.ndim == 4:
        x = features(_as_images(x, f"the {name} images"))
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"{name} must be points (N, D) or images (N, 1, 28, 28) with N >= 2, got {tuple(x.shape)}")
    if not torch.is_floating_point(x):
        x = x.float()
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains {int((~torch.isfinite(x)).sum())} NaN or infinite value(s): "
                         "remove or repair those points")
    return x.detach().cpu().float()


def _kth_neighbour_radius(points: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    """Distance from every point to its k-th nearest *other* point of the same set."""
    radii = []
    for i in range(0, len(points), chunk):
        distances = torch.cdist(points[i: i + chunk], points)
        radii.append(distances.kthvalue(k + 1, dim=1).values)  # +1: the point itself is at distance 0
    return torch.cat(radii)


def _inside_any_ball(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor,
                     chunk: int = 2048) -> torch.Tensor:
    inside = []
    for i in range(0, len(queries), chunk):
        inside.append((torch.cdist(queries[i: i + chunk], centres) <= radii[None, :]).any(dim=1))
    return torch.cat(inside)


def precision_recall(real, fake, k: int = 3) -> dict:
    r"""Improved precision and recall (Kynkäänniemi et al., 2019): quality and coverage, separately.

    Each set's manifold is estimated as the union of balls around its points, each ball's
    radius the distance to the point's ``k``-th nearest neighbour in the same set.

    * **precision** -- the share of fakes inside the real manifold (are the samples realistic?);
    * **recall** -- the share of reals inside the fake manifold (is all of the data covered?).

    A collapsed generator has high precision and low recall; a blurry, spread-out one the reverse.

    Args:
        real, fake: points ``(N, D)`` (e.g. the toy ring, or features), or grey 28×28 images,
            which go through :func:`features` first. Compare sets of equal size.
        k: the neighbour that sets the radius (the paper uses 3).

    Returns:
        ``{"precision": float, "recall": float}``.
    """
    real, fake = _as_vectors(real, "real"), _as_vectors(fake, "fake")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake differ in dimension: {real.shape[1]} vs {fake.shape[1]}")
    if not 1 <= k < min(len(real), len(fake)):
        raise ValueError(f"k must be between 1 and the smaller set's size minus 1, got k={k}")
    real_radius, fake_radius = _kth_neighbour_radius(real, k), _kth_neighbour_radius(fake, k)
    precision = _inside_any_ball(fake, real, real_radius).float().mean()
    recall = _inside_any_ball(real, fake, fake_radius).float().mean()
    return {"precision": float(precision), "recall": float(recall)}


@torch.no_grad()
def memorisation(samples, train, held_out, copy_ratio: float = 0.5) -> dict:
    r"""Does a generator copy its training images? Nearest neighbours in pixel space.

    For each sample, :math:`r = d_{train} / d_{held}`: the distance to its nearest training image
    over the distance to its nearest image in a held-out set *of the same size* (averaged over
    the disjoint held-out sets of that size, at most five), so that both sides have as many
    candidates. A generator that learned the domain has :math:`r \approx 1`; one that copies its
    training images has :math:`r \ll 1`. Returns the median ratio, the share of samples with
    :math:`r <` ``copy_ratio`` ("copies") and the median distances.
    """
    samples, train, held_out = (_as_images(x, name).flatten(1) for x, name in
                                ((samples, "samples"), (train, "train"), (held_out, "held_out")))
    if len(held_out) < len(train):
        raise ValueError(f"held_out needs at least as many images as train ({len(train)}), got {len(held_out)}")
    d_train = torch.cdist(samples, train).min(dim=1).values
    groups = min(5, len(held_out) // len(train))
    d_held = torch.stack([torch.cdist(samples, held_out[i * len(train): (i + 1) * len(train)]).min(dim=1).values
                          for i in range(groups)]).mean(dim=0)
    ratio = d_train / d_held.clamp_min(1e-8)
    return {"ratio_median": float(ratio.median()), "copies": float((ratio < copy_ratio).float().mean()),
            "d_train_median": float(d_train.median()), "d_held_median": float(d_held.median())}


# --------------------------------------------------------------------------- everything at once

@torch.no_grad()
def sample_images(generator: nn.Module, n: int, seed: int = 0, batch_size: int = 500,
                  labels: torch.Tensor | None = None) -> torch.Tensor:
    """``n`` images from ``generator`` (eval mode, seeded noise), on the CPU.

    A class-conditional generator draws ``labels`` (default: ``0, 1, ..., K-1, 0, ...``, every
    class equally often).
    """
    generator = getattr(generator, "generator", generator)  # a PretrainedGAN
    n = whole_number(n, "n (a number of images)", "sample_images")
    latent_dim = getattr(generator, "latent_dim", None)
    if latent_dim is None:
        raise TypeError(f"{type(generator).__name__} has no .latent_dim: pass a gantutor Generator or the images")
    num_classes = getattr(generator, "num_classes", None)
    if labels is None and num_classes is not None:
        labels = torch.arange(n) % num_classes
    device = next(generator.parameters()).device
    noise = torch.Generator().manual_seed(seed)
    was_training = generator.training
    generator.eval()
    out = []
    try:
        for i in range(0, n, batch_size):
            z = torch.randn(min(batch_size, n - i), latent_dim, generator=noise).to(device)
            args = (z,) if labels is None else (z, torch.as_tensor(labels)[i: i + len(z)].to(device))
            out.append(generator(*args).float().cpu())
    finally:
        generator.train(was_training)
    return torch.cat(out)


def predicted_labels(images, domain: str = "mnist", net: FeatureNet | None = None) -> torch.Tensor:
    """The feature network's most likely label of each image *among* ``domain``'s classes, ``(N,)`` int64.

    Unlike :func:`label_accuracy` this does not ask whether the image looks like ``domain`` at
    all: it reads which digit an outline, a negative or a translated image shows.
    """
    net = net if net is not None else feature_net()
    if domain not in net.domains:
        raise ValueError(f"the feature network knows no domain {domain!r}; it knows {', '.join(net.domains)}")
    columns = [i for i, c in enumerate(net.classes) if c.split(":", 1)[0] == domain]
    return class_probabilities(images, net)[:, columns].argmax(dim=1)


def label_accuracy(images, labels, domain: str = "mnist", net: FeatureNet | None = None) -> float:
    """Share of ``images`` whose most likely class of the feature network is ``f"{domain}:{label}"``.

    For a class-conditional generator asked for ``labels``: how often it draws what was asked for,
    judged by a classifier it never saw.
    """
    net = net if net is not None else feature_net()
    if domain not in net.domains:
        raise ValueError(f"the feature network knows no domain {domain!r}; it knows {', '.join(net.domains)}")
    labels = torch.as_tensor(labels).long().cpu()
    images = _as_images(images)
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    names = [c for c in net.classes if c.split(":", 1)[0] == domain]
    offset = net.classes.index(names[0])
    if int(labels.min()) < 0 or int(labels.max()) >= len(names):
        raise ValueError(f"labels must lie in 0..{len(names) - 1} (the classes of {domain!r})")
    predicted = class_probabilities(images, net).argmax(dim=1)
    return float((predicted == labels + offset).float().mean())


def evaluate(generator, domain: str, n: int | None = None, seed: int = 0, k: int = 3,
             kid_subsets: int = 50, kid_subset_size: int = 500, net: FeatureNet | None = None) -> dict:
    """Every measure of this module for ``generator`` against ``domain``'s held-out (test) images.

    Args:
        generator: a gantutor ``Generator`` (or a :class:`~gantutor.pretrained.PretrainedGAN`),
            or a tensor of already generated images ``(N, 1, 28, 28)``.
        domain: the image domain whose ``test`` split is the reference.
        n: images on each side (default: all test images; at most that many). FD depends on
            ``n``: compare numbers only at the same ``n``.
        seed: seeds the generator's noise and the reference subsets.
        k: neighbour for precision/recall.
        kid_subsets, kid_subset_size: subsets of KID.
        net: the feature network (default: the shipped one).

    Returns:
        ``domain``, ``n``, ``fd``, ``kid``, ``kid_std``, ``precision``, ``recall``,
        ``fd_floor`` (FD between ``n`` real *train* and the ``n`` real test images: what a
        perfect generator would get at this ``n``), and, when the feature network knows the
        domain, ``confident_share`` (fakes), ``confident_share_real`` (test images),
        ``classes_covered`` (labels that get at least a tenth of their uniform share of the
        confidently classified fakes) and ``num_classes``; for a class-conditional generator also
        ``label_accuracy`` (:func:`label_accuracy` of samples asked for every class in turn).
    """
    from .data import load_domain

    net = net if net is not None else feature_net()
    real = load_domain(domain, split="test", verbose=False)
    if not isinstance(getattr(real, "images", None), torch.Tensor):
        raise ValueError(f"evaluate measures image domains, and {domain!r} is a toy distribution: measure its samples "
                         f"with mode_coverage(samples, domain.centres, domain.sigma) or precision_recall(real, fake)")
    available = len(real)
    n = available if n is None else int(n)
    if not 2 <= n <= available:
        raise ValueError(f"n must be between 2 and the {available} held-out images of {domain!r}, got {n}")
    order = torch.randperm(available, generator=torch.Generator().manual_seed(seed))[:n]
    real_images = real.images[order]
    if isinstance(generator, torch.Tensor):
        fake_images = _as_images(generator)
        if len(fake_images) < n:
            raise ValueError(f"got {len(fake_images)} generated images but n={n}")
        fake_images = fake_images[:n]
    else:
        fake_images = sample_images(generator, n, seed=seed)
    train = load_domain(domain, split="train", verbose=False)
    train_images = train.images[torch.randperm(len(train), generator=torch.Generator().manual_seed(seed + 1))[:n]]

    real_feats, fake_feats = features(real_images, net), features(fake_images, net)
    kid, kid_std = kernel_distance(real_feats, fake_feats, kid_subsets, min(kid_subset_size, n), seed=seed)
    result = {"domain": domain, "n": n,
              "fd": frechet_distance(real_feats, fake_feats),
              "kid": kid, "kid_std": kid_std,
              **precision_recall(real_feats, fake_feats, k=k),
              "fd_floor": frechet_distance(real_feats, features(train_images, net))}
    if domain in net.domains:
        result["confident_share"] = confident_share(fake_images, domain, net=net)
        result["confident_share_real"] = confident_share(real_images, domain, net=net)
        probabilities = class_probabilities(fake_images, net)
        top, index = probabilities.max(dim=1)
        names = [c for c in net.classes if c.split(":", 1)[0] == domain]
        offset = net.classes.index(names[0])
        confident = (top >= 0.9) & (index >= offset) & (index < offset + len(names))
        counts = torch.bincount(index[confident] - offset, minlength=len(names))
        needed = 0.1 * max(1, int(confident.sum())) / len(names)
        result["classes_covered"] = int((counts >= max(1.0, needed)).sum())
        result["num_classes"] = len(names)
        conditional = getattr(getattr(generator, "generator", generator), "num_classes", None)
        if conditional is not None and not isinstance(generator, torch.Tensor):  # asked for 0, 1, ..., K-1, 0, ...
            result["label_accuracy"] = label_accuracy(fake_images, torch.arange(n) % conditional, domain, net)
    return result
