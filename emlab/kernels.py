"""The compiled inner loops of emlab's semirings and sweeps (notebooks 03, 04, 07): max-product's
matrix product, its fused chain step and its choice (an argmax with ties to the first index),
sum-product's choice (the inverse-CDF draw of :func:`emlab.semiring.draw` over a few outcomes in
many columns), the chain back-trace of :func:`emlab.chain.backtrace` (argmax or draw) as one loop,
and the span recursion of :mod:`emlab.span` as one loop per sentence in either semiring: the inside
or CKY chart (:func:`span_fill`), the outside pass with the expected counts (:func:`outside_fill`)
and the top-down walk, argmax or draw (:func:`best_trees`).

Sum-product has BLAS (``np.matmul``). Max-product,

    (a ⊗ b)[p, i, k] = max_j a[p, i, j] · b[p, j, k],

has no BLAS kernel, and numpy can only form all ``I·J·K`` products in a temporary before reducing
them, which costs about ten times a matrix product of the same size. This module writes the
definition as three loops and compiles them with numba (LLVM), so that Viterbi and CKY cost about
what the forward and inside passes cost, as the design says they should: the same recursion in
another semiring. The result is exactly numpy's: every product is the same floating-point
multiplication, and a maximum does not round.

The draw is the same: numpy can only add the rows of a column one vector at a time, the loop adds
them in the same order and compares with the same target, so the sampled index is the same. The
chain sweep is numpy's loop over steps, compiled so that a step costs no Python call: the same
weights (the same multiplications in the same order), the same choices, so the same paths.

A chart of a PCFG is many tiny products (``N`` nonterminals, a few split points per span), where
numpy spends more time in passes over memory and calls than in arithmetic; the span loops do a
sentence at a time in L1/L2 and call BLAS only for the products with the rule tensor. They compute
what :mod:`emlab.span`'s numpy loops compute, in the same order of spans and with the same
scaling, equal up to rounding (numba's ``exp`` and numpy's differ in the last bit; sums are added
in another order than BLAS adds them), and the walk consumes the uniforms in the numpy walk's
order, so it draws the same trees (unless a uniform falls within rounding of a boundary).

The loops are compiled on first use and cached on disk (numba's ``cache=True``); without numba
:data:`available` is False and :class:`emlab.semiring.Semiring`, :func:`emlab.chain.backtrace`
and :mod:`emlab.span` use numpy instead (the same numbers up to rounding, slower).
``EMLAB_NUMBA=0`` in the environment forces that fallback.
"""

from __future__ import annotations

import os
from functools import cache

import numpy as np

