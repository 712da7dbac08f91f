"""Checks at the boundary: every public function validates its input here, so a
mistake is reported as a ``ValueError`` that names the array, row or item at fault
(never a NaN or an IndexError deep inside numpy)."""

from __future__ import annotations

import re
from contextlib import contextmanager

import numpy as np

#: Rows of a categorical must sum to one within this tolerance (DESIGN.md).
SUM_TOL = 1e-8

#: The largest whole-number size emlab takes (items to draw, states, words, iterations, restarts):
#: ten million. A count beyond it is refused by name; it is a mistake, or a run of days.
MAX_COUNT = 10**7

#: The most entries of one array that emlab builds from size arguments (``K × V``, ``n × length``):
#: 10⁸ float64 numbers, 800 MB. Sizes that would need more are refused by name before anything is
#: allocated, instead of numpy's ``MemoryError`` (or the machine swapping).
MAX_ELEMENTS = 10**8


def as_generator(rng=None) -> np.random.Generator:
    """Turn ``rng`` (None, an int seed, or a Generator) into a ``numpy.random.Generator``.

    All randomness in emlab goes through the returned generator, so the same seed gives
    the same numbers everywhere.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, bool):
        raise TypeError(f"rng must be None, an int seed or a numpy Generator, got bool {rng!r}")
    if rng is None or isinstance(rng, (int, np.integer)):
        if rng is not None and rng < 0:
            raise ValueError(f"rng must be a non-negative int seed, got {rng!r}")
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be None, an int seed or a numpy Generator, got {type(rng).__name__}")


def check_array(name: str, value, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
    """Return ``value`` as a float array, raising ``ValueError`` naming ``name`` when it has
    the wrong number of dimensions or shape, or holds NaN, infinite or negative entries.

    ``shape`` may contain ``None`` for an axis of any length.
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(arr.shape, shape, strict=True)
        ):
            want = tuple("any" if s is None else s for s in shape)
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if np.isnan(arr).any():
        where = tuple(int(i) for i in np.argwhere(np.isnan(arr))[0])
        raise ValueError(f"{name} contains NaN at index {where}")
    if np.isinf(arr).any():
        where = tuple(int(i) for i in np.argwhere(np.isinf(arr))[0])
        raise ValueError(f"{name} contains an infinite value at index {where}")
    if (arr < 0).any():
        where = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise ValueError(f"{name} has a negative entry {float(arr[where])!r} at index {where}")
    return arr


def input_eps(value) -> float:
    """The resolution of the floating dtype ``value`` came in when it is coarser than float64
    (``numpy.finfo(float32).eps ≈ 1.2e-7`` for float32 rows), else 0.0 (float64, ints, Python
    floats). A categorical stored in float32 sums to 1 only to that precision (``[0.1, 0.9]`` in
    float32 sums to 0.99999998), so its rows are checked to it (:func:`check_rows_sum_to_one`) and
    then renormalized in float64 (:func:`renormalized`)."""
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        try:
            dtype = np.asarray(value).dtype
        except (TypeError, ValueError):
            return 0.0
    if dtype.kind == "f" and np.finfo(dtype).eps > np.finfo(float).eps:
        return float(np.finfo(dtype).eps)
    return 0.0


def sum_tolerance(eps: float, terms: int) -> float:
    """How far from 1 a categorical of ``terms`` entries stored at resolution ``eps``
    (:func:`input_eps`) may sum: :data:`SUM_TOL`, or ``2 · eps · terms`` when that is coarser."""
    return max(SUM_TOL, 2.0 * eps * terms)


