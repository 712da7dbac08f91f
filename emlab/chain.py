"""The one chain recursion of emlab, in any semiring, and the one backward sweep (notebooks 03, 07).

A chain with ``K`` states and a batch of ``N`` sequences of ``T`` steps is given by arrays only:
``init`` (K,) or (K, N), a step matrix ``M`` (K, K) and per-step factors ``B`` (T, K, N)::

    v_1 = init ⊙ B_1,        v_t = (M ⊗ v_{t-1}) ⊙ B_t,      (M ⊗ v)[j] = ⊕_i M[j, i] v[i]

In the HMM of :mod:`emlab.hmm` (notebook 03) ``init = start``, ``M = transᵀ`` and
``B_t[k] = e(x_t | k)``: with ``⊕ = Σ`` (:data:`~emlab.semiring.SUM`) ``v_t`` is the forward
probability ``α_t``, with ``⊕ = max`` (:data:`~emlab.semiring.MAX`) it is Viterbi's ``δ_t``. Run
on the reversed sequence with ``M = trans`` and ``init = stop`` it is the backward recursion
(``v_t = e(x_t|·) ⊙ β_t``). Every step is divided by a positive number ``c_t`` (the ``⊕`` of the new
vector, or a given scale), so the table stays in [0, 1] and ``log Π_t c_t`` carries the magnitude.

:func:`backtrace` walks back over a table: ``y_T`` is chosen from ``v_T ⊙ last`` and ``y_t`` from
``v_t ⊙ trans[:, y_{t+1}]``; the choice is an argmax on a ``MAX`` table (the Viterbi path) and a
draw on a ``SUM`` table (forward-filtering backward-sampling, ``y ~ p(y | x)``; notebook 07).

Kernels take arrays, not models, so tests, references and benchmarks can call them directly.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .semiring import SUM, TIE_RTOL, Semiring, check_semiring

__all__ = ["chain", "backtrace"]


def chain(init: np.ndarray, M: np.ndarray, B: np.ndarray, semiring: Semiring = SUM,
          scale: np.ndarray | None = None, table: np.ndarray | None = None,
          messages: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The scaled chain recursion ``v̂_t = ((M ⊗ v̂_{t-1}) ⊙ B_t) / c_t`` over a batch.

    Parameters
    ----------
    init : (K,) or (K, N), the factor of the first step (``v_1 = init ⊙ B_1 / c_1``).
    M : (K, K), the step: ``(M ⊗ v)[j] = ⊕_i M[j, i] v[i]``.
    B : (T, K, N), the per-step factors.
    semiring : :data:`~emlab.semiring.SUM` or :data:`~emlab.semiring.MAX`.
    scale : (T, N) or None. Given, the steps are divided by it; else ``c_t = ⊕_k v_t(k)``.
    table, messages : optional (T, K, N) output arrays (reused across calls by the caller).
        ``messages[t] = M ⊗ v̂_{t-1}`` (``init`` at t = 0) is kept when given.

    Returns
    -------
    table : (T, K, N) the scaled vectors ``v̂_t``; so ``v_t = v̂_t · Π_{s<=t} c_s``.
    scale : (T, N) the ``c_t``. A sequence whose ``v_t`` is all zero from some step on (a prefix
        of probability zero) has ``c = 0`` and ``v̂ = 0`` from there (no NaN).
    """
    check_semiring(semiring)
    B, M, init = np.asarray(B, dtype=float), np.asarray(M, dtype=float), np.asarray(init, dtype=float)
    if B.ndim != 3 or B.shape[1] == 0:
        raise ValueError(f"B must be (T, K, N) with at least one state, got shape {B.shape}")
    T, K, N = B.shape
    if M.shape != (K, K) or init.shape not in ((K,), (K, N)):
        raise ValueError(f"M must be ({K}, {K}) and init ({K},) or ({K}, {N}) for B of shape {B.shape}, "
                         f"got {M.shape} and {init.shape}")
    for name, given, shape in (("scale", scale, (T, N)), ("table", table, (T, K, N)),
                               ("messages", messages, (T, K, N))):
        if given is not None and np.shape(given) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {np.shape(given)}")
    table = np.empty((T, K, N)) if table is None else table
    own = scale is None
    c = np.empty((T, 1, N)) if own else scale[:, None, :]
    work = None if semiring is SUM else np.empty((K, K, N))
    M = np.ascontiguousarray(M)
    init = init[:, None] if init.ndim == 1 else init
    with np.errstate(invalid="ignore", divide="ignore"):
        if not own:                              # given scales: B_t / c_t for all steps at once,
            np.divide(B, c, out=table)           # in the table, then each step multiplies in place
            step = np.empty((K, N)) if messages is None else None
            for t in range(T):
                if t == 0:
                    table[0] *= init
                    if messages is not None:
                        messages[0] = init
                    continue
                out = messages[t] if messages is not None else step
                table[t] *= semiring.matmul(M, table[t - 1], out=out, work=work)
        else:
            for t in range(T):
                v = table[t]
                if t > 0 and messages is None:
                    semiring.scaled_step(M, table[t - 1], B[t], out=v, scale=c[t], work=work)
                    continue
                if t == 0:
                    np.multiply(init, B[0], out=v)
                    if messages is not None:
                        messages[0] = init
                else:
                    np.multiply(semiring.matmul(M, table[t - 1], out=messages[t], work=work), B[t], out=v)
                semiring.total(v, axis=0, keepdims=True, out=c[t])
                v /= c[t]
    c = c[:, 0, :]
    if own:
        dead = ~(c > 0)
        if dead.any():
            dead = np.logical_or.accumulate(dead, axis=0)
            table.transpose(0, 2, 1)[dead] = 0.0
            c[dead] = 0.0
            if messages is not None:             # the message after a dead step is M ⊗ 0 = 0
                messages[1:].transpose(0, 2, 1)[dead[:-1]] = 0.0
    return table, c