__all__ = ["available", "max_product", "scaled_max_step", "argmax_rows", "draw_rows", "chain_backtrace",
           "best_trees", "span_fill", "outside_fill"]


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
    def matrix_long(a, b, out):                 # k innermost: for long rows of b (a chain's batch)
        I, J = a.shape
        K = b.shape[1]
        for i in range(I):
            for k in range(K):
                out[i, k] = a[i, 0] * b[0, k]
            for j in range(1, J):
                aij = a[i, j]
                for k in range(K):
                    x = aij * b[j, k]
                    if x > out[i, k]:
                        out[i, k] = x

    @numba.njit(cache=True, nogil=True)
    def rows_long(a, b, out):
        for p in range(a.shape[0]):
            matrix_long(a[p], b[p], out[p])

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def scaled_step(M, prev, factor, out, scale):   # chain.chain's MAX step, one pass per operation
        matrix_long(M, prev, out)
        K, N = out.shape
        for n in range(N):
            scale[n] = out[0, n] * factor[0, n]
        for i in range(K):
            for n in range(N):
                x = out[i, n] * factor[i, n]
                out[i, n] = x
                if x > scale[n]:
                    scale[n] = x
        for i in range(K):
            for n in range(N):
                out[i, n] /= scale[n]              # 0 / 0 = NaN on a dead column, as in numpy

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
        for r in range(R - 1, -1, -1):          # the last row that qualifies, going up: the first
            for c in range(C):
                if w[r, c] >= top[c]:
                    out[c] = r

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

    @numba.njit(cache=True, nogil=True)
    def sweep(table, trans, last, u, rtol, path):   # chain.backtrace: u empty -> argmax, else draws
        T, K, N = table.shape
        w = np.empty((K, N))
        choice = np.empty(N, np.intp)
        for i in range(K):
            for n in range(N):
                w[i, n] = table[T - 1, i, n] * last[i]
        for step in range(T):
            t = T - 1 - step
            if step > 0:
                for i in range(K):
                    for n in range(N):
                        w[i, n] = trans[i, choice[n]] * table[t, i, n]
            if u.shape[0] == 0:
                first_near_max(w, rtol, choice)
            else:
                draw_columns(w, u[step], choice)
            for n in range(N):
                if choice[n] >= K:               # a column of zero weight: nothing to draw
                    return n
                path[n, t] = choice[n]
        return -1

    @numba.njit(cache=True, nogil=True)
    def first_within(x, count, rtol):           # the first of x[:count] within rtol of their max
        top = x[0]
        for r in range(1, count):
            if x[r] > top:
                top = x[r]
        top *= 1.0 - rtol
        for r in range(count):
            if x[r] >= top:
                return r
        return 0

    @numba.njit(cache=True, nogil=True)
    def split_weights(scale_start, scale_end, allowed, b, s, w, out):   # span.span's split weights
        m = -np.inf
        for k in range(1, w):
            c = scale_start[b, s, k] + scale_end[b, s + w, w - k]
            if c > m:
                m = c
        if not np.isfinite(m):
            m = 0.0
        for k in range(1, w):
            out[k - 1] = np.exp(scale_start[b, s, k] + scale_end[b, s + w, w - k] - m)
        if allowed.shape[0] > 0 and not allowed[b, s, s + w]:
            for k in range(w - 1):
                out[k] *= 0.0
        return m

    @numba.njit(cache=True, nogil=True)
    def store(values, offset, b, s, w, by_start, by_end_rev, scale_start, scale_end, tops):
        n = by_start.shape[1] - 1
        top = values[0]
        for A in range(1, values.shape[0]):
            if values[A] > top:
                top = values[A]
        alive = top > 0
        if not alive:
            top = 1.0
        for A in range(values.shape[0]):
            x = values[A] / top
            by_start[b, s, w, A] = x
            by_end_rev[b, s + w, n - w, A] = x
        log_scale = offset + np.log(top) if alive else -np.inf
        scale_start[b, s, w] = log_scale
        scale_end[b, s + w, w] = log_scale
        tops[b, s, w] = top

    @numba.njit(cache=True, nogil=True)
    def span_fill(rules, rules_t, cells1, allowed, use_max, by_start, by_end_rev, scale_start, scale_end,
                  tops):                        # span.span in either semiring, one sentence at a time
        nbatch, n, N = cells1.shape
        NN = N * N
        pair = np.empty((n, NN))                # the ⊕ over splits of the children's products
        values = np.empty((n, N))
        N4 = (N + 3) // 4 * 4                   # MAX: the rules with zero columns up to a multiple of 4
        rules4 = np.zeros((NN, N4))
        rules4[:, :N] = rules_t
        values4 = np.empty((n, N4))
        weights = np.empty(max(n - 1, 1))
        right = np.empty(N)
        offsets = np.empty(n)
        for b in range(nbatch):
            for i in range(n):
                store(cells1[b, i], 0.0, b, i, 1, by_start, by_end_rev, scale_start, scale_end, tops)
            for w in range(2, n + 1):
                S = n - w + 1
                for s in range(S):
                    offsets[s] = split_weights(scale_start, scale_end, allowed, b, s, w, weights)
                    P = pair[s]
                    for x in range(NN):
                        P[x] = 0.0
                    for k in range(w - 1):
                        if weights[k] == 0.0:
                            continue
                        for C in range(N):      # the right child times its split weight, as numpy
                            right[C] = by_end_rev[b, s + w, n - w + 1 + k, C] * weights[k]
                        for B in range(N):
                            lft = by_start[b, s, k + 1, B]
                            o = B * N
                            if use_max:
                                for C in range(N):
                                    x = right[C] * lft
                                    v = P[o + C]
                                    P[o + C] = x if x > v else v
                            else:
                                for C in range(N):
                                    P[o + C] += right[C] * lft
                if use_max:                     # four nonterminals at a time (a maximum does not round)
                    for s in range(S):
                        P = pair[s]
                        for A in range(0, N, 4):
                            m0 = m1 = m2 = m3 = 0.0
                            for x in range(NN):
                                p = P[x]
                                y0, y1 = p * rules4[x, A], p * rules4[x, A + 1]
                                y2, y3 = p * rules4[x, A + 2], p * rules4[x, A + 3]
                                m0 = y0 if y0 > m0 else m0
                                m1 = y1 if y1 > m1 else m1
                                m2 = y2 if y2 > m2 else m2
                                m3 = y3 if y3 > m3 else m3
                            values4[s, A], values4[s, A + 1] = m0, m1
                            values4[s, A + 2], values4[s, A + 3] = m2, m3
                        for A in range(N):
                            values[s, A] = values4[s, A]
                else:
                    np.dot(pair[:S], rules_t, values[:S])
                for s in range(S):
                    store(values[s], offsets[s], b, s, w, by_start, by_end_rev, scale_start, scale_end, tops)

    @numba.njit(cache=True, nogil=True)
    def outside_fill(rules, words, by_start, by_end_rev, scale_start, scale_end, tops, allowed, start,
                     counts_t, lexical_counts, alpha):   # span.outside_counts, one sentence at a time
        nbatch, n = words.shape
        N = rules.shape[0]
        NN = N * N
        nspan = n * (n - 1) // 2
        g = np.zeros((max(nspan, 1), N))        # α̂ / top of every span of width >= 2, widest first
        pair = np.zeros((max(nspan, 1), NN))
        G = np.empty((n, NN))
        weights = np.empty(max(n - 1, 1))
        to_right, right = np.empty(N), np.empty(N)
        acc = np.empty((N, NN))
        for b in range(nbatch):
            root = by_start[b, 0, n, start]
            if root == 0.0:
                continue
            alpha[b, 0, n, start] = 1.0 / root
            row = 0
            for w in range(n, 1, -1):
                S = n - w + 1
                for s in range(S):
                    for A in range(N):
                        g[row + s, A] = alpha[b, s, w, A] / tops[b, s, w]
                np.dot(g[row:row + S], rules, G[:S])
                for s in range(S):
                    split_weights(scale_start, scale_end, allowed, b, s, w, weights)
                    Gs, P = G[s], pair[row + s]
                    for x in range(NN):
                        P[x] = 0.0
                    for k in range(w - 1):
                        wk = weights[k]
                        if wk == 0.0:
                            continue
                        for C in range(N):
                            to_right[C] = 0.0
                            right[C] = by_end_rev[b, s + w, n - w + 1 + k, C] * wk
                        for B in range(N):
                            lft = by_start[b, s, k + 1, B]
                            o = B * N
                            to_left = 0.0
                            for C in range(N):
                                gbc = Gs[o + C]
                                to_left += gbc * right[C]
                                to_right[C] += lft * gbc
                                P[o + C] += right[C] * lft
                            alpha[b, s, k + 1, B] += to_left
                        for C in range(N):
                            alpha[b, s + k + 1, w - k - 1, C] += to_right[C] * wk
                row += S
            if nspan:
                np.dot(g[:nspan].T, pair[:nspan], acc)
                for A in range(N):
                    for x in range(NN):
                        counts_t[A, x] += acc[A, x]
            for i in range(n):
                for A in range(N):
                    lexical_counts[A, words[b, i]] += alpha[b, i, 1, A] * by_start[b, i, 1, A]

    @numba.njit(cache=True, nogil=True)
    def draw_first(x, count, u):                # the inverse-CDF draw of semiring.draw over x[:count]
        total = 0.0
        for r in range(count):
            total += x[r]
        target = min(u * total, np.nextafter(total, 0.0))
        cum, k = 0.0, 0
        for r in range(count):
            cum += x[r]
            if cum <= target:
                k += 1
        return k if k < count else -1

    @numba.njit(cache=True, nogil=True)
    def tree_walk(by_start, by_end_rev, scale_start, scale_end, allowed, rules, start, rtol, u, bins,
                  lexs):                        # span.walk: the argmax (u empty) or draws with u
        nbatch, n, N = by_start.shape[0], by_start.shape[1] - 1, rules.shape[0]
        draws, used = u.shape[0] > 0, 0
        weights = np.empty(max(n - 1, 1))
        cap = nbatch * (2 * n - 1)
        pending = np.empty((cap, 4), np.intp)   # open nodes (b, s, A, width), roots first
        after = np.empty((cap, 4), np.intp)
        for b in range(nbatch):
            pending[b, 0], pending[b, 1], pending[b, 2], pending[b, 3] = b, 0, start, n
        npend, nbins = nbatch, 0
        by_split = np.empty(max(n - 1, 1))
        children = np.empty(N * N)
        for w in range(n, 0, -1):
            here = 0
            for r in range(npend):
                if pending[r, 3] == w:
                    here += 1
            if w == 1:
                m = 0
                for r in range(npend):
                    if pending[r, 3] == 1:
                        lexs[m, 0], lexs[m, 1], lexs[m, 2] = pending[r, 0], pending[r, 2], pending[r, 1]
                        m += 1
                return nbins, m
            nafter = npend - here
            left_at, right_at = nafter, nafter + here
            rest, r_here = 0, 0
            for r in range(npend):
                b, s, A = pending[r, 0], pending[r, 1], pending[r, 2]
                if pending[r, 3] != w:
                    after[rest] = pending[r]
                    rest += 1
                    continue
                split_weights(scale_start, scale_end, allowed, b, s, w, weights)
                for k in range(w - 1):          # ⊕ over the children of every split, as span.walk
                    weight = weights[k]
                    total = 0.0
                    for B in range(N):
                        lft = by_start[b, s, k + 1, B]
                        for C in range(N):
                            rgt = by_end_rev[b, s + w, n - w + 1 + k, C] * weight
                            x = (lft * rgt) * rules[A, B * N + C]
                            if draws:
                                total += x
                            elif (B == 0 and C == 0) or x > by_split[k]:
                                by_split[k] = x
                    if draws:
                        by_split[k] = total
                if draws:
                    k = draw_first(by_split, w - 1, u[used + r_here])
                else:
                    k = first_within(by_split, w - 1, rtol)
                weight = weights[k]
                for B in range(N):
                    lft = by_start[b, s, k + 1, B]
                    for C in range(N):
                        rgt = by_end_rev[b, s + w, n - w + 1 + k, C] * weight
                        children[B * N + C] = (lft * rgt) * rules[A, B * N + C]
                if draws:
                    BC = draw_first(children, N * N, u[used + here + r_here]) if k >= 0 else -1
                    if BC < 0:
                        return -1 - b, 0
                else:
                    BC = first_within(children, N * N, rtol)
                r_here += 1
                B, C, k = BC // N, BC % N, k + 1
                row = bins[nbins]
                row[0], row[1], row[2], row[3], row[4], row[5], row[6] = b, A, B, C, s, s + k, s + w
                nbins += 1
                lft_row, rgt_row = after[left_at], after[right_at]
                lft_row[0], lft_row[1], lft_row[2], lft_row[3] = b, s, B, k
                rgt_row[0], rgt_row[1], rgt_row[2], rgt_row[3] = b, s + k, C, w - k
                left_at += 1
                right_at += 1
            npend = nafter + 2 * here
            pending, after = after, pending
            if draws and here:
                used += 2 * here
        return nbins, 0

    @numba.njit(cache=True, nogil=True)
    def rows_batched(a, b, out):                # (P, Q) batches of any strides, j innermost
        P, Q, I, J = a.shape
        K = b.shape[3]
        for p in range(P):
            for q in range(Q):
                for i in range(I):
                    for k in range(K):
                        m = a[p, q, i, 0] * b[p, q, 0, k]
                        for j in range(1, J):
                            x = a[p, q, i, j] * b[p, q, j, k]
                            if x > m:
                                m = x
                        out[p, q, i, k] = m

    return (rows_long, rows_short, first_near_max, draw_columns, sweep, scaled_step, tree_walk, rows_batched,
            span_fill, outside_fill)


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
        rows_long(a[None], b[None], out[None])  # a plain matrix product: no copies, no reshapes
        return out
    try:
        lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"the leading axes of a {a.shape} and b {b.shape} do not broadcast") from None
    (I, J), K = a.shape[-2:], b.shape[-1]
    if J == 0 or b.shape[-2] != J:
        raise ValueError(f"max_product needs a (..., I, J) and b (..., J, K) with J >= 1, "
                         f"got {a.shape} and {b.shape}")
    shape = lead + (I, K)
    direct = out is not None and out.flags.c_contiguous and out.dtype == float and out.shape == shape
    result = out if direct else np.empty(shape)
    if a.ndim == b.ndim == 4 and a.shape[:2] == b.shape[:2]:
        _compiled()[7](a, b, result)             # a chart's split products: strided views, no copies
    elif a.ndim == b.ndim == 2 and K < 32 <= I:  # long columns (a chart's cells): (bᵀ ⊗ aᵀ)ᵀ
        transposed = np.empty((K, I))
        rows_long(np.ascontiguousarray(b.T)[None], np.ascontiguousarray(a.T)[None], transposed[None])
        result[...] = transposed.T
    elif K >= 32:
        a3 = np.ascontiguousarray(np.broadcast_to(a, lead + (I, J))).reshape(-1, I, J)
        b3 = np.ascontiguousarray(np.broadcast_to(b, lead + (J, K))).reshape(-1, J, K)
        rows_long(a3, b3, result.reshape(-1, I, K))
    else:
        a3 = np.ascontiguousarray(np.broadcast_to(a, lead + (I, J))).reshape(-1, I, J)
        b3 = np.ascontiguousarray(np.swapaxes(np.broadcast_to(b, lead + (J, K)), -1, -2)).reshape(-1, K, J)
        rows_short(a3, b3, result.reshape(-1, I, K))
    if out is not None and not direct:
        out[...] = result
        return out
    return result


