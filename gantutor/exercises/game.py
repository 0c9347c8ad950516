"""Checks for chapters 1 and 2: the objective and the toy GAN."""
from __future__ import annotations

from .verdict import Verdict, _call, _close, _shape


def check_optimal_discriminator(d_star) -> bool:
    r"""Chapter 1: ``d_star(x, mu)`` should return :math:`D^*(x)` for :math:`p_\text{data}=\mathcal N(0,1)`,
    :math:`p_g=\mathcal N(\mu,1)` at the points of the NumPy array ``x``."""
    import numpy as np

    from .. import theory

    verdict = Verdict("optimal discriminator")
    x = np.linspace(-6, 8, 1401)
    for mu in (-1.0, 0.5, 2.0):
        ok, got = _call(verdict, f"d_star(x, {mu})", d_star, x, mu)
        if not ok:
            return verdict.done()
        got = np.asarray(got, dtype=float)
        if not verdict.compare(got.shape == x.shape, f"mu={mu}: the shape of d_star(x, mu)",
                               f"one value per point, shape {x.shape}", f"shape {got.shape}"):
            continue
        p_data, p_g = theory.gaussian_density(x), theory.gaussian_density(x, mu)
        want = theory.optimal_discriminator(p_data, p_g)
        error = np.abs(got - want)
        worst = int(np.nanargmax(error)) if np.isfinite(error).any() else 0
        hint = ""
        if np.allclose(got, 1 - want, atol=1e-6):
            hint = "you computed p_g / (p_data + p_g), the probability of 'fake': D* is the probability of 'real'"
        elif np.allclose(got, p_data / p_g, rtol=1e-6):
            hint = "that is the ratio p_data / p_g: divide by the sum p_data + p_g instead"
        verdict.compare(bool(np.all(error < 1e-6)), f"mu={mu}: D*(x) = p_data / (p_data + p_g)",
                        f"D*({x[worst]:.2f}) = {want[worst]:.6f}", f"{got[worst]:.6f} there "
                        f"(the largest difference, {error[worst]:.3g}, of the {len(x)} points)", hint)
    ok, half = _call(verdict, "d_star(x, 0)", d_star, x, 0.0)
    if ok:
        half = np.asarray(half, dtype=float)
        verdict.compare(half.shape == x.shape and np.allclose(half, 0.5), "mu=0 (p_g = p_data): D*",
                        "1/2 at every point", f"values from {np.nanmin(half):.4f} to {np.nanmax(half):.4f}"
                        if half.size else _shape(half))
    return verdict.done()


def check_jensen_shannon(jsd) -> bool:
    r"""Chapter 1: ``jsd(p, q, x)`` should return :math:`\mathrm{JSD}(p\|q)` in nats for densities on the grid ``x``."""
    import math

    import numpy as np

    from .. import theory

    verdict = Verdict("Jensen-Shannon divergence")
    u = np.linspace(-1, 4, 50001)
    box = lambda a: ((u >= a) & (u <= a + 1)).astype(float)
    cases = [("identical boxes", box(0), box(0), 0.0, 1e-6),
             ("half-overlapping boxes", box(0), box(0.5), 0.5 * math.log(2), 2e-3),
             ("disjoint boxes", box(0), box(2), math.log(2), 2e-3)]
    p, q = theory.gaussian_density(u, 1.0, 0.5), theory.gaussian_density(u, 2.0, 0.7)
    cases.append(("two Gaussians", p, q, theory.jensen_shannon(p, q, u), 1e-5))
    for name, a, b, want, tolerance in cases:
        ok, got = _call(verdict, f"jsd on {name}", jsd, a, b, u)
        if not ok:
            return verdict.done()
        try:
            got = float(got)
        except (TypeError, ValueError):
            verdict.compare(False, f"jsd on {name}", "a number", _shape(got))
            continue
        hint = ""
        if not math.isfinite(got):
            hint = "where one density is 0, the term 0·log 0 must count as 0 (e.g. np.where(p > 0, ...))"
        elif want > 0 and _close(got, want / math.log(2), 2e-3):
            hint = "that is the value in bits: use the natural log"
        elif want > 0 and _close(got, 2 * want, 2e-3):
            hint = "that is twice the JSD: each KL term is weighted by 1/2"
        verdict.compare(math.isfinite(got) and abs(got - want) < tolerance, f"jsd on {name}",
                        f"{want:.4f} nats", f"{got:.4f}", hint)
    ok, reverse = _call(verdict, "jsd(q, p, x)", jsd, q, p, u)
    if ok:
        forward = theory.jensen_shannon(p, q, u)
        try:
            reverse = float(reverse)
        except (TypeError, ValueError):
            reverse = float("nan")
        verdict.compare(abs(reverse - forward) < 1e-5, "jsd(q, p), the arguments swapped",
                        f"jsd(p, q) = {forward:.4f} (JSD is symmetric)", f"{reverse:.4f}")
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
    is_scalar = isinstance(value, torch.Tensor) and value.ndim == 0
    if not verdict.compare(is_scalar, "g_loss(logits) for 4 logits", "one number (a 0-dim tensor)",
                           f"a {type(value).__name__} of {_shape(value)}",
                           "take the mean over the batch" if isinstance(value, torch.Tensor)
                           and value.shape == logits.shape else ""):
        return verdict.done()
    want = F.softplus(-logits).mean().item()
    saturating = -F.softplus(logits).mean().item()  # mean log(1 - D(G(z)))
    hint = ""
    if _close(value.item(), saturating, 1e-5):
        hint = "that is the saturating loss mean log(1 - D(G(z))): the non-saturating one is -mean log D(G(z))"
    elif _close(value.item(), -want, 1e-5):
        hint = "the sign is flipped: the loss is minus the mean of log D(G(z))"
    verdict.compare(_close(value.item(), want, 1e-5), "g_loss on the logits [-3, -0.5, 0, 2]",
                    f"-mean(log sigmoid(logits)) = {want:.4f}", f"{value.item():.4f}", hint)
    if not value.requires_grad:
        verdict.compare(False, "the gradient of g_loss", "a loss connected to the logits",
                        "a tensor without a gradient", "compute it with torch operations on the logits (no .item(), "
                        "no NumPy, no torch.no_grad)")
        return verdict.done()
    value.backward()
    grad = logits.grad
    negative = grad is not None and bool(torch.all(grad < 0))
    verdict.compare(negative, "the gradient with respect to each fake logit",
                    "negative for every logit (descending the loss raises D's logit for the fakes)",
                    "no gradient" if grad is None else f"{[round(g, 4) for g in grad.tolist()]}")
    rejected = torch.tensor([-100.0], requires_grad=True)
    ok, far = _call(verdict, "g_loss at logit -100", g_loss, rejected)
    if ok and isinstance(far, torch.Tensor):
        finite = bool(torch.isfinite(far).all()) and far.numel() == 1
        verdict.compare(finite and abs(far.item() - 100.0) < 1e-2,
                        "g_loss when D rejects a fake with logit -100", "100.0000 (finite)",
                        f"{far.flatten().tolist()}",
                        "log(sigmoid(-100)) underflows to log 0: write log sigmoid(l) as -softplus(-l)"
                        if not finite else "")
        if finite and far.requires_grad:
            far.backward()
            g = float(rejected.grad) if rejected.grad is not None else float("nan")
            verdict.compare(abs(g + 1) < 1e-3, "its gradient at logit -100", "about -1 (it does not saturate)",
                            f"{g:.3g}", "a gradient of 0 there is the saturating loss's problem, or a clamp of the "
                            "probability" if abs(g) < 1e-3 else "")
    return verdict.done()


