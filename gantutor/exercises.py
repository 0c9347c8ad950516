"""Check functions for the exercises: a precise, friendly verdict for the student.

Every ``check_*`` function prints what is right and what is wrong in plain words and
returns ``True`` only when everything passes, so a notebook cell can also ``assert`` it.
"""
from __future__ import annotations

__all__ = ["Verdict"]


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
