"""Check functions for the exercises: a precise, friendly verdict for the student.

Every ``check_*`` function prints what is right and what is wrong in plain words and
returns ``True`` only when everything passes, so a notebook cell can also ``assert`` it.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn


class Verdict:
    """Collects the findings of one check and prints them.

    >>> v = Verdict("generator")
    >>> v.expect(out.shape == (2, 1, 28, 28), "output shape is (N, 1, 28, 28)", f"got {tuple(out.shape)}")
    >>> v.done()
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.passed: list[str] = []
        self.failed: list[str] = []

    def expect(self, condition: bool, claim: str, hint: str = "") -> bool:
        """Record ``claim``; when ``condition`` is false, ``hint`` says what was found instead."""
        if condition:
            self.passed.append(claim)
        else:
            self.failed.append(f"{claim}: {hint}" if hint else claim)
        return bool(condition)

    def done(self, verbose: bool = True) -> bool:
        """Print the verdict and return whether every expectation held."""
        ok = not self.failed
        if verbose:
            mark = "✅" if ok else "❌"
            print(f"{mark} {self.title}: {len(self.passed)} of {len(self.passed) + len(self.failed)} checks passed")
            for line in self.failed:
                print(f"   ✗ {line}")
            if ok:
                print("   Well done.")
        return ok


# --------------------------------------------------------------------------- chapters 1-2 (objective, toy GAN)

def _call(verdict: Verdict, what: str, function, *args):
    """Call the student's function; a crash becomes a failed check with the error, not a traceback."""
    try:
        return True, function(*args)
    except Exception as error:  # the student's code: report any error in words
        verdict.expect(False, f"{what} runs", f"it raised {type(error).__name__}: {error}")
        return False, None


def check_optimal_discriminator(d_star) -> bool:
    r"""Chapter 1: ``d_star(x, mu)`` should return :math:`D^*(x)` for :math:`p_\text{data}=\mathcal N(0,1)`,
    :math:`p_g=\mathcal N(\mu,1)` at the points of the NumPy array ``x``."""
    import numpy as np

    from . import theory

    verdict = Verdict("optimal discriminator")
    x = np.linspace(-6, 8, 1401)
    for mu in (-1.0, 0.5, 2.0):
        ok, got = _call(verdict, f"d_star(x, {mu})", d_star, x, mu)
        if not ok:
            return verdict.done()
        got = np.asarray(got, dtype=float)
        if not verdict.expect(got.shape == x.shape, f"mu={mu}: one value per point", f"got shape {got.shape}"):
            continue
        want = theory.optimal_discriminator(theory.gaussian_density(x), theory.gaussian_density(x, mu))
        error = float(np.abs(got - want).max())
        verdict.expect(error < 1e-6, f"mu={mu}: equals p_data / (p_data + p_g)",
                       f"largest difference {error:.3g} (at x = {x[np.abs(got - want).argmax()]:.2f}); "
                       "hint: the log-ratio of two unit Gaussians is linear in x")
    ok, half = _call(verdict, "d_star(x, 0)", d_star, x, 0.0)
    if ok:
        verdict.expect(np.allclose(np.asarray(half, dtype=float), 0.5), "mu=0: D* is 1/2 everywhere",
                       "when p_g = p_data the best D cannot tell them apart")
    return verdict.done()


def check_jensen_shannon(jsd) -> bool:
    r"""Chapter 1: ``jsd(p, q, x)`` should return :math:`\mathrm{JSD}(p\|q)` in nats for densities on the grid ``x``."""
    import math

    import numpy as np

    from . import theory

    verdict = Verdict("Jensen-Shannon divergence")
    u = np.linspace(-1, 4, 50001)
    box = lambda a: ((u >= a) & (u <= a + 1)).astype(float)
    cases = [("identical boxes", box(0), box(0), 0.0, 1e-6),
             ("half-overlapping boxes", box(0), box(0.5), 0.5 * math.log(2), 2e-3),
             ("disjoint boxes (needs 0·log 0 = 0)", box(0), box(2), math.log(2), 2e-3)]
    p, q = theory.gaussian_density(u, 1.0, 0.5), theory.gaussian_density(u, 2.0, 0.7)
    cases.append(("two Gaussians", p, q, theory.jensen_shannon(p, q, u), 1e-5))
    for name, a, b, want, tolerance in cases:
        ok, got = _call(verdict, f"jsd on {name}", jsd, a, b, u)
        if not ok:
            return verdict.done()
        try:
            got = float(got)
        except (TypeError, ValueError):
            verdict.expect(False, f"{name}: returns a number", f"got {type(got).__name__}")
            continue
        verdict.expect(math.isfinite(got) and abs(got - want) < tolerance, f"{name}: {want:.4f} nats",
                       f"got {got:.4f}; hint: JSD = KL(p||m)/2 + KL(q||m)/2 with m = (p+q)/2, natural log")
    ok, reverse = _call(verdict, "jsd(q, p, x)", jsd, q, p, u)
    if ok:
        verdict.expect(abs(float(reverse) - theory.jensen_shannon(p, q, u)) < 1e-5, "symmetric: jsd(p, q) = jsd(q, p)",
                       f"jsd(q, p) = {float(reverse):.4f}")
    return verdict.done()