def scaled_max_step(M: np.ndarray, prev: np.ndarray, factor: np.ndarray, out: np.ndarray,
                    scale: np.ndarray) -> None:
    """One step of the MAX chain in :func:`emlab.chain.chain`, compiled and fused:
    ``out = (M ⊗ prev) ⊙ factor``, ``scale[n] = max_k out[k, n]``, then ``out /= scale`` (a
    column of zeros becomes NaN, as in numpy). The same multiplications in the same order as
    :meth:`emlab.semiring.Semiring.matmul` followed by numpy's ``*=``, ``max`` and ``/=``, so the
    same numbers. ``M`` (K, J), ``prev`` (J, N), ``factor`` and ``out`` (K, N), ``scale`` (N,):
    float arrays, C-contiguous (``scale`` may be a strided row); only when :func:`available`."""
    step = _compiled()[5]
    arrays = {"M": M, "prev": prev, "factor": factor, "out": out}
    for name, arr in arrays.items():
        if not (isinstance(arr, np.ndarray) and arr.dtype == float and arr.ndim == 2
                and arr.flags.c_contiguous):
            raise ValueError(f"{name} must be a C-contiguous 2-D float array")
    K, J = M.shape
    N = out.shape[1]
    if (K == 0 or J == 0 or prev.shape != (J, N) or factor.shape != (K, N) or out.shape != (K, N)
            or scale.shape != (N,)):
        raise ValueError(f"scaled_max_step needs M (K >= 1, J >= 1), prev (J, N), factor and out (K, N) and "
                         f"scale (N,), got {M.shape}, {prev.shape}, {factor.shape}, {out.shape}, "
                         f"{scale.shape}")
    step(M, prev, factor, out, scale)