def check_gradient_arrows(arrows) -> bool:
    r"""Chapter 2: ``arrows(discriminator, points)`` should return :math:`-\nabla_x L_G` for every point,
    with the non-saturating loss (GAN Lab's arrows), shape ``(N, 2)``."""
    import torch

    from ..nets import MLPDiscriminator
    from ..viz import generator_gradients

    verdict = Verdict("generator gradient arrows")
    torch.manual_seed(0)
    discriminator = MLPDiscriminator(2, 16, 2)
    points = torch.randn(32, 2)
    before = [p.detach().clone() for p in discriminator.parameters()]
    ok, got = _call(verdict, "arrows(discriminator, points)", arrows, discriminator, points.clone())
    if not ok:
        return verdict.done()
    got = torch.as_tensor(got).detach().float()
    if not verdict.compare(tuple(got.shape) == (32, 2), "the shape of arrows(discriminator, points) for 32 points",
                           "(32, 2), one 2-D arrow per point", f"{tuple(got.shape)}"):
        return verdict.done()
    want = generator_gradients(discriminator, points, "non-saturating")
    error = (got - want).abs().max(dim=1).values
    worst = int(error.argmax())
    hint = ""
    if torch.allclose(got, -want, atol=1e-5):
        hint = "yours point the other way: the arrows are minus the gradient of G's loss"
    elif torch.allclose(got * len(points), want, atol=1e-5):
        hint = "yours are divided by N = 32: the loss is a mean; use the sum over points (or multiply by N)"
    verdict.compare(float(error.max()) < 1e-4, "the arrows, -grad_x of the non-saturating loss",
                    f"arrow {worst} = ({want[worst, 0]:.4f}, {want[worst, 1]:.4f})",
                    f"({got[worst, 0]:.4f}, {got[worst, 1]:.4f}) (the largest difference of the 32)", hint)
    moved = max(float((a - b.detach()).abs().max()) for a, b in zip(before, discriminator.parameters()))
    verdict.compare(moved == 0, "D's weights after the call", "unchanged", f"changed by up to {moved:.3g}",
                    "compute the gradient with torch.autograd.grad (or backward on the points only); "
                    "no optimiser step")
    return verdict.done()


def check_toy_gan(trainer, num_samples: int = 2500, min_modes: int | None = None, min_quality: float = 0.5) -> bool:
    """Chapter 2: does the trained toy GAN cover the modes (all by default) with enough high-quality samples?"""
    from ..metrics import mode_coverage

    verdict = Verdict("toy GAN")
    data = trainer.data
    if not verdict.compare(hasattr(data, "centres"), "the trainer's data", "a toy mixture (ring or grid)",
                           f"a {type(data).__name__}"):
        return verdict.done()
    result = mode_coverage(trainer.sample(num_samples, z=trainer.noise(num_samples)), data.centres, data.sigma)
    need = result["num_modes"] if min_modes is None else min_modes
    verdict.compare(result["modes_covered"] >= need, f"modes covered by {num_samples} samples",
                    f"at least {need} of {result['num_modes']}", f"{result['modes_covered']}",
                    "the missing modes are mode collapse: try a faster D (lr_d), more D steps, or more training")
    verdict.compare(result["high_quality"] >= min_quality, "samples within 3σ of a mode",
                    f"at least {min_quality:.0%}", f"{result['high_quality']:.1%}",
                    "the samples lie between the modes: train longer, or lower the learning rates at the end")
    print(f"   modes covered {result['modes_covered']}/{result['num_modes']}, "
          f"high quality {result['high_quality']:.1%}")
    return verdict.done()
