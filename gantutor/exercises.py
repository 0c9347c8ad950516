"""Check functions for the exercises: a precise, friendly verdict for the student.

Every ``check_*`` function prints what is right and what is wrong in plain words and
returns ``True`` only when everything passes, so a notebook cell can also ``assert`` it.
"""
from __future__ import annotations

__all__ = ["Verdict", "check_frechet_distance", "check_kernel_distance"]


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