def argmax_rows(weights: np.ndarray, rtol: float) -> np.ndarray:
    """For every column of the 2-D ``weights``, the first row whose entry is at least
    ``(1 - rtol)`` times the column's maximum (an argmax with ties broken towards the first row),
    compiled; only when :func:`available`."""
    first_near_max = _compiled()[2]
    weights = np.ascontiguousarray(_operand("weights", weights))
    if weights.ndim != 2 or weights.shape[0] == 0:
        raise ValueError(f"weights must be 2-dimensional with at least one row, got shape {weights.shape}")
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
    if weights.ndim != 2 or weights.shape[0] == 0 or u.shape != weights.shape[1:]:
        raise ValueError(f"weights must be 2-dimensional with at least one row and u hold one number "
                         f"per column, "
                         f"got shapes {weights.shape} and {u.shape}")
    out = np.empty(weights.shape[1], dtype=np.intp)
    draw_columns(weights, u, out)
    return out


def chain_backtrace(table: np.ndarray, trans: np.ndarray, last: np.ndarray, u: np.ndarray | None,
                    rtol: float) -> np.ndarray:
    """The backward sweep of :func:`emlab.chain.backtrace` as one compiled loop: over a scaled
    table (T, K, N), ``y_T`` is chosen from ``table[T-1] ⊙ last`` and ``y_t`` from
    ``trans[:, y_{t+1}] ⊙ table[t]`` with :func:`argmax_rows` (``u`` None) or :func:`draw_rows`
    (``u`` (T, N): row ``s`` is used by the ``s``-th choice, ``y_T`` first). The same products and
    the same choices as the numpy loop, so the same paths (N, T); only when :func:`available`.
    Raises ``ValueError`` naming the sequence when a draw meets a column of zero weight."""
    sweep = _compiled()[4]
    table = np.ascontiguousarray(_operand("table", table))
    if table.ndim != 3 or table.shape[1] == 0:
        raise ValueError(f"table must be (T, K, N) with at least one state, got shape {table.shape}")
    T, K, N = table.shape
    trans, last = _operand("trans", trans), np.ascontiguousarray(last, dtype=float)
    if trans.shape != (K, K) or last.shape != (K,):
        raise ValueError(f"trans must be ({K}, {K}) and last ({K},), got {trans.shape} and {last.shape}")
    u = np.empty((0, N)) if u is None else np.ascontiguousarray(u, dtype=float)
    if u.shape[1:] != (N,) or u.shape[0] not in (0, T):
        raise ValueError(f"u must hold one uniform per step and sequence, shape {(T, N)}, got {u.shape}")
    path = np.empty((N, T), dtype=np.intp)
    if T == 0 or N == 0:
        return path
    bad = sweep(table, np.ascontiguousarray(trans), last, u, float(rtol), path)
    if bad >= 0:
        raise ValueError(f"sequence {bad} has probability zero: there is no path to draw")
    return path


