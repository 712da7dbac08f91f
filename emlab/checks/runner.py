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

__all__ = ["CheckResult", "Case", "run_cases", "compare_array", "compare_scalar", "compare_tuple"]


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


def _short(x, width: int = 300) -> str:
    with np.printoptions(precision=6, suppress=False, threshold=40, linewidth=100):
        text = repr(np.asarray(x)) if isinstance(x, (np.ndarray, list, tuple)) and _numeric(x) else repr(x)
    return text if len(text) <= width else text[:width] + " ..."


def _numeric(x) -> bool:
    try:
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


def compare_array(expected, name: str = "result", rtol: float = 1e-6, atol: float = 1e-10):
    """A ``compare`` function: shape first, then values within tolerance, reporting the worst entry."""
    expected = np.asarray(expected, dtype=float)

    def compare(got):
        try:
            arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return f"{name} should be an array of numbers, got {type(got).__name__}: {_short(got)}"
        if arr.shape != expected.shape:
            return f"{name} should have shape {expected.shape}, got shape {arr.shape}"
        if not np.allclose(arr, expected, rtol=rtol, atol=atol, equal_nan=False):
            err = np.abs(arr - expected)
            where = (
                tuple(
                    int(i)
                    for i in np.unravel_index(np.nanargmax(np.where(np.isnan(err), np.inf, err)), err.shape)
                )
                if err.size
                else ()
            )
            return (
                f"{name}{list(where) if where else ''}: expected {expected[where]!r}, got {arr[where]!r}"
                f"\n      expected {name} = {_short(expected)}\n      got      {name} = {_short(arr)}"
            )
        return None

    return compare


def compare_scalar(expected: float, name: str = "value", rtol: float = 1e-6, atol: float = 1e-12):
    def compare(got):
        try:
            value = float(got)
        except (TypeError, ValueError):
            return f"{name} should be a number, got {type(got).__name__}: {_short(got)}"
        if not np.isclose(value, expected, rtol=rtol, atol=atol):
            return f"{name}: expected {expected!r}, got {value!r}"
        return None

    return compare


def compare_tuple(*parts: Callable[[object], str | None]):
    """Compare a tuple result part by part (e.g. ``(gamma, xi)``)."""

    def compare(got):
        if not isinstance(got, (tuple, list)) or len(got) != len(parts):
            return f"should return a tuple of {len(parts)} items, got {type(got).__name__}: {_short(got)}"
        for part, value in zip(parts, got, strict=True):
            problem = part(value)
            if problem:
                return problem
        return None

    return compare
