"""The verdict every check function prints: what is right and what is wrong, in plain words."""
from __future__ import annotations


class Verdict:
    """Collects the findings of one check and prints them.

    Every failed line says what was checked, what was expected and what was got; a hint follows
    only when the check recognised the mistake (e.g. swapped labels, a saturating loss), so the
    student never reads advice about a mistake they did not make.

    >>> v = Verdict("generator")
    >>> v.compare(out.shape == (2, 1, 28, 28), "the output's shape", (2, 1, 28, 28), tuple(out.shape))
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

    def compare(self, condition: bool, what: str, expected, got, hint: str = "") -> bool:
        """Record a check of ``what``; when ``condition`` is false the line reads
        "what: expected ..., got ..." and then ``hint``, if one is given (give one only when it applies)."""
        if condition:
            self.passed.append(what)
        else:
            self.failed.append(f"{what}: expected {expected}, got {got}" + (f". Hint: {hint}" if hint else ""))
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
        verdict.compare(False, f"{what}", "it to run", f"{type(error).__name__}: {error}")
        return False, None


def _close(a: float, b: float, tolerance: float = 1e-4) -> bool:
    """``a`` and ``b`` agree to a relative (or, near zero, absolute) ``tolerance``."""
    import math

    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= tolerance * max(1.0, abs(b))


def _shape(value) -> str:
    """A value's shape in words: "shape (8, 1)" for a tensor or array, else its type."""
    shape = getattr(value, "shape", None)
    return f"shape {tuple(shape)}" if shape is not None else f"a {type(value).__name__}"


__all__ = ["Verdict"]