def check_generator_loss(g_loss) -> bool:
    r"""Chapter 1: ``g_loss(fake_logits)`` should be the non-saturating loss :math:`-\mathbb E[\log D(G(z))]`
    computed from D's logits, stable at any logit."""
    import torch
    import torch.nn.functional as F

    verdict = Verdict("non-saturating generator loss")
    logits = torch.tensor([-3.0, -0.5, 0.0, 2.0], requires_grad=True)
    ok, value = _call(verdict, "g_loss(logits)", g_loss, logits)
    if not ok:
        return verdict.done()
    if not verdict.expect(isinstance(value, torch.Tensor) and value.ndim == 0, "returns a scalar tensor",
                          f"got {type(value).__name__} {getattr(value, 'shape', '')}"):
        return verdict.done()
    want = F.softplus(-logits).mean()
    verdict.expect(abs(value.item() - want.item()) < 1e-5, f"value -mean(log sigmoid(logits)) = {want.item():.4f}",
                   f"got {value.item():.4f}" + ("; that is the saturating loss log(1 - D)"
                                                if abs(value.item() + F.softplus(logits).mean().item()) < 1e-5 else ""))
    value.backward()
    verdict.expect(logits.grad is not None and bool(torch.all(logits.grad < 0)),
                   "descending it raises every fake logit", "the gradient should be negative for every logit")
    rejected = torch.tensor([-100.0], requires_grad=True)
    ok, far = _call(verdict, "g_loss at logit -100", g_loss, rejected)
    if ok and isinstance(far, torch.Tensor):
        finite = bool(torch.isfinite(far))
        verdict.expect(finite, "finite when D rejects a fake with logit -100",
                       f"got {far.item()}; hint: write log sigmoid(l) as -softplus(-l)")
        if finite:
            far.backward()
            grad = float(rejected.grad) if rejected.grad is not None else float("nan")
            verdict.expect(abs(grad + 1) < 1e-3, "its gradient there is about -1 (it does not saturate)",
                           f"got {grad:.3g}")
    return verdict.done()


def check_gradient_arrows(arrows) -> bool:
    r"""Chapter 2: ``arrows(discriminator, points)`` should return :math:`-\nabla_x L_G` for every point,
    with the non-saturating loss (GAN Lab's arrows), shape ``(N, 2)``."""
    import torch

    from .nets import MLPDiscriminator
    from .viz import generator_gradients

    verdict = Verdict("generator gradient arrows")
    torch.manual_seed(0)
    discriminator = MLPDiscriminator(2, 16, 2)
    points = torch.randn(32, 2)
    before = [p.detach().clone() for p in discriminator.parameters()]
    ok, got = _call(verdict, "arrows(discriminator, points)", arrows, discriminator, points.clone())
    if not ok:
        return verdict.done()
    got = torch.as_tensor(got).detach().float()
    if not verdict.expect(tuple(got.shape) == (32, 2), "one 2-D arrow per point", f"got shape {tuple(got.shape)}"):
        return verdict.done()
    want = generator_gradients(discriminator, points, "non-saturating")
    if torch.allclose(got, -want, atol=1e-5):
        verdict.expect(False, "arrows point where G's loss decreases", "yours point the other way: use minus the gradient")
    elif torch.allclose(got * len(points), want, atol=1e-5):
        verdict.expect(False, "each arrow is that point's own gradient",
                       "yours are divided by N: the loss is a mean, multiply by N (or sum instead of mean)")
    else:
        error = float((got - want).abs().max())
        verdict.expect(error < 1e-4, "arrows equal -grad_x of the non-saturating loss", f"largest difference {error:.3g}")
    verdict.expect(all(torch.equal(a, b) for a, b in zip(before, discriminator.parameters())),
                   "D's weights are untouched", "arrows must not change the discriminator")
    return verdict.done()


