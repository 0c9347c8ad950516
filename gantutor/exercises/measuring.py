"""Checks for chapters 6 and 7: distances between image sets, and what a transfer strategy trains."""
from __future__ import annotations

from .verdict import Verdict, _close


# chapter 6 (evaluation)

def _random_features(n: int, d: int, seed: int, shift: float = 0.0):
    import torch

    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=g, dtype=torch.float64) / d**0.5
    return (torch.randn(n, d, generator=g, dtype=torch.float64) @ mix + shift).relu()


def _fd_variants(a, b) -> dict[str, float]:
    """Fréchet distances with the usual mistakes, to recognise them in a student's answer."""
    import torch

    from ..metrics import gaussian_frechet_distance

    def cov(x, ddof):
        centred = x - x.mean(0)
        return centred.T @ centred / (len(x) - ddof)

    mean_a, mean_b = a.mean(0), b.mean(0)
    product_trace = (mean_a - mean_b).square().sum() + cov(a, 1).trace() + cov(b, 1).trace() \
        - 2 * torch.trace(cov(a, 1) @ cov(b, 1))
    return {"biased": gaussian_frechet_distance(mean_a, cov(a, 0), mean_b, cov(b, 0)),
            "no_root": float(product_trace),
            "means_only": float((mean_a - mean_b).square().sum())}


def check_frechet_distance(function) -> bool:
    """Exercise: ``function(feats_a, feats_b) -> float``, the Fréchet distance between fitted Gaussians."""
    from ..metrics import frechet_distance

    v = Verdict("Fréchet distance")
    a, b = _random_features(400, 16, 0), _random_features(300, 16, 1, shift=0.3)
    try:
        got_ab, got_aa, got_ba = float(function(a, b)), float(function(a, a)), float(function(b, a))
    except Exception as err:  # noqa: BLE001 -- report any failure in plain words
        v.compare(False, "the function on two (N, d) float64 tensors", "it to run", f"{type(err).__name__}: {err}")
        return v.done()
    want = frechet_distance(a, b)
    variants = _fd_variants(a, b)
    v.compare(got_ab > 0, "FD(a, b) of two different sets", "a positive number", f"{got_ab:.6g}")
    v.compare(abs(got_aa) < 1e-6, "FD(a, a) of a set with itself", "0", f"{got_aa:.6g}")
    v.compare(abs(got_ab - got_ba) < 1e-6 * max(1.0, abs(want)), "FD(b, a), the sets swapped",
              f"FD(a, b) = {got_ab:.6g} (FD is symmetric)", f"{got_ba:.6g}")
    hint = ""
    if _close(got_ab, variants["biased"], 1e-6):
        hint = "you fitted the biased covariance (divided by N): divide by N - 1, as torch.cov does"
    elif _close(got_ab, variants["no_root"], 1e-6):
        hint = "the cross term is 2·tr((Σa Σb)^½), the trace of the square root of the product, not tr(Σa Σb)"
    elif _close(got_ab, variants["means_only"], 1e-6):
        hint = "that is the distance between the means alone: add tr Σa + tr Σb - 2·tr((Σa Σb)^½)"
    v.compare(_close(got_ab, want, 1e-4), "FD(a, b) against the closed form", f"{want:.6g}", f"{got_ab:.6g}", hint)
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
        v.compare(False, "the function on two (N, d) float64 tensors", "it to run", f"{type(err).__name__}: {err}")
        return v.done()
    want = float(_unbiased_mmd2(x, y))
    kernel = lambda p, q: (p @ q.T / 8 + 1) ** 3
    biased = float(kernel(x, x).mean() + kernel(y, y).mean() - 2 * kernel(x, y).mean())
    hint = ""
    if _close(got, biased, 1e-6):
        hint = "that is the biased estimate: leave out the diagonal i = j and divide by m(m - 1)"
    elif _close(got, float(((x @ x.T / 8 + 1)).mean() + (y @ y.T / 8 + 1).mean() - 2 * (x @ y.T / 8 + 1).mean()), 1e-6):
        hint = "the kernel is cubic: k(x, y) = (x·y / d + 1)³"
    v.compare(_close(got, want, 1e-6), "MMD² of 50 vs 60 rows against the unbiased estimator",
              f"{want:.6g}", f"{got:.6g}", hint)
    want_same = float(_unbiased_mmd2(x, x[:40]))
    v.compare(_close(same, want_same, 1e-6), "MMD² of 50 vs 40 rows (sets of different sizes)",
              f"{want_same:.6g}", f"{same:.6g}",
              "m and n differ here: each within-set term has its own m(m - 1)" if _close(got, want, 1e-6) else "")
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
        verdict.compare(False, "select(generator, discriminator)", "it to run", f"{type(err).__name__}: {err}")
        return verdict.done()
    if not verdict.compare(isinstance(chosen, (tuple, list)) and len(chosen) == 2, "what select returns",
                           "a pair (g_params, d_params)", f"a {type(chosen).__name__}"
                           + (f" of length {len(chosen)}" if isinstance(chosen, (tuple, list)) else "")):
        return verdict.done()
    if not verdict.compare(not any(isinstance(part, torch.nn.Module) for part in chosen), "g_params and d_params",
                           "two lists of parameters (nn.Parameter)",
                           f"a {type(chosen[0]).__name__} and a {type(chosen[1]).__name__}",
                           "list(module.parameters()) gives a module's parameters"):
        return verdict.done()
    try:
        g_params, d_params = list(chosen[0]), list(chosen[1])
    except TypeError:
        verdict.compare(False, "g_params and d_params", "two lists of parameters (nn.Parameter)",
                        f"a {type(chosen[0]).__name__} and a {type(chosen[1]).__name__}")
        return verdict.done()
    others = [type(p).__name__ for p in g_params + d_params if not isinstance(p, torch.nn.Parameter)]
    verdict.compare(not others, "the items of both lists", "parameters (nn.Parameter)",
                    f"{len(others)} other item(s): {', '.join(dict.fromkeys(others))}",
                    "list(module.parameters()) gives a module's parameters"
                    if any(isinstance(p, torch.nn.Module) for p in g_params + d_params) else "")
    names_g = {id(p): n for n, p in generator.named_parameters()}
    names_d = {id(p): n for n, p in discriminator.named_parameters()}
    for net, label, wanted, got_params, names, where in (
            ("G", "generator.blocks[-1]", generator.blocks[-1], g_params, names_g, "its last block"),
            ("D", "discriminator.head", discriminator.head, d_params, names_d, "its head")):
        want = {id(p) for p in wanted.parameters()}
        got = {id(p) for p in got_params}
        extra = sorted(names.get(i, "a parameter of neither network") for i in got - want)
        missing = sorted(names[i] for i in want - got)
        words = [f"{len(got & want)} of the {len(want)} wanted"]
        if missing:
            words.append("missing " + ", ".join(missing))
        if extra:
            words.append(f"{len(extra)} others ({', '.join(extra[:3])}{', ...' if len(extra) > 3 else ''})")
        verdict.compare(got == want, f"{net}: exactly the parameters of {where}",
                        f"the {len(want)} parameters of {label}", "; ".join(words))
    return verdict.done()