def backtrace(table: np.ndarray, trans: np.ndarray, last: np.ndarray | None, semiring: Semiring,
              rng: np.random.Generator | None = None) -> np.ndarray:
    """Walk back over a scaled forward table (T, K, N): one state path per sequence, (N, T).

    ``y_T`` is chosen from ``table[T-1] ⊙ last`` (``last``: (K,) end factors, e.g. STOP, or None)
    and ``y_t`` from ``table[t] ⊙ trans[:, y_{t+1}]``, with ``semiring.choose``: on a ``MAX`` table
    the argmax (Viterbi, since ``δ_{t+1}(j) = max_i δ_t(i) q(j|i) e(x_{t+1}|j)``), on a ``SUM``
    table a draw with ``rng`` from ``p(y_t | y_{t+1}, x) ∝ α_t(y_t) q(y_{t+1} | y_t)`` (FFBS).
    """
    table, trans = np.asarray(table, dtype=float), np.ascontiguousarray(trans, dtype=float)
    if table.ndim != 3 or table.shape[1] == 0:
        raise ValueError(f"table must be (T, K, N) with at least one state, got shape {table.shape}")
    T, K, N = table.shape
    if trans.shape != (K, K) or (last is not None and np.shape(last) != (K,)):
        raise ValueError(f"trans must be ({K}, {K}) and last ({K},) or None for a table of {K} states, "
                         f"got {trans.shape} and {None if last is None else np.shape(last)}")
    if T == 0 or N == 0:
        return np.empty((N, T), dtype=np.intp)
    u = semiring.uniforms(rng, (T, N))          # row i is used by the i-th choice, y_T first
    if kernels.available():                     # the same products and choices, as one compiled loop
        return kernels.chain_backtrace(table, trans, np.ones(K) if last is None else last, u, TIE_RTOL)
    path = np.empty((N, T), dtype=np.intp)
    weights = table[-1] * (1.0 if last is None else np.asarray(last)[:, None])
    for i, t in enumerate(range(T - 1, -1, -1)):
        if i > 0:
            np.take(trans, path[:, t + 1], axis=1, out=weights)
            weights *= table[t]
        path[:, t] = semiring.choose(weights, rng, axis=0, overwrite=True, u=None if u is None else u[i])
        if path[:, t].max() >= K:                # a draw over a column of zero weight
            bad = int(np.flatnonzero(path[:, t] >= K)[0])
            raise ValueError(f"sequence {bad} has probability zero: there is no path to draw")
    return path
