"""The shared checker of the fuzz suites (test_fuzz_inputs.py, test_fuzz_models.py), and tests that
it really tells a clean refusal from a crash.

The rule every public entry point of emlab keeps (issue 10, item 6): a call either returns a correct
result, or raises a ``ValueError``/``TypeError`` whose message names the argument at fault. Never
another exception (IndexError, KeyError, ZeroDivisionError, numpy's internals), never NaN in a result,
never a numpy ``RuntimeWarning``, never a hang.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: What :func:`outcome` returns when the call refused its input cleanly.
REFUSED = object()


def outcome(call, *names, allow_nan: bool = False):
    """Run ``call()`` with RuntimeWarnings as errors. Return its result (checked for NaN unless
    ``allow_nan``), or :data:`REFUSED` when it raised a ValueError/TypeError naming one of ``names``.
    Anything else (another exception, a message naming none of ``names``) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            result = call()
        except (ValueError, TypeError) as exc:
            message = str(exc)
            assert any(name in message for name in names), (
                f"{type(exc).__name__} does not name any of {names}: {message!r}")
            return REFUSED
    if not allow_nan:
        assert_no_nan(result)
    return result


def assert_no_nan(obj, where: str = "result", depth: int = 0) -> None:
    """No NaN anywhere in ``obj``: floats, arrays, lists, dicts and dataclasses, recursively."""
    if depth > 6:
        return
    if isinstance(obj, (float, np.floating)):
        assert not math.isnan(obj), f"{where} is NaN"
    elif isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            assert not np.isnan(obj).any(), f"{where} contains NaN"
        elif obj.dtype == object:
            for i, item in enumerate(obj.ravel()[:1000]):
                assert_no_nan(item, f"{where}[{i}]", depth + 1)
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj[:1000]):
            assert_no_nan(item, f"{where}[{i}]", depth + 1)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            assert_no_nan(item, f"{where}[{key!r}]", depth + 1)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            assert_no_nan(getattr(obj, f.name), f"{where}.{f.name}", depth + 1)


def finishes(code: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python; fail (instead of hanging the suite) if it takes longer than
    ``timeout`` seconds. For calls that might never return."""
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {timeout} s (a hang):\n{textwrap.dedent(code)}")


# ------------------------------------------------------------------------------------ strategies

#: Scalars a new user might pass: wrong types, non-finite, negative, zero, fractional, huge, denormal.
ODD_SCALARS = [None, "1e-6", "", True, False, math.nan, math.inf, -math.inf, -1, -0.5, 0, 0.0, 2.5,
               1e308, -1e308, 5e-324, np.float32(0.5), np.int64(3), np.array(1.0), [1.0], 1j]


def scalars(*good):
    """Odd scalars, plain small numbers, and the given ``good`` values."""
    return st.one_of(st.sampled_from(ODD_SCALARS + list(good)),
                     st.floats(allow_nan=True, allow_infinity=True, width=64),
                     st.integers(-3, 30))


#: Array entries: specials (zero, huge, denormal, non-finite, negative) and ordinary numbers.
SPECIAL_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 1e308, -1e308, 5e-324, 1e-300,
                  math.nan, math.inf, -math.inf]


def entries(nonnegative: bool = False):
    specials = [v for v in SPECIAL_FLOATS if not (nonnegative and (v < 0 or math.isnan(v)))]
    ordinary = st.floats(0 if nonnegative else -1e3, 1e3)
    return st.one_of(st.sampled_from(specials if nonnegative else SPECIAL_FLOATS), ordinary)


@st.composite
def messy_arrays(draw, min_dims: int = 0, max_dims: int = 3, max_side: int = 4, nonnegative: bool = False):
    """Arrays in every form a user might hand over: float64/float32/int/bool/object arrays, nested
    lists, ragged lists, strings, None, with any shape (empty too) and special values."""
    kind = draw(st.sampled_from(["float64", "float64", "float64", "float32", "int", "bool", "object",
                                 "list", "str", "none", "ragged"]))
    if kind == "none":
        return None
    if kind == "str":
        return draw(st.sampled_from(["abc", ["a", "b"], [["1", "2"]]]))
    if kind == "ragged":
        return [[1.0, 2.0], [3.0]]
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side))
    if kind == "int":
        return draw(hnp.arrays(np.int64, shape, elements=st.integers(0 if nonnegative else -5, 50)))
    if kind == "bool":
        return draw(hnp.arrays(np.bool_, shape))
    arr = draw(hnp.arrays(np.float64, shape, elements=entries(nonnegative)))
    if kind == "float32":
        with np.errstate(over="ignore", under="ignore"):
            return arr.astype(np.float32)
    if kind == "object":
        return arr.astype(object)
    if kind == "list":
        return arr.tolist()
    return arr


#: Integer sequences as a user might give them: good symbols, out-of-range, negative, floats, empty.
@st.composite
def messy_sequences(draw, V: int, max_len: int = 8):
    kind = draw(st.sampled_from(["good", "good", "good", "range", "float", "empty", "2d", "str", "none"]))
    if kind == "none":
        return None
    if kind == "str":
        return "ab"
    if kind == "empty":
        return []
    n = draw(st.integers(1, max_len))
    if kind == "good":
        return draw(st.lists(st.integers(0, V - 1), min_size=n, max_size=n))
    if kind == "range":
        return draw(st.lists(st.integers(-2, V + 2), min_size=n, max_size=n))
    if kind == "2d":
        return [[0] * n, [0] * n]
    return draw(st.lists(st.sampled_from([0.0, 1.0, 0.5, math.nan]), min_size=n, max_size=n))


# ------------------------------------------------------------------------- the checker's own tests

def test_outcome_accepts_a_clean_refusal_naming_the_argument():
    def refuse():
        raise ValueError("tol must be a finite number, got nan")
    assert outcome(refuse, "tol") is REFUSED


@pytest.mark.parametrize("bad", [
    lambda: [][1],                                   # IndexError from deep inside
    lambda: {}["x"],                                 # KeyError
    lambda: 1 / 0,                                   # ZeroDivisionError
    lambda: np.array([np.nan]),                      # NaN in a result
    lambda: {"a": [1.0, float("nan")]},              # NaN nested in a result
    lambda: np.log(np.zeros(1)),                     # a RuntimeWarning
])
def test_outcome_fails_crashes_nan_and_warnings(bad):
    with pytest.raises((AssertionError, IndexError, KeyError, ZeroDivisionError, RuntimeWarning)):
        outcome(bad, "x")


def test_outcome_fails_a_message_that_names_the_wrong_thing():
    def vague():
        raise ValueError("bad input")
    with pytest.raises(AssertionError, match="does not name"):
        outcome(vague, "tol")


def test_finishes_fails_instead_of_hanging():
    with pytest.raises(pytest.fail.Exception, match="a hang"):
        finishes("while True: pass", timeout=2)