def check_toy_gan(trainer, num_samples: int = 2500, min_modes: int | None = None, min_quality: float = 0.5) -> bool:
    """Chapter 2: does the trained toy GAN cover the modes (all by default) with enough high-quality samples?"""
    from .metrics import mode_coverage

    verdict = Verdict("toy GAN")
    data = trainer.data
    if not verdict.expect(hasattr(data, "centres"), "trained on a toy mixture (ring or grid)",
                          f"got {type(data).__name__}"):
        return verdict.done()
    result = mode_coverage(trainer.sample(num_samples, z=trainer.noise(num_samples)), data.centres, data.sigma)
    need = result["num_modes"] if min_modes is None else min_modes
    verdict.expect(result["modes_covered"] >= need, f"covers at least {need} of {result['num_modes']} modes",
                   f"covers {result['modes_covered']}; try a faster D (lr_d), more D steps, or more training")
    verdict.expect(result["high_quality"] >= min_quality, f"at least {min_quality:.0%} of samples within 3σ of a mode",
                   f"{result['high_quality']:.1%}; train longer or lower the learning rates at the end")
    print(f"   modes covered {result['modes_covered']}/{result['num_modes']}, "
          f"high quality {result['high_quality']:.1%}")
    return verdict.done()



# --------------------------------------------------------------------------- chapter 3 (generator)

def _shape(t) -> tuple:
    return tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__


def _last_module(net: nn.Module) -> nn.Module | None:
    leaves = [m for m in net.modules() if not list(m.children())]
    return leaves[-1] if leaves else None


def check_generator(net: nn.Module, latent_dim: int = 64, channels: int = 1, image_size: int = 28,
                    batch: int = 8, verbose: bool = True) -> bool:
    """Check a DCGAN-style generator: ``z (N, latent_dim, 1, 1)`` (or ``(N, latent_dim)``) to
    images ``(N, channels, image_size, image_size)`` in ``[-1, 1]``, built from transposed
    convolutions with BatchNorm in the hidden blocks and a final ``tanh``."""
    v = Verdict(f"generator for {channels}x{image_size}x{image_size} images")
    if not v.expect(isinstance(net, nn.Module), "it is an nn.Module", f"got a {type(net).__name__}"):
        return v.done(verbose)
    modules = list(net.modules())
    convts = [m for m in modules if isinstance(m, nn.ConvTranspose2d)]
    v.expect(len(convts) >= 2, "it grows the image with transposed convolutions (nn.ConvTranspose2d)",
             f"found {len(convts)}")
    v.expect(any(isinstance(m, nn.BatchNorm2d) for m in modules), "the hidden blocks use BatchNorm2d", "found none")
    v.expect(isinstance(_last_module(net), nn.Tanh), "the last layer is a tanh (the data lies in [-1, 1])",
             f"the last layer is {type(_last_module(net)).__name__}")
    torch.manual_seed(0)
    z = torch.randn(batch, latent_dim, 1, 1)
    was_training = net.training
    net.eval()
    out = None
    try:
        with torch.no_grad():
            try:
                out = net(z)
            except Exception:  # noqa: BLE001 - a generator may want z as (N, latent_dim)
                out = net(z.flatten(1))
    except Exception as error:  # noqa: BLE001 - the student sees the error in plain words
        v.expect(False, f"it accepts z of shape {(batch, latent_dim, 1, 1)}", f"{type(error).__name__}: {error}")
    finally:
        net.train(was_training)
    if out is not None:
        want = (batch, channels, image_size, image_size)
        v.expect(_shape(out) == want, f"the output has shape {want}", f"got {_shape(out)}")
        if isinstance(out, torch.Tensor) and out.numel():
            v.expect(out.min() >= -1 and out.max() <= 1, "every value lies in [-1, 1]",
                     f"values span [{out.min():.3f}, {out.max():.3f}]")
            v.expect(out.min() < 0 < out.max(), "it makes negative and positive values (the background is -1)",
                     f"values span [{out.min():.3f}, {out.max():.3f}]")
    return v.done(verbose)