_NO_MASK = np.zeros((0, 0, 0), dtype=bool)


def _rules(binary: np.ndarray, N: int) -> np.ndarray:
    """``binary`` (N, N, N) as the C-contiguous (N, N·N) matrix ``rules[A, B·N + C]``."""
    if np.shape(binary) != (N, N, N):
        raise ValueError(f"binary must be ({N}, {N}, {N}) for a chart of {N} nonterminals, got "
                         f"{np.shape(binary)}")
    return np.ascontiguousarray(binary, dtype=float).reshape(N, N * N)


def _mask(chart) -> np.ndarray:
    return _NO_MASK if chart.allowed is None else np.ascontiguousarray(chart.allowed, dtype=bool)


def span_fill(chart, binary: np.ndarray, lexical: np.ndarray, words: np.ndarray, use_max: bool) -> None:
    """:func:`emlab.span.span` as one compiled loop per sentence, written into the fresh
    :class:`emlab.span.Chart` ``chart``: the same split weights, and for every span of width ``w``
    the ``⊕`` over its splits of ``(cell(k, j) · weight_k) ⊗ cell(i, k)``, then the ``⊕`` with the
    rules, then the same scaling. Equal to numpy's chart up to rounding: numba's ``exp`` (of the
    split weights) and numpy's differ in the last bit, and the sums of ``SUM`` (inside) are added in
    another order than numpy's BLAS. Only when :func:`available`."""
    fill = _compiled()[8]
    N = lexical.shape[0]
    rules = _rules(binary, N)
    cells1 = np.ascontiguousarray(np.asarray(lexical, dtype=float)[:, words].transpose(1, 2, 0))
    fill(rules, np.ascontiguousarray(rules.T), cells1, _mask(chart), bool(use_max), chart.by_start,
         chart.by_end_rev, chart.scale_start, chart.scale_end, chart.tops)


