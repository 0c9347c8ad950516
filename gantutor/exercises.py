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