def check_upsampling_layer(layer: nn.Module, in_size: int, out_size: int, verbose: bool = True) -> bool:
    """Check a transposed convolution that maps an ``in_size`` side to ``out_size`` and whose
    kernel size is a multiple of its stride (even overlap, no checkerboard)."""
    v = Verdict(f"upsampling layer {in_size} -> {out_size}")
    if not v.expect(isinstance(layer, nn.ConvTranspose2d), "it is an nn.ConvTranspose2d", f"got {type(layer).__name__}"):
        return v.done(verbose)
    with torch.no_grad():
        out = layer(torch.zeros(1, layer.in_channels, in_size, in_size))
    v.expect(out.shape[-1] == out_size, f"it maps {in_size}x{in_size} to {out_size}x{out_size}",
             f"it makes {out.shape[-2]}x{out.shape[-1]}: use n_out = (n_in - 1)s - 2p + k")
    (k, _), (s, _) = layer.kernel_size, layer.stride
    v.expect(k % s == 0, "the kernel size is a multiple of the stride (no checkerboard overlap)",
             f"kernel {k} and stride {s}")
    return v.done(verbose)


def check_parameter_count(answer: int, net: nn.Module, verbose: bool = True) -> bool:
    """Check a hand-computed number of parameters against ``net``'s."""
    true = sum(p.numel() for p in net.parameters())
    v = Verdict("parameter count")
    v.expect(answer == true, f"{type(net).__name__} has {answer:,} parameters",
             f"it has {true:,}; you are off by {answer - true:+,}. Count c_in*c_out*k*k weights per "
             "convolution (+ c_out biases if it has them) and 2 per map for BatchNorm")
    return v.done(verbose)


# --------------------------------------------------------------------------- chapter 4 (discriminator)

def check_discriminator(net: nn.Module, channels: int = 1, image_size: int = 28, batch: int = 8,
                        verbose: bool = True) -> bool:
    """Check a DCGAN-style discriminator: images ``(N, C, S, S)`` to one logit per image,
    strided convolutions, LeakyReLU(0.2), no BatchNorm on the input layer, no sigmoid."""
    v = Verdict(f"discriminator for {channels}x{image_size}x{image_size} images")
    if not v.expect(isinstance(net, nn.Module), "it is an nn.Module", f"got a {type(net).__name__}"):
        return v.done(verbose)
    leaves = [m for m in net.modules() if not list(m.children())]
    convs = [m for m in leaves if isinstance(m, nn.Conv2d)]
    v.expect(any(c.stride[0] == 2 for c in convs), "it shrinks the image with strided convolutions (stride 2)",
             f"strides found: {[c.stride[0] for c in convs]}")
    v.expect(not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in leaves),
             "it uses no pooling (strided convolutions learn their own downsampling)", "found a pooling layer")
    relus = [m for m in leaves if isinstance(m, nn.LeakyReLU)]
    v.expect(bool(relus) and all(abs(m.negative_slope - 0.2) < 1e-9 for m in relus),
             "its activations are LeakyReLU(0.2)", f"found {[type(m).__name__ for m in leaves if 'ReLU' in type(m).__name__]}")
    first_conv = next((i for i, m in enumerate(leaves) if isinstance(m, nn.Conv2d)), None)
    if first_conv is not None:
        nxt = leaves[first_conv + 1] if first_conv + 1 < len(leaves) else None
        v.expect(not isinstance(nxt, nn.BatchNorm2d), "the input layer has no BatchNorm",
                 "BatchNorm right after the first convolution hides the batch's brightness and contrast from D")
    v.expect(not isinstance(leaves[-1] if leaves else None, nn.Sigmoid),
             "it outputs a logit (no sigmoid: BCEWithLogitsLoss applies it, stably)", "the last layer is a Sigmoid")
    torch.manual_seed(0)
    x = torch.rand(batch, channels, image_size, image_size) * 2 - 1
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            out = net(x)
        v.expect(out.numel() == batch and out.shape[0] == batch, f"one logit per image ({batch} images -> {batch} numbers)",
                 f"got shape {_shape(out)}")
    except Exception as error:  # noqa: BLE001
        v.expect(False, f"it accepts images of shape {(batch, channels, image_size, image_size)}",
                 f"{type(error).__name__}: {error}")
    finally:
        net.train(was_training)
    return v.done(verbose)


