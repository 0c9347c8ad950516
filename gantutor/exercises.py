"""Check functions for the exercises: a precise, friendly verdict for the student.

Every ``check_*`` function prints what is right and what is wrong in plain words and
returns ``True`` only when everything passes, so a notebook cell can also ``assert`` it.
"""
from __future__ import annotations



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


# --------------------------------------------------------------------------- chapter 4 (discriminator)


# --------------------------------------------------------------------------- chapter 5 (training)


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