def check_rows_sum_to_one(name: str, arr: np.ndarray, extra: np.ndarray | None = None,
                          extra_name: str | None = None, eps: float = 0.0) -> None:
    """Raise ``ValueError`` naming the first row of ``arr`` (plus ``extra``, e.g. an HMM's
    STOP probabilities) whose entries do not sum to 1 within :data:`SUM_TOL`, or within the input's
    resolution ``eps`` (:func:`input_eps`) times the number of terms of a row when that is coarser."""
    totals = arr.sum(axis=-1)
    if extra is not None:
        totals = totals + extra
    tol = sum_tolerance(eps, (arr.shape[-1] if arr.ndim else 1) + (extra is not None))
    plus = f" plus {extra_name}" if extra is not None else ""
    if np.ndim(totals) == 0:  # a single categorical (1-D array), e.g. mixture weights or a start vector
        if abs(float(totals) - 1.0) > tol:
            raise ValueError(f"{name}{plus} sums to {float(totals):.12g}, not 1")
        return
    bad = np.argwhere(np.abs(totals - 1.0) > tol)
    if bad.size:
        row = tuple(int(i) for i in bad[0])
        what = f"{name} row {row[0] if len(row) == 1 else row}"
        raise ValueError(f"{what}{plus} sums to {float(totals[row]):.12g}, not 1")


def renormalized(arr: np.ndarray, extra: np.ndarray | None = None):
    """``arr`` (and ``extra``) divided by their row totals ``arr.sum(-1) + extra``, so rows checked to
    a coarse input's resolution sum to 1 in float64; rows that sum to 0 are left as they are.
    Returns ``arr``, or ``(arr, extra)`` when ``extra`` is given."""
    totals = arr.sum(axis=-1) + (0.0 if extra is None else extra)
    totals = np.where(totals > 0, totals, 1.0)
    out = arr / np.expand_dims(totals, -1)
    return out if extra is None else (out, extra / totals)


def check_stochastic(name: str, value, shape: tuple | None = None, ndim: int | None = None) -> np.ndarray:
    """A probability array whose last axis holds categoricals: validated and returned as float64
    (float32 input is checked to its resolution and renormalized, see :func:`input_eps`)."""
    arr = check_array(name, value, ndim=ndim, shape=shape)
    eps = input_eps(value)
    check_rows_sum_to_one(name, arr, eps=eps)
    return renormalized(arr) if eps else arr


def check_symbols(name: str, seq, vocab_size: int) -> np.ndarray:
    """A 1-D sequence of integer codes in ``range(vocab_size)``, returned as ``intp``."""
    try:
        arr = np.asarray(seq)
    except ValueError:                           # ragged nesting: numpy's "inhomogeneous shape"
        raise ValueError(f"{name} must be a 1-D sequence of integer symbols, got nested lists "
                         "of different lengths") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of integer symbols, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.issubdtype(arr.dtype, np.integer):
        whole = np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr))
        if not (whole and np.all(arr == np.round(arr))):
            raise ValueError(f"{name} must hold integer symbols, got dtype {arr.dtype}")
    outside = np.flatnonzero((arr < 0) | (arr >= vocab_size))    # before the cast: 1e308 stays 1e308
    if outside.size:
        i = int(outside[0])
        raise ValueError(
            f"{name} position {i} has symbol {arr[i]:.6g}, outside the vocabulary 0..{vocab_size - 1}"
        )
    return arr.astype(np.intp, copy=False)


def as_corpus(seqs, vocab_size: int) -> list[np.ndarray]:
    """A corpus: a list of 1-D integer sequences (a single 1-D sequence is one sequence).

    Raises ``ValueError`` for an empty corpus, naming the sequence and position of any
    symbol outside the vocabulary.
    """
    if isinstance(seqs, np.ndarray) and seqs.ndim == 1 and seqs.dtype != object:
        seqs = [seqs]
    elif isinstance(seqs, (list, tuple)) and seqs and np.isscalar(seqs[0]):
        seqs = [np.asarray(seqs)]
    try:
        seqs = list(seqs)
    except TypeError:
        raise ValueError("the corpus must be a list of 1-D integer sequences") from None
    if not seqs:
        raise ValueError("the corpus is empty: give at least one sequence")
    return [check_symbols(f"sequence {n}", s, vocab_size) for n, s in enumerate(seqs)]