def receptive_field(layers) -> int:
    r"""Receptive field of the last of ``layers`` (convolutions ``(kernel, stride)``; other layers are ignored).

    .. math:: r_\ell = r_{\ell-1} + (k_\ell - 1)\,j_{\ell-1}, \qquad j_\ell = j_{\ell-1} s_\ell,
              \qquad r_0 = j_0 = 1
    """
    r, j = 1, 1
    for layer in layers:
        if isinstance(layer, nn.Module):
            if not isinstance(layer, nn.Conv2d):
                continue
            k, s = layer.kernel_size[0], layer.stride[0]
        else:
            k, s = layer
        r += (k - 1) * j
        j *= s
    return r


def check_receptive_field(answer: int, net_or_layers, verbose: bool = True) -> bool:
    """Check a hand-computed receptive field of a stack of convolutions (an ``nn.Module`` or ``(k, s)`` pairs)."""
    layers = list(net_or_layers.modules()) if isinstance(net_or_layers, nn.Module) else list(net_or_layers)
    true = receptive_field(layers)
    v = Verdict("receptive field")
    v.expect(answer == true, f"the last layer sees {answer}x{answer} input pixels",
             f"it sees {true}x{true}; use r <- r + (k - 1) * j, then j <- j * s, layer by layer from r = j = 1")
    return v.done(verbose)


def check_d_loss(d_loss, verbose: bool = True) -> bool:
    """Check a discriminator loss ``d_loss(real_logits, fake_logits)``: the binary cross-entropy
    of real logits against 1 and fake logits against 0 (means, summed), stable for large logits."""
    import torch.nn.functional as F

    v = Verdict("discriminator loss")
    torch.manual_seed(0)
    real, fake = torch.randn(16), torch.randn(16)
    want = F.binary_cross_entropy_with_logits(real, torch.ones(16)) + F.binary_cross_entropy_with_logits(fake, torch.zeros(16))
    try:
        got = d_loss(real, fake)
        got = torch.as_tensor(got, dtype=torch.float32)
        v.expect(got.numel() == 1, "it returns one number", f"got shape {tuple(got.shape)}")
        v.expect(got.numel() == 1 and torch.allclose(got.reshape(()), want, atol=1e-5),
                 f"on random logits it gives {want.item():.4f}",
                 f"got {got.flatten()[:3].tolist()}: real images get label 1, fakes label 0, and the two means add up")
        extreme = torch.as_tensor(d_loss(torch.tensor([-200.0]), torch.tensor([200.0])), dtype=torch.float32)
        v.expect(bool(torch.isfinite(extreme).all()) and abs(float(extreme.reshape(-1)[0]) - 400.0) < 1e-2,
                 "a confident wrong answer (logits of -200 and 200) costs 400, not inf or a clamped 200",
                 f"got {extreme.flatten().tolist()}: use BCEWithLogitsLoss (or softplus), not sigmoid then log")
    except Exception as error:  # noqa: BLE001
        v.expect(False, "it runs on two tensors of logits", f"{type(error).__name__}: {error}")
    return v.done(verbose)


# --------------------------------------------------------------------------- chapter 5 (training)

def _tiny_gan(seed: int = 0):
    from .nets import Discriminator, Generator

    torch.manual_seed(seed)
    generator, discriminator = Generator(latent_dim=8, base_width=4), Discriminator(base_width=4)
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    z = torch.randn(8, 8)
    return generator, discriminator, real, z


