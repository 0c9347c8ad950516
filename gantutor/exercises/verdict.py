"""The verdict every check function prints: what is right and what is wrong, in plain words."""
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


def _call(verdict: Verdict, what: str, function, *args):
    """Call the student's function; a crash becomes a failed check with the error, not a traceback."""
    try:
        return True, function(*args)
    except Exception as error:  # the student's code: report any error in words
        verdict.expect(False, f"{what} runs", f"it raised {type(error).__name__}: {error}")
        return False, None


__all__ = ["Verdict"]
