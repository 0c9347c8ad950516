"""Checks for chapters 6 and 7: distances between image sets, and what a transfer strategy trains."""
from __future__ import annotations

from .verdict import Verdict


# chapter 6 (evaluation)

def _random_features(n: int, d: int, seed: int, shift: float = 0.0):
    import torch

    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=g, dtype=torch.float64) / d**0.5
    return (torch.randn(n, d, generator=g, dtype=torch.float64) @ mix + shift).relu()


def check_frechet_distance(function) -> bool:
    """Exercise: ``function(feats_a, feats_b) -> float``, the Fréchet distance between fitted Gaussians."""
    from ..metrics import frechet_distance

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
    from ..metrics import _unbiased_mmd2

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

    from ..nets import Discriminator, Generator

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
