"""Helpers for the instructor's hidden tests: comparisons whose failure message teaches without
revealing the reference.

The grader (``tools/grading``) runs hidden tests in its own process and shows a student only the
message of a :class:`CheckFailure`; any other assertion in a hidden test is reported as "a hidden
test failed". So a hidden test should compare through these helpers:

    >>> import numpy as np
    >>> expect_close(np.array([0.1, 0.2]), np.array([0.1, 0.2]), "alpha", "hidden case 1")
    >>> expect_close([[0.1, 0.2]], np.array([0.1, 0.2]), "alpha", "hidden case 1")
    Traceback (most recent call last):
    ...
    emlab.checks.grading.CheckFailure: alpha on hidden case 1: expected shape (2,), got shape (1, 2)

Messages name the quantity, the case, the shape, the first index that differs and by how much
relatively — never the reference value of a hidden case. Lists, tuples and float32 arrays are
accepted like numpy arrays; float32 (or float16) answers are compared at a tolerance that suits
their precision.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .runner import ATOL, RTOL  # the same tolerances as the visible checks

__all__ = [
    "CheckFailure",
    "expect_close",
    "expect_equal",
    "expect_true",
    "needs_dynamic_program",
    "tolerance_for",
    "RTOL",
    "ATOL",
]

FLOAT32_RTOL = 2e-5


class CheckFailure(AssertionError):
    """A failed hidden check whose message is safe to show to the student."""


def _as_array(got, what: str, case: str) -> np.ndarray:
    if got is None:
        raise CheckFailure(f"{what} on {case}: your function returned nothing (None); did it `return`?")
    try:
        arr = np.asarray(got)
        if arr.dtype == object:
            arr = arr.astype(float)
    except (TypeError, ValueError):
        raise CheckFailure(f"{what} on {case}: expected numbers, got {type(got).__name__}") from None
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise CheckFailure(f"{what} on {case}: expected numbers, got an array of {arr.dtype}")
    return arr


def tolerance_for(got, rtol: float) -> float:
    """``rtol``, loosened to :data:`FLOAT32_RTOL` when the answer is single (or half) precision."""
    dtype = getattr(got, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.floating) and np.finfo(dtype).bits < 64:
        return max(rtol, FLOAT32_RTOL)
    return rtol


def expect_close(
    got, want, what: str, case: str, rtol: float = RTOL, atol: float = ATOL, mistakes=()
) -> None:
    """``got`` equals ``want`` to ``rtol``/``atol`` elementwise, same shape (a scalar may be any
    0-d or 1-element array-like), else :class:`CheckFailure`. ``mistakes``: ``(value, sentence)``
    pairs naming what a typical mistake returns (the sentence is shown, never the value)."""
    want = np.asarray(want, dtype=float)
    arr = _as_array(got, what, case)
    if want.ndim == 0 and arr.size == 1:
        arr = arr.reshape(())
    if want.size == 0 and arr.size == 0:  # nothing to compare: [] is a fine empty (0, K, K) answer
        return
    if arr.shape != want.shape:
        hint = ""
        if arr.ndim == 2 and arr.shape == want.shape[::-1]:
            hint = " (transposed?)"
        raise CheckFailure(f"{what} on {case}: expected shape {want.shape}, got shape {arr.shape}{hint}")
    rtol = tolerance_for(arr, rtol)
    values = arr.astype(complex if np.iscomplexobj(arr) else float)
    if np.isnan(values).any() and not np.isnan(want).any():
        where = tuple(int(i) for i in np.argwhere(np.isnan(values))[0])
        raise CheckFailure(f"{what} on {case}: NaN at index {where} (a division by zero, 0/0?)")
    bad = ~np.isclose(values, want, rtol=rtol, atol=atol)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        w, g = want[where], values[where]
        index = f" at index {list(where)}" if where else ""
        if abs(w) > atol:
            error = f"relative error {float(abs(g - w) / abs(w)):.2g}"
        else:  # a relative error means nothing at a reference entry of (about) 0
            error = f"absolute error {float(abs(g - w)):.2g}"
        hint = _named(values, mistakes) or _diagnose(values, want)
        raise CheckFailure(
            f"{what} on {case}: differs from the reference{index} "
            f"({error}; {int(bad.sum())} of {bad.size} entries off){hint}"
        )


def _named(got: np.ndarray, mistakes) -> str:
    for value, sentence in mistakes:
        value = np.asarray(value, dtype=float)
        if value.shape == got.shape and np.allclose(got, value, rtol=1e-5, atol=1e-12):
            return f"; {sentence}"
    return ""


def _diagnose(got: np.ndarray, want: np.ndarray) -> str:
    """A likely mistake recognised from the shape of the error, if any."""
    with np.errstate(all="ignore"):
        if (
            want.ndim >= 1
            and np.all(np.isfinite(got))
            and np.allclose(np.exp(got), want, rtol=1e-6, atol=1e-12)
        ):
            return "; it looks like log space where probabilities are expected"
        if np.all(want > 0) and np.allclose(got, np.log(want), rtol=1e-6, atol=1e-12):
            return "; it looks like probabilities where log space is expected"
        if np.any(want != 0) and np.allclose(got, -want, rtol=1e-6, atol=1e-12):
            return "; it is the reference with the sign flipped"
        if got.ndim == 2 and got.shape[0] == got.shape[1] and np.allclose(got.T, want, rtol=1e-6):
            return "; it is the transpose of the reference"
        if (
            got.ndim >= 2
            and want.ndim == got.ndim
            and np.allclose(got.sum(axis=0), 1)
            and not np.allclose(got.sum(axis=-1), 1)
            and np.allclose(want.sum(axis=-1), 1)
        ):
            return "; normalized along the wrong axis?"
        if np.all(got == 0) and np.any(want != 0):
            return "; all zeros (underflow?)"
        if got.ndim >= 1 and np.any(got == 0) and np.all(want[got == 0] > 0) and np.all(want > 0):
            return "; some entries are exactly 0 where the reference is positive (underflow?)"
        if (
            got.ndim == 2
            and want.ndim == 2
            and np.all(want >= 0)
            and np.allclose(want.sum(axis=-1), 1)
            and np.all(got.sum(axis=-1) > 0)
            and np.allclose(got / got.sum(axis=-1, keepdims=True), want, rtol=1e-6)
        ):
            return "; the rows are right up to a factor: normalize each row to sum to 1"
    return ""


def expect_equal(got, want, what: str, case: str) -> None:
    """Exact equality of integer / label arrays (same shape)."""
    want = np.asarray(want)
    arr = _as_array(got, what, case)
    if arr.shape != want.shape:
        raise CheckFailure(f"{what} on {case}: expected shape {want.shape}, got shape {arr.shape}")
    bad = arr != want
    if np.any(bad):
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CheckFailure(
            f"{what} on {case}: differs from the reference at index {list(where)} "
            f"({int(np.sum(bad))} of {bad.size} entries differ)"
        )


def expect_true(condition, message: str) -> None:
    """A property check with an instructor-written, safe message."""
    if not bool(condition):
        raise CheckFailure(message)


#: The grader's stops (``SandboxStopped.kind`` in ``tools/grading/judge.py``) that an answer running
#: out of time or memory on a large hidden case causes, and how they are named to the student.
_STOPS = {"cell": "was stopped by the time limit of one call", "memory": "was stopped by the memory limit"}


@contextmanager
def needs_dynamic_program(case: str, what: str, uses: str | None = None):
    """Wrap the call of a student's function on a hidden case too large to enumerate (every state
    path, every tree): if the grader stops the call by its time or memory limit, the item fails with
    a :class:`CheckFailure` that says so, names ``case`` and tells that ``what`` (e.g. "every state
    path (3^30 of them)") cannot be enumerated in time: write the dynamic program; the same if the
    function raised ``MemoryError``. ``uses``: another answer the function may call (its name),
    which may be the one that enumerates. Any other exception, and any other stop of the grader (its
    whole-notebook limit, say), passes unchanged. (The grader's exceptions are recognised by name:
    ``SandboxStopped`` with its ``kind``, ``StudentRaised`` with its safe text, ``tools/grading/judge.py``.)

    Outside the grader nothing is stopped, and the block runs as it is:

    >>> with needs_dynamic_program("a hidden 30-step sequence", "every state path"):
    ...     value = 1 + 1
    >>> value
    2
    """
    try:
        yield
    except Exception as exc:
        kind = type(exc).__name__
        if kind == "StudentRaised" and "raised MemoryError" in str(exc):  # ran out of memory by itself
            limit = "ran out of memory (MemoryError)"
        elif kind == "SandboxStopped":
            limit = _STOPS.get(getattr(exc, "kind", None))
        else:
            limit = None
        if limit is None:
            raise
        also = f" (if it calls your `{uses}` and that one enumerates: fix {uses} first)" if uses else ""
        raise CheckFailure(
            f"on {case}, your function {limit}: an answer that enumerates {what} "
            f"cannot finish within it; write the dynamic program, which takes well under a second here{also}"
        ) from None