@contextmanager
def naming(name: str):
    """Report a mistake found inside the block under the argument ``name``: a ``ValueError`` or
    ``TypeError`` whose message does not begin with ``name`` is raised again as ``"name: message"``
    (a message that only mentions the word further on, "... rescale the data", is not about it).
    For an argument handed on whole, e.g. ``data`` to ``model.prepare``, whose checks name what they
    see (``X``, ``sequence 0``, ``the corpus``) rather than what the caller called it. Nested blocks
    report the outermost name (``hmm.Corpus`` names ``seqs``; ``em.fit`` handing it ``data`` says ``data``).

    >>> with naming("data"):
    ...     as_corpus([], 3)
    Traceback (most recent call last):
    ...
    ValueError: data: the corpus is empty: give at least one sequence
    """
    try:
        yield
    except (ValueError, TypeError) as exc:
        message, inner = str(exc), getattr(exc, "argument", None)
        if inner is not None and message.startswith(f"{inner}: "):
            message = message[len(inner) + 2:]          # an inner naming(): the outer name wins
        elif re.match(rf"{re.escape(name)}(?!\w)", message):
            raise
        renamed = (TypeError if isinstance(exc, TypeError) else ValueError)(f"{name}: {message}")
        renamed.argument = name
        raise renamed from None


def check_count(name: str, value, *, low: int = 0, high: int = MAX_COUNT) -> int:
    """``value`` as an ``int`` when it is a whole number (an ``int`` or numpy integer, not a bool) in
    ``[low, high]`` (``high`` is :data:`MAX_COUNT` unless the caller has a tighter bound); else a
    ``ValueError`` naming it. For counts: iterations, restarts, items, sizes.

    >>> check_count("max_iter", 10**9)
    Traceback (most recent call last):
    ...
    ValueError: max_iter must be at most 10,000,000, got 1000000000
    """
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low):
        what = ("a positive integer" if low == 1 else f"an integer >= {low}" if low
                else "a non-negative integer")
        raise ValueError(f"{name} must be {what}, got {value!r}")
    if value > high:
        raise ValueError(f"{name} must be at most {high:,}, got {value!r}")
    return int(value)


def check_positive_int(name: str, value, high: int = MAX_COUNT) -> int:
    """:func:`check_count` with ``low = 1``."""
    return check_count(name, value, low=1, high=high)


def check_elements(names: str, elements: int, what: str = "") -> None:
    """Refuse, naming ``names`` (the size arguments), sizes whose array would have more than
    :data:`MAX_ELEMENTS` entries; ``what`` says which array, e.g. ``"K × (K + V)"``.

    >>> check_elements("K and V", 10**6 * 10**6, "K × V")
    Traceback (most recent call last):
    ...
    ValueError: K and V ask for an array of 1,000,000,000,000 entries (K × V); at most 100,000,000 fit
    """
    if elements > MAX_ELEMENTS:
        detail = f" ({what})" if what else ""
        verb = "ask" if " and " in names else "asks"
        raise ValueError(f"{names} {verb} for an array of {int(elements):,} entries{detail}; "
                         f"at most {MAX_ELEMENTS:,} fit")