def _params(net: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def _moved(before: list[torch.Tensor], net: nn.Module) -> float:
    return max((a - p.detach()).abs().max().item() for a, p in zip(before, net.parameters()))


def check_d_step(d_step, verbose: bool = True) -> bool:
    """Check ``d_step(generator, discriminator, opt_d, real, z) -> d_loss``: Part 1 of the loop.

    D's weights must change, G's must not, G's gradients must stay empty (``detach``), and the
    returned loss must be the non-saturating D loss before the update.
    """
    from .losses import get_loss

    v = Verdict("discriminator step (Part 1)")
    generator, discriminator, real, z = _tiny_gan()
    with torch.no_grad():
        reference = copy.deepcopy(discriminator)
        want = get_loss("non-saturating").d_loss(reference(real), reference(generator(z))).item()
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    g_before, d_before = _params(generator), _params(discriminator)
    try:
        loss = d_step(generator, discriminator, opt_d, real, z)
        value = float(loss.item() if isinstance(loss, torch.Tensor) else loss)
        v.expect(_moved(d_before, discriminator) > 0, "D's weights changed", "they did not: call opt_d.step()")
        v.expect(_moved(g_before, generator) == 0, "G's weights did not change", "G moved during D's step")
        grads = [p.grad for p in generator.parameters() if p.grad is not None and p.grad.abs().sum() > 0]
        v.expect(not grads, "no gradient reached G (the fakes were detached)",
                 f"{len(grads)} of G's tensors got gradients: use fake.detach() in D's loss")
        v.expect(math.isclose(value, want, rel_tol=1e-4, abs_tol=1e-5), f"the returned loss is {want:.4f}",
                 f"got {value:.4f}: softplus(-D(real)).mean() + softplus(D(fake)).mean(), computed before the step")
    except Exception as error:  # noqa: BLE001
        v.expect(False, "it runs", f"{type(error).__name__}: {error}")
    return v.done(verbose)


def check_g_step(g_step, verbose: bool = True) -> bool:
    r"""Check ``g_step(generator, discriminator, opt_g, z) -> g_loss``: Part 2 of the loop.

    G's weights must change, D's must not, and the loss must be the non-saturating
    :math:`-\log D(G(z))` (mean), computed before the update.
    """
    from .losses import get_loss

    v = Verdict("generator step (Part 2)")
    generator, discriminator, _, z = _tiny_gan()
    with torch.no_grad():
        want = get_loss("non-saturating").g_loss(copy.deepcopy(discriminator)(copy.deepcopy(generator)(z))).item()
        saturating = get_loss("saturating").g_loss(copy.deepcopy(discriminator)(copy.deepcopy(generator)(z))).item()
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    g_before, d_before = _params(generator), _params(discriminator)
    try:
        loss = g_step(generator, discriminator, opt_g, z)
        value = float(loss.item() if isinstance(loss, torch.Tensor) else loss)
        v.expect(_moved(g_before, generator) > 0, "G's weights changed", "they did not: call opt_g.step()")
        v.expect(_moved(d_before, discriminator) == 0, "D's weights did not change", "D moved during G's step")
        hint = (f"got {value:.4f}, the saturating loss log(1 - D(G(z))): use -log D(G(z)) = softplus(-logits)"
                if math.isclose(value, saturating, rel_tol=1e-4) else
                f"got {value:.4f}: the non-saturating loss is softplus(-D(G(z))).mean(), before the step")
        v.expect(math.isclose(value, want, rel_tol=1e-4, abs_tol=1e-5), f"the returned loss is {want:.4f}", hint)
    except Exception as error:  # noqa: BLE001
        v.expect(False, "it runs", f"{type(error).__name__}: {error}")
    return v.done(verbose)


# --------------------------------------------------------------------------- chapters 6-7 (evaluation, transfer)

# chapter 6 (evaluation)

def _random_features(n: int, d: int, seed: int, shift: float = 0.0):
    import torch

    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=g, dtype=torch.float64) / d**0.5
    return (torch.randn(n, d, generator=g, dtype=torch.float64) @ mix + shift).relu()


