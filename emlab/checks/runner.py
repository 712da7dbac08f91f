"""The case runner of the student-facing checks: run a function on tiny examples and *print* what
happened (which case failed and why, or that the function is not written yet); never raise.

    >>> from emlab.checks import Case, run_cases, compare_scalar
    >>> result = run_cases("double", [Case("2 -> 4", lambda: 2 * 2, compare_scalar(4.0))])
    ✔ double: all 1 cases agree with the reference
    >>> bool(result)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "CheckResult",
    "Case",
    "run_cases",
    "compare_array",
    "compare_scalar",
    "compare_tuple",
    "fmt",
    "RTOL",
    "ATOL",
]


@dataclass
class CheckResult:
    """Outcome of one check call: ``passed``, the printed ``message`` and per-case ``failures``."""

    name: str
    passed: bool
    message: str
    failures: list[str] = field(default_factory=list)
    not_written: bool = False

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:  # the message was printed already; show nothing more
        return None

    def __repr__(self) -> str:
        return f"CheckResult(name={self.name!r}, passed={self.passed})"


@dataclass
class Case:
    """One tiny example: ``call()`` runs the student's function, ``compare(got)`` returns ``None``
    when ``got`` is right or a sentence saying what is wrong (expected vs got)."""

    label: str
    call: Callable[[], object]
    compare: Callable[[object], str | None]


#: One standard for visible checks and hidden tests: relative tolerance for float64 answers (float32
#: and float16 answers are compared at :data:`emlab.checks.grading.FLOAT32_RTOL`) and absolute floor.
RTOL, ATOL = 1e-6, 1e-12


def fmt(x) -> str:
    """A value as a student should read it: floats rounded to 6 significant digits, no
    ``np.float64(...)`` wrappers, arrays trimmed to a few entries per axis."""
    if x is None:
        return "None"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.6g}"
    if isinstance(x, (complex, np.complexfloating)):
        return f"{complex(x):.6g}"
    if isinstance(x, (np.ndarray, list, tuple)) and _numeric(x):
        arr = np.asarray(x, dtype=float)
        with np.printoptions(precision=6, suppress=False, threshold=24, edgeitems=3, linewidth=90):
            text = np.array2string(arr, separator=", ")
        return text
    if isinstance(x, tuple):
        return "(" + ", ".join(fmt(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    if isinstance(x, list):
        return "[" + ", ".join(fmt(v) for v in x[:8]) + (", ..." if len(x) > 8 else "") + "]"
    return repr(x)


def _short(x, width: int = 300) -> str:
    text = fmt(x)
    text = text if len(text) <= width else text[:width] + " ..."
    return text.replace("\n", "\n" + " " * 17)


def _numeric(x) -> bool:
    """Whether ``x`` prints as an array of real numbers (a complex one prints with its ``repr``)."""
    try:
        if np.iscomplexobj(np.asarray(x)):
            return False
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return False
    return arr.ndim > 0


def run_cases(name: str, cases: Iterable[Case], what: str = "the reference") -> CheckResult:
    """Run every case, print one clear message, return a :class:`CheckResult`. Never raises
    (except ``KeyboardInterrupt``, so the student can still stop a runaway cell)."""
    failures = []
    n = 0
    for case in cases:
        n += 1
        try:
            got = case.call()
        except NotImplementedError:
            msg = (
                f"✘ {name} is not written yet: it still raises NotImplementedError. "
                f"Replace `raise NotImplementedError()` with your code."
            )
            print(msg)
            return CheckResult(name, False, msg, [msg], not_written=True)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 (SystemExit too: a check never stops the notebook)
            failures.append(f"case '{case.label}': your function raised {type(exc).__name__}: {exc}")
            continue
        try:
            problem = case.compare(got)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001
            problem = f"could not compare the result ({type(exc).__name__}: {exc}); got {_short(got)}"
        if problem:
            failures.append(f"case '{case.label}': {problem}")
    if failures:
        msg = f"✘ {name}: {len(failures)} of {n} cases fail\n  - " + "\n  - ".join(failures)
    else:
        msg = f"✔ {name}: all {n} cases agree with {what}"
    print(msg)
    return CheckResult(name, not failures, msg, failures)


class _Complex(ValueError):
    """An answer with non-zero imaginary parts where real numbers are asked for."""


def _real_numbers(got) -> np.ndarray:
    """``got`` as a float array. A complex answer whose imaginary parts are all zero (e.g. from
    ``np.roots``) is its real part, as in the grader's ``expect_close``; one with an imaginary part
    raises :class:`_Complex` (numpy would drop it with a warning)."""
    arr = np.asarray(got)
    if np.iscomplexobj(arr):
        if np.any(arr.imag != 0):
            raise _Complex
        arr = arr.real
    return np.asarray(arr, dtype=float)


def compare_array(expected, name: str = "result", rtol: float = RTOL, atol: float = ATOL, mistakes=()):
    """A ``compare`` function: shape first, then values within tolerance (float32 answers at the
    float32 tolerance), reporting the worst entry and, when recognisable, the likely mistake.

    ``mistakes``: ``(value, sentence)`` pairs, what a typical mistake would return and how to name it
    (e.g. the forward probabilities without the start probabilities)."""
    from .grading import _diagnose, tolerance_for

    expected = np.asarray(expected, dtype=float)

    def compare(got):
        if got is None:
            return f"{name}: your function returned nothing (None); did it `return` {name}?"
        try:
            arr = _real_numbers(got)
        except _Complex:
            return f"{name} should be real, got complex numbers with imaginary parts: {_short(got)}"
        except (TypeError, ValueError):
            return f"{name} should be an array of numbers, got {type(got).__name__}: {_short(got)}"
        if arr.size == 0 and expected.size == 0:  # nothing to compare: [] is a fine empty (0, K, K) answer
            return None
        if arr.shape != expected.shape:
            hint = " (transposed?)" if arr.ndim == 2 and arr.shape == expected.shape[::-1] else ""
            return f"{name} should have shape {expected.shape}, got shape {arr.shape}{hint}"
        tol = tolerance_for(np.asarray(got), rtol)
        if not np.allclose(arr, expected, rtol=tol, atol=atol, equal_nan=False):
            err = np.abs(arr - expected)
            where = (
                tuple(
                    int(i)
                    for i in np.unravel_index(np.nanargmax(np.where(np.isnan(err), np.inf, err)), err.shape)
                )
                if err.size
                else ()
            )
            hint = _named_mistake(arr, mistakes) or _diagnose(arr, expected)
            if not hint and np.isnan(arr).any() and not np.isnan(expected).any():
                hint = "; NaN: a division by zero? (0/0 for an empty cluster or a coin with no sets)"
            at = list(where) if where else ""
            return (
                f"{name}{at}: expected {fmt(expected[where])}, got {fmt(arr[where])}"
                f"{hint}\n      expected {name} = {_short(expected)}\n      got      {name} = {_short(arr)}"
            )
        return None

    return compare


def _named_mistake(arr, mistakes) -> str:
    for value, sentence in mistakes:
        value = np.asarray(value, dtype=float)
        if value.shape == arr.shape and np.allclose(arr, value, rtol=1e-5, atol=1e-12):
            return f"; {sentence}"
    return ""


def compare_scalar(expected: float, name: str = "value", rtol: float = RTOL, atol: float = ATOL, mistakes=()):
    """A ``compare`` function for one number (a 1-element array is accepted)."""
    from .grading import tolerance_for

    def compare(got):
        if got is None:
            return f"{name}: your function returned nothing (None); did it `return` the value?"
        try:
            arr = _real_numbers(got)
            if arr.size != 1:
                raise ValueError
            value = float(arr.reshape(()))
        except _Complex:
            return f"{name} should be a real number, got {fmt(complex(np.asarray(got).reshape(-1)[0]))}"
        except (TypeError, ValueError):
            return f"{name} should be a number, got {type(got).__name__}: {_short(got)}"
        tol = tolerance_for(np.asarray(got), rtol)
        if not np.isclose(value, expected, rtol=tol, atol=atol):
            hint = _named_mistake(np.asarray(value), mistakes).replace("; ", " (", 1)
            hint = hint + ")" if hint else ""
            with np.errstate(all="ignore"):
                if hint:
                    pass
                elif expected > 0 and np.isclose(value, np.log(expected), rtol=1e-6):
                    hint = " (that is its log: a probability is expected here)"
                elif np.isfinite(value) and np.isclose(np.exp(value), expected, rtol=1e-6):
                    hint = " (that is a log: the value itself is expected here)"
                elif value == 0 and expected > 0:
                    hint = " (underflow?)"
                elif value == 0 and expected < 0:
                    hint = " (0 is the log of 1: is a term of a sum of logs missing?)"
            return f"{name}: expected {fmt(expected)}, got {fmt(value)}{hint}"
        return None

    return compare


def compare_tuple(*parts: Callable[[object], str | None]):
    """Compare a tuple result part by part (e.g. ``(gamma, xi)``)."""

    def compare(got):
        if got is None:
            return f"your function returned nothing (None); it should return a tuple of {len(parts)} items"
        if not isinstance(got, (tuple, list)) or len(got) != len(parts):
            return f"should return a tuple of {len(parts)} items, got {type(got).__name__}: {_short(got)}"
        for part, value in zip(parts, got, strict=True):
            problem = part(value)
            if problem:
                return problem
        return None

    return compare