def check_scalar(name: str, value, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, integer: bool = False) -> float | int:
    """``value`` as a finite Python number inside the given bounds, else an error naming ``name``.

    ``TypeError`` when it is not a real number (``None``, a string, a bool, an array); ``ValueError``
    when it is NaN, infinite, fractional while ``integer`` is set, or outside
    ``[low, high]`` (``low_open`` / ``high_open`` exclude the end points). One helper for every scalar
    argument of emlab (tolerances, step sizes, concentrations, counts), so messages read alike:

    >>> check_scalar("tol", 1e-6, low=0, low_open=True)
    1e-06
    >>> check_scalar("tol", "1e-6")
    Traceback (most recent call last):
    ...
    TypeError: tol must be a number, got str '1e-6'
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}, "
                        f"got {type(value).__name__} {value!r}")
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if integer and number != round(number):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    lo_bad = low is not None and (number <= low if low_open else number < low)
    hi_bad = high is not None and (number >= high if high_open else number > high)
    if lo_bad or hi_bad:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        span = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"{name} must be in {span}, got {value!r}")
    return int(round(number)) if integer else number


def check_numbers(name: str, value, ndim: int | None = None, *, nonnegative: bool = False,
                  min_size: int = 0) -> np.ndarray:
    """``value`` as a float array of finite real numbers, else an error naming ``name``.

    ``TypeError`` when it is not numbers at all (``None``, a string, booleans, complex numbers,
    objects); ``ValueError`` for a ragged list, the wrong number of dimensions, fewer than
    ``min_size`` entries, NaN or infinite entries, and (with ``nonnegative``) negative ones.
    :func:`check_array` converts ``None`` to NaN and ``"3"`` to 3.0; this is the stricter gate
    for arguments a user types (traces, grids, labels, counts).

    >>> check_numbers("traj", [[0.0, -1.5], [2, 3]])
    array([[ 0. , -1.5],
           [ 2. ,  3. ]])
    >>> check_numbers("counts", None)
    Traceback (most recent call last):
    ...
    TypeError: counts must be an array of numbers, got NoneType
    """
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    try:
        raw = np.asarray(value)
    except ValueError:
        raise ValueError(f"{name} must be a rectangular array of numbers: "
                         "its rows differ in length") from None
    if raw.dtype == object:
        odd = [v for v in raw.ravel() if isinstance(v, (bool, np.bool_))
               or not isinstance(v, (int, float, np.integer, np.floating))]
        if odd:
            bad = odd[0]
            raise TypeError(f"{name} must hold real numbers, found {type(bad).__name__} {bad!r}")
    elif raw.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {raw.dtype}")
    arr = raw.astype(float)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} entries, got {arr.size}")
    if nonnegative:
        return check_array(name, arr)
    if not np.isfinite(arr).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name} has a non-finite entry {float(arr[where])!r} at index {where}")
    return arr


def check_bool(name: str, value) -> bool:
    """``value`` when it is ``True`` or ``False`` (a Python or numpy bool), else ``TypeError`` naming it."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_model(name: str, value, *methods: str):
    """``value`` when it has every method in ``methods`` (e.g. ``"params"``, ``"m_step"``), else a
    ``TypeError`` naming the argument and the first method it lacks."""
    for method in methods:
        if not callable(getattr(value, method, None)):
            raise TypeError(f"{name} must be an emlab model (with .{method}()), got {type(value).__name__}")
    return value


def check_categorical_model(name: str, value, what: str):
    """``value`` when it is an emlab model (``prepare``, ``e_step``, ``m_step``, ``params``) whose
    parameters are all categoricals — an ``hmm.HMM``, ``pcfg.PCFG``, ``ibm1.IBM1``,
    ``mixture.CategoricalMixture``, or a wrapper of one (``priors.MAP``, ``bound.PartialMStep``) —
    else a ``TypeError`` naming ``name`` and saying which models ``what`` supports.

    A model says it is not such a product with the class attribute ``categorical_params = False``
    (``mixture.GaussianMixture``: means and variances are not categoricals, its counts have other
    keys); a wrapper is looked through via its ``.model``."""
    check_model(name, value, "prepare", "e_step", "m_step", "params")
    inner = value
    for _ in range(100):                        # wrappers of wrappers, never a cycle
        if getattr(type(inner), "categorical_params", True) is False:
            raise TypeError(f"{what} supports products of categoricals (hmm.HMM, pcfg.PCFG, ibm1.IBM1, "
                            "mixture.CategoricalMixture, or priors.MAP of one); "
                            f"{name} is {'a wrapper of ' if inner is not value else ''}a "
                            f"{type(inner).__name__}, whose parameters are not all categoricals")
        wrapped = getattr(inner, "model", None)
        if wrapped is None or wrapped is inner or not callable(getattr(wrapped, "params", None)):
            break
        inner = wrapped
    return value