def check_frechet_distance(function) -> bool:
    """Exercise: ``function(feats_a, feats_b) -> float``, the Fréchet distance between fitted Gaussians."""
    from .metrics import frechet_distance

    v = Verdict("Fréchet distance")
    a, b = _random_features(400, 16, 0), _random_features(300, 16, 1, shift=0.3)
    try:
        got_ab, got_aa, got_ba = float(function(a, b)), float(function(a, a)), float(function(b, a))
    except Exception as err:  # noqa: BLE001 -- report any failure in plain words
        v.expect(False, "the function runs on two (N, d) float64 tensors", f"it raised {type(err).__name__}: {err}")
        return v.done()
    want = frechet_distance(a, b)
    v.expect(got_ab > 0, "FD of two different sets is positive", f"got {got_ab:.3g}")
    v.expect(abs(got_aa) < 1e-6, "FD of a set with itself is 0", f"got {got_aa:.3g}")
    v.expect(abs(got_ab - got_ba) < 1e-6 * max(1.0, abs(want)), "FD is symmetric", f"FD(a, b)={got_ab:.5g}, FD(b, a)={got_ba:.5g}")
    v.expect(abs(got_ab - want) < 1e-4 * max(1.0, want), "FD matches the closed form",
             f"got {got_ab:.6g}, expected {want:.6g}" + (
                 "; did you use the unbiased covariance (divide by N - 1) and the square root of the product?"
                 if abs(got_ab - want) > 1e-4 * max(1.0, want) else ""))
    mean_only = float(((a.mean(0) - b.mean(0)) ** 2).sum())
    v.expect(abs(got_ab - mean_only) > 1e-6, "the covariance terms are included",
             "your value equals the distance between the means alone")
    return v.done()


def check_kernel_distance(function) -> bool:
    """Exercise: ``function(x, y) -> float``, the *unbiased* MMD² with KID's cubic kernel on one subset."""
    from .metrics import _unbiased_mmd2

    v = Verdict("unbiased kernel distance")
    x, y = _random_features(50, 8, 2), _random_features(60, 8, 3, shift=0.2)
    try:
        got = float(function(x, y))
        same = float(function(x, x[:40]))
    except Exception as err:  # noqa: BLE001
        v.expect(False, "the function runs on two (N, d) float64 tensors", f"it raised {type(err).__name__}: {err}")
        return v.done()
    want = float(_unbiased_mmd2(x, y))
    biased = float(((x @ x.T / 8 + 1) ** 3).mean() + ((y @ y.T / 8 + 1) ** 3).mean() - 2 * ((x @ y.T / 8 + 1) ** 3).mean())
    v.expect(abs(got - want) < 1e-6 * max(1.0, abs(want)), "the value matches the unbiased estimator",
             f"got {got:.6g}, expected {want:.6g}" + (
                 " (that is the biased estimate: leave out the diagonal i = j and divide by m(m-1))"
                 if abs(got - biased) < 1e-6 * max(1.0, abs(biased)) else ""))
    want_same = float(_unbiased_mmd2(x, x[:40]))
    v.expect(abs(same - want_same) < 1e-6 * max(1.0, abs(want_same)), "works for sets of different sizes",
             f"for 50 vs 40 rows got {same:.6g}, expected {want_same:.6g}")
    return v.done()


def check_strategy_parameters(select) -> bool:
    """Chapter 7, exercise 3: ``select(generator, discriminator)`` must return ``(g_params, d_params)``
    with exactly the parameters of G's last block and of D's head."""
    import torch

    from .nets import Discriminator, Generator

    generator, discriminator = Generator(latent_dim=8, base_width=4), Discriminator(base_width=4)
    verdict = Verdict("strategy selector")
    try:
        chosen = select(generator, discriminator)
    except Exception as err:  # the student's code raised: say what happened
        verdict.expect(False, "select(generator, discriminator) runs", f"it raised {type(err).__name__}: {err}")
        return verdict.done()
    if not verdict.expect(isinstance(chosen, (tuple, list)) and len(chosen) == 2,
                          "it returns a pair (g_params, d_params)", f"got {type(chosen).__name__}"):
        return verdict.done()
    g_params, d_params = (list(chosen[0]), list(chosen[1]))
    verdict.expect(all(isinstance(p, torch.nn.Parameter) for p in g_params + d_params),
                   "both lists hold parameters (nn.Parameter)", "found something else in them")
    want_g = {id(p) for p in generator.blocks[-1].parameters()}
    want_d = {id(p) for p in discriminator.head.parameters()}
    got_g, got_d = {id(p) for p in g_params}, {id(p) for p in d_params}
    verdict.expect(got_g == want_g, "G: exactly the parameters of its last block",
                   f"{len(got_g & want_g)} of {len(want_g)} wanted, {len(got_g - want_g)} others")
    verdict.expect(got_d == want_d, "D: exactly the parameters of its head",
                   f"{len(got_d & want_d)} of {len(want_d)} wanted, {len(got_d - want_d)} others")
    return verdict.done()


__all__ = ["Verdict"] + sorted(name for name in dict(globals()) if name.startswith("check_"))