def outside_fill(chart, binary: np.ndarray, V: int, words: np.ndarray, start: int):
    """:func:`emlab.span.outside_counts` as one compiled loop per sentence over an inside chart:
    the same relative outside values ``α̂`` and expected counts (sums in another order, equal up
    to rounding). Returns ``(binary counts (N, N, N), lexical counts (N, V), α̂ (B, n+1, n+1, N)
    indexed [b, start, width])``; only when :func:`available`."""
    fill = _compiled()[9]
    nbatch, n = words.shape
    N = chart.by_start.shape[-1]
    rules = _rules(binary, N)
    counts_t = np.zeros((N, N * N))
    lexical_counts = np.zeros((N, V))
    alpha = np.zeros((nbatch, n + 1, n + 1, N))
    fill(rules, np.ascontiguousarray(words, dtype=np.intp), chart.by_start, chart.by_end_rev,
         chart.scale_start, chart.scale_end, chart.tops, _mask(chart), int(start), counts_t, lexical_counts,
         alpha)
    return counts_t.reshape(N, N, N) * binary, lexical_counts, alpha


def best_trees(chart, binary: np.ndarray, start: int, rtol: float,
               u: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`emlab.span.walk` as one compiled loop: at every open node, widest first, a split
    chosen from the ``⊕`` of its children's weights, then the children, from the weights
    ``cell(i, k)[B] · (cell(k, j)[C] · weight_k) · q(A → B C)`` multiplied in ``walk``'s order.
    Without ``u`` (a CKY chart) each choice is the first within ``rtol`` of the maximum: the same
    trees as ``walk``, rows in the same order. With ``u`` (an inside chart; ``2 · B · (n - 1)``
    uniforms, consumed as ``walk`` draws them: per width, one per node for the splits, then one per
    node for the children) each choice is an inverse-CDF draw (a split's weight summed in order
    rather than pairwise: the same trees as ``walk`` except where a uniform falls within rounding
    of a boundary). Returns ``(binary uses (M, 7), lexical uses (L, 3))``; only when
    :func:`available`."""
    tree_walk = _compiled()[6]
    nbatch, n = chart.scale_start.shape[0], chart.n
    N = chart.by_start.shape[-1]
    if not 0 <= int(start) < N:
        raise ValueError(f"start must be in 0..{N - 1} for a chart of {N} nonterminals, got {start}")
    rules = _rules(binary, N)
    need = 2 * nbatch * max(n - 1, 0)
    u = np.empty(0) if u is None else np.ascontiguousarray(u, dtype=float)
    if u.shape not in ((0,), (need,)) or (need == 0 and u.size):
        raise ValueError(f"u must hold {need} uniforms (2 per binary node), got shape {u.shape}")
    bins = np.empty((nbatch * max(n - 1, 0), 7), dtype=np.intp)
    lexs = np.empty((nbatch * n, 3), dtype=np.intp)
    nb, nl = tree_walk(chart.by_start, chart.by_end_rev, chart.scale_start, chart.scale_end, _mask(chart),
                       rules, int(start), float(rtol), u, bins, lexs)
    if nb < 0:
        raise ValueError(f"sentence {-1 - nb} of the batch has probability zero: there is no tree to draw")
    return bins[:nb], lexs[:nl]