def check_instance(name: str, value, cls, what: str):
    """``value`` when it is an instance of ``cls``, else a ``TypeError`` naming the argument and
    what it must be (``what``, e.g. ``"an hmm.HMM"``): a ``None`` or a model of another kind is
    reported at the boundary, not as an ``AttributeError`` from deep inside."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


def check_counts(counts, keys) -> dict:
    """``counts`` when it is a dict holding every name in ``keys`` (an M-step's expected counts, one
    array per parameter array), else a ``TypeError`` (not a dict) or a ``ValueError`` naming the
    first missing key; the arrays themselves are checked by the M-step."""
    if not isinstance(counts, dict):
        raise TypeError(f"counts must be a dict of arrays with keys {sorted(keys)}, "
                        f"got {type(counts).__name__}")
    missing = [k for k in keys if k not in counts]
    if missing:
        raise ValueError(f"counts has no {missing[0]!r} array: an M-step needs the keys {sorted(keys)}, "
                         f"got {sorted(map(str, counts))}")
    return counts


def check_sequence(name: str, value, what: str = "a list") -> None:
    """``TypeError`` naming ``name`` unless ``value`` is a sized, iterable collection (a list, tuple
    or an array with at least one axis); strings, bytes, dicts, ``None`` and 0-d arrays are not."""
    zero_d = isinstance(value, np.ndarray) and value.ndim == 0
    if (value is None or zero_d or isinstance(value, (str, bytes, dict, set))
            or not (hasattr(value, "__len__") and hasattr(value, "__iter__"))):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")


def check_labels(name: str, value) -> np.ndarray:
    """``value`` as a non-empty 1-D integer array of state labels (a list of per-sequence arrays is
    concatenated), else a ``ValueError`` naming ``name``."""
    try:
        if isinstance(value, (list, tuple)) and value and not np.isscalar(value[0]):
            value = np.concatenate([np.asarray(v).ravel() for v in value])
        arr = np.asarray(value)
    except ValueError:
        raise ValueError(f"{name} must be a 1-D array of state labels or a list of them, "
                         f"got {type(value).__name__}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of state labels (or a list of them)")
    if not np.issubdtype(arr.dtype, np.integer) or (arr < 0).any():
        raise ValueError(f"{name} must hold non-negative integer state labels")
    return arr.astype(np.intp)


def check_label_pair(name_a: str, a, name_b: str, b) -> tuple[np.ndarray, np.ndarray]:
    """Two label arrays of one length (:func:`check_labels` each), else a ``ValueError`` naming them.
    When both are lists of per-sequence arrays, sequence ``n`` of one must be as long as sequence
    ``n`` of the other (equal totals alone would silently pair positions of different sequences)."""
    per_a, per_b = (isinstance(v, (list, tuple)) and len(v) > 0 and not np.isscalar(v[0]) for v in (a, b))
    if per_a and per_b:
        if len(a) != len(b):
            raise ValueError(f"{name_a} has {len(a)} sequences but {name_b} has {len(b)}")
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            if np.size(x) != np.size(y):
                raise ValueError(f"sequence {n} has {np.size(x)} labels in {name_a} but {np.size(y)} "
                                 f"in {name_b}")
    arr_a, arr_b = check_labels(name_a, a), check_labels(name_b, b)
    if arr_a.size != arr_b.size:
        raise ValueError(f"{name_a} has {arr_a.size} labels but {name_b} has {arr_b.size}")
    return arr_a, arr_b
