"""Checks for chapters 1 and 2: the objective and the toy GAN."""
from __future__ import annotations

from .verdict import Verdict, _call


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

    from .. import theory

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
    from ..metrics import mode_coverage

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
