"""The compiled inner loops of emlab's semirings (notebooks 03, 04, 07): max-product's matrix
product and its choice (an argmax with ties to the first index), and sum-product's choice (the
inverse-CDF draw of :func:`emlab.semiring.draw` over a few outcomes in many columns).

Sum-product has BLAS (``np.matmul``). Max-product,

    (a ⊗ b)[p, i, k] = max_j a[p, i, j] · b[p, j, k],

has no BLAS kernel, and numpy can only form all ``I·J·K`` products in a temporary before reducing
them, which costs about ten times a matrix product of the same size. This module writes the
definition as three loops and compiles them with numba (LLVM), so that Viterbi and CKY cost about
what the forward and inside passes cost, as the design says they should: the same recursion in
another semiring. The result is exactly numpy's: every product is the same floating-point
multiplication, and a maximum does not round.

The draw is the same: numpy can only add the rows of a column one vector at a time, the loop adds
them in the same order and compares with the same target, so the sampled index is the same.

The loops are compiled on first use and cached on disk (numba's ``cache=True``); without numba
:data:`available` is False and :class:`emlab.semiring.Semiring` uses numpy broadcasting instead
(same numbers, slower). ``EMLAB_NUMBA=0`` in the environment forces that fallback.
"""

from __future__ import annotations

import os
from functools import cache

import numpy as np

__all__ = ["available", "max_product", "argmax_rows", "draw_rows"]


@cache
def _compiled():
    """The compiled loops, or None when numba is absent or switched off."""
    if os.environ.get("EMLAB_NUMBA", "1") == "0":
        return None
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True, nogil=True)
    def rows_long(a, b, out):                   # k innermost: for long rows of b (a chain's batch)
        P, I, J = a.shape
        K = b.shape[2]
        for p in range(P):
            for i in range(I):
                for k in range(K):
                    out[p, i, k] = a[p, i, 0] * b[p, 0, k]
                for j in range(1, J):
                    aij = a[p, i, j]
                    for k in range(K):
                        x = aij * b[p, j, k]
                        if x > out[p, i, k]:
                            out[p, i, k] = x

    @numba.njit(cache=True, nogil=True)
    def rows_short(a, bt, out):                 # j innermost over bᵀ: for short rows (a chart's cells)
        P, I, J = a.shape
        K = bt.shape[1]
        for p in range(P):
            for i in range(I):
                for k in range(K):
                    m = a[p, i, 0] * bt[p, k, 0]
                    for j in range(1, J):
                        x = a[p, i, j] * bt[p, k, j]
                        if x > m:
                            m = x
                    out[p, i, k] = m

    @numba.njit(cache=True, nogil=True)
    def first_near_max(w, rtol, out):           # per column: the first row within rtol of its max
        R, C = w.shape
        top = w[0].copy()
        for r in range(1, R):
            for c in range(C):
                if w[r, c] > top[c]:
                    top[c] = w[r, c]
        for c in range(C):
            top[c] *= 1.0 - rtol
            out[c] = 0
        found = np.zeros(C, np.bool_)
        for r in range(R):
            for c in range(C):
                if not found[c] and w[r, c] >= top[c]:
                    out[c] = r
                    found[c] = True

    @numba.njit(cache=True, nogil=True)
    def draw_columns(w, u, out):                # per column: inverse-CDF draw over the rows
        R, C = w.shape
        for c in range(C):
            total = 0.0
            for r in range(R):
                total += w[r, c]
            target = min(u[c] * total, np.nextafter(total, 0.0))
            cum, k = 0.0, 0
            for r in range(R):
                cum += w[r, c]
                if cum <= target:
                    k += 1
            out[c] = k

    return rows_long, rows_short, first_near_max, draw_columns


def available() -> bool:
    """Whether the compiled max-product is in use (numba importable and not switched off)."""
    return _compiled() is not None


def _operand(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {type(value).__name__}") from None
    if arr.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (a matrix), got shape {arr.shape}")
    return arr


def max_product(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``(a ⊗ b)[..., i, k] = max_j a[..., i, j] · b[..., j, k]`` (leading axes broadcast), compiled.

    Only when :func:`available`; ``a`` and ``b`` are float arrays with ``J >= 1``.
    """
    rows_long, rows_short, *_ = _compiled()
    a, b = _operand("a", a), _operand("b", b)
    if (a.ndim == b.ndim == 2 and b.shape[1] >= 32 and a.shape[1] == b.shape[0] > 0 and out is not None
            and a.flags.c_contiguous and b.flags.c_contiguous and out.flags.c_contiguous
            and out.shape == (a.shape[0], b.shape[1]) and out.dtype == float):
        rows_long(a[None], b[None], out[None])  # a chain's step: no copies, no reshapes
        return out
    try:
        lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"the leading axes of a {a.shape} and b {b.shape} do not broadcast") from None
    (I, J), K = a.shape[-2:], b.shape[-1]
    if J == 0 or b.shape[-2] != J:
        raise ValueError(f"max_product needs a (..., I, J) and b (..., J, K) with J >= 1, "
                         f"got {a.shape} and {b.shape}")
    a3 = np.ascontiguousarray(np.broadcast_to(a, lead + (I, J))).reshape(-1, I, J)
    if K >= 32:
        b3 = np.ascontiguousarray(np.broadcast_to(b, lead + (J, K))).reshape(-1, J, K)
        kernel = rows_long
    else:
        b3 = np.ascontiguousarray(np.swapaxes(np.broadcast_to(b, lead + (J, K)), -1, -2)).reshape(-1, K, J)
        kernel = rows_short
    shape = lead + (I, K)
    direct = out is not None and out.flags.c_contiguous and out.dtype == float and out.shape == shape
    result = out if direct else np.empty(shape)
    kernel(a3, b3, result.reshape(-1, I, K))
    if out is not None and not direct:
        out[...] = result
        return out
    return result


def argmax_rows(weights: np.ndarray, rtol: float) -> np.ndarray:
    """For every column of the 2-D ``weights``, the first row whose entry is at least
    ``(1 - rtol)`` times the column's maximum (an argmax with ties broken towards the first row),
    compiled; only when :func:`available`."""
    first_near_max = _compiled()[2]
    weights = np.ascontiguousarray(_operand("weights", weights))
    if weights.ndim != 2:
        raise ValueError(f"weights must be 2-dimensional, got shape {weights.shape}")
    out = np.empty(weights.shape[1], dtype=np.intp)
    first_near_max(weights, float(rtol), out)
    return out


def draw_rows(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For every column of the non-negative 2-D ``weights``, the row ``k`` with
    ``cum[k-1] <= u · total < cum[k]`` (``u``: one uniform per column), compiled: the same
    draws, summed in the same order, as :func:`emlab.semiring.draw` along axis 0; only when
    :func:`available`."""
    draw_columns = _compiled()[3]
    weights = np.ascontiguousarray(_operand("weights", weights))
    u = np.ascontiguousarray(u, dtype=float)
    if weights.ndim != 2 or u.shape != weights.shape[1:]:
        raise ValueError(f"weights must be 2-dimensional and u hold one number per column, "
                         f"got shapes {weights.shape} and {u.shape}")
    out = np.empty(weights.shape[1], dtype=np.intp)
    draw_columns(weights, u, out)
    return out
