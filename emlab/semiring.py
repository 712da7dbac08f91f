"""The two semirings of the dynamic programs, and the one inverse-CDF draw (notebooks 03, 04, 07).

A dynamic program over a chain (:mod:`emlab.chain`) or over spans (:mod:`emlab.span`) combines
non-negative scores with two operations: ``⊗`` (here always ``×``) along a structure and ``⊕``
across the alternatives. Which ``⊕`` decides what the table holds (Goodman 1999, "Semiring
parsing"; Rush's torch-struct):

========  =====  =============================================  =====================================
semiring  ``⊕``  table entry                                    the choice a backward sweep makes
========  =====  =============================================  =====================================
:data:`SUM`  Σ    total probability of all partial structures    draw ∝ weight (sampling, FFBS)
:data:`MAX`  max  probability of the best partial structure      argmax (Viterbi / CKY back-trace)
========  =====  =============================================  =====================================

Both run on *scaled* probabilities: a kernel divides each new table entry by a positive number and
keeps the logarithms of those numbers apart, so nothing under- or overflows. A semiring supplies
its ``⊕``-matrix product (``(a ⊗ b)[i, k] = ⊕_j a[i, j] b[j, k]``), its reduction ``⊕`` along an
axis, and the choice the backward sweep makes over a row of weights. The sweep itself
(:func:`emlab.chain.backtrace`, :func:`emlab.span.walk`) is written once.

>>> import numpy as np
>>> a, b = np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]])
>>> float(SUM.matmul(a, b)[0, 0]), float(MAX.matmul(a, b)[0, 0])
(11.0, 8.0)
>>> int(MAX.choose(np.array([[0.1, 0.7, 0.2]]), None)[0])
1
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from . import kernels
from .validation import as_generator

__all__ = ["Semiring", "SUM", "MAX", "draw", "check_semiring", "check_chart", "TIE_RTOL"]

#: Relative difference below which two maxima are a tie (broken towards the first index).
TIE_RTOL = 1e-12


def draw(weights: np.ndarray, u, axis: int = -1, overwrite: bool = False,
         cumulative: bool = False) -> np.ndarray:
    """Inverse-CDF draws along ``axis`` of the non-negative ``weights``: for every row the index
    ``k`` with ``cum[k-1] <= u · total < cum[k]``, where ``u`` (one uniform in [0, 1) per row, the
    shape of ``weights`` without ``axis``) are the random numbers.

    An outcome of weight zero is never drawn: ``cum`` is non-decreasing, so ``cum[k] > cum[k-1]``
    means ``weights[k] > 0``, and ``u · total`` is kept strictly below ``total``. Every sampler of
    emlab draws through here (rows must have a positive total). With ``overwrite`` the cumulative
    sums may be accumulated in ``weights`` itself (a temporary of the caller); with ``cumulative``
    the ``weights`` already are cumulative sums along ``axis`` (a sampler that draws from the same
    rows many times computes them once).

    >>> draw(np.array([[0.0, 1.0, 0.0, 3.0]]), np.array([0.2]))
    array([1])
    """
    weights = np.asarray(weights)
    if weights.ndim == 1:                        # one row (a top-down sampler's node): bisection
        with np.errstate(over="ignore"):
            cum = weights if cumulative else np.cumsum(weights, dtype=float)
        if not cumulative and not np.isfinite(cum[-1]) and np.isfinite(weights).all():  # near the float limit
            cum = np.cumsum(weights / np.max(weights), dtype=float)
        ut = min(float(u) * cum[-1], np.nextafter(cum[-1], 0.0))
        return np.intp(np.searchsorted(cum, ut, side="right"))
    axis = axis % weights.ndim
    if cumulative:
        cum = weights
    elif axis == 0 and weights.shape[0] <= 32:    # few outcomes along rows of many (a chain's states):
        if weights.ndim == 2 and kernels.available():
            return kernels.draw_rows(weights, u)  # the same sums and comparisons, compiled
        cum = weights if overwrite and weights.dtype == float else weights.astype(float)
        for k in range(1, cum.shape[0]):        # K vector additions, then one comparison
            cum[k] += cum[k - 1]
        total = cum[-1]
        ut = np.minimum(np.multiply(u, total), np.nextafter(total, 0.0))
        return np.add.reduce(cum <= ut, axis=0, dtype=np.intp)
    elif weights.ndim == 2 and kernels.available():   # outcomes along rows (a tree node's choices)
        return kernels.draw_rows(weights.T, u)
    else:
        cum = np.cumsum(weights, axis=axis, dtype=float)
    total = np.take(cum, [-1], axis=axis)
    ut = np.minimum(np.expand_dims(np.asarray(u, dtype=float), axis) * total, np.nextafter(total, 0.0))
    return np.add.reduce(cum <= ut, axis=axis, dtype=np.intp)


@cache
def _ones(k: int) -> np.ndarray:
    ones = np.ones((1, k))
    ones.flags.writeable = False
    return ones


def _sampling_rng(rng) -> np.random.Generator:
    """The generator of a ``SUM`` choice (a draw): ``rng`` as :func:`emlab.validation.as_generator`
    reads it, but never ``None`` (a draw from no generator would not be reproducible)."""
    if rng is None:
        raise ValueError("rng is None, but a SUM-semiring choice is a random draw: give rng (an int seed "
                         "or a numpy Generator), or use the MAX semiring for the best structure")
    return as_generator(rng)


@dataclass(frozen=True)
class Semiring:
    """``⊕`` of a dynamic program over non-negative scaled probabilities (``⊗`` is ``×``)."""

    name: str
    #: the ``⊕`` ufunc: ``np.add`` or ``np.maximum``
    plus: np.ufunc

    def matmul(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None,
               work: np.ndarray | None = None) -> np.ndarray:
        """``(a ⊗ b)[..., i, k] = ⊕_j a[..., i, j] · b[..., j, k]`` (broadcast over leading axes).

        Sum-product is BLAS's matrix product; max-product is the compiled loop of
        :mod:`emlab.kernels` (without numba: the products formed by numpy, in ``work`` if given,
        shape ``(..., i, j, k)``, when ``k`` is long, then reduced with ``max``).
        """
        if self.plus is np.add:
            return np.matmul(a, b, out=out)
        if kernels.available():                  # the definition's three loops, compiled
            return kernels.max_product(a, b, out=out)
        if b.shape[-1] >= 64:                    # long rows: reduce j as the middle axis, k contiguous
            prod = np.multiply(a[..., :, :, None], b[..., None, :, :], out=work)
            return np.maximum.reduce(prod, axis=-2, out=out)
        # short rows: make j the contiguous axis, where a max-reduction vectorizes (3-4x faster)
        prod = a[..., :, None, :] * np.swapaxes(b, -1, -2)[..., None, :, :]
        return np.maximum.reduce(prod, axis=-1, out=out)

    def scaled_step(self, M: np.ndarray, prev: np.ndarray, factor: np.ndarray, out: np.ndarray,
                    scale: np.ndarray, work: np.ndarray | None = None) -> None:
        """One step of a scaled chain (:func:`emlab.chain.chain`): ``out = (M ⊗ prev) ⊙ factor``,
        ``scale = ⊕`` of ``out`` over its first axis (shape (1, N)), then ``out /= scale``. For
        ``MAX`` on contiguous arrays this is one compiled loop (:func:`emlab.kernels.scaled_max_step`,
        the same numbers)."""
        if (self.plus is np.maximum and kernels.available() and out.flags.c_contiguous
                and factor.flags.c_contiguous and prev.flags.c_contiguous and M.flags.c_contiguous):
            kernels.scaled_max_step(M, prev, factor, out, scale[0])
            return
        self.matmul(M, prev, out=out, work=work)
        out *= factor
        self.total(out, axis=0, keepdims=True, out=scale)
        out /= scale

    def total(self, a: np.ndarray, axis: int = -1, keepdims: bool = False, out=None) -> np.ndarray:
        """``⊕`` of ``a`` along ``axis``: the sum or the maximum."""
        if self.plus is np.add and a.ndim == 2 and axis == 0 and keepdims:
            return np.dot(_ones(a.shape[0]), a, out=out)    # column sums: 2x faster as BLAS
        return self.plus.reduce(a, axis=axis, keepdims=keepdims, out=out)

    def choose(self, weights: np.ndarray, rng: np.random.Generator | None, axis: int = -1,
               overwrite: bool = False, u: np.ndarray | None = None) -> np.ndarray:
        """The backward sweep's choice along ``axis`` of ``weights``: a draw ∝ weight (``SUM``,
        with the uniforms ``u`` or fresh ones from ``rng``; ``overwrite`` lets it reuse
        ``weights``) or the argmax (``MAX``). Ties up to rounding (within :data:`TIE_RTOL` of the
        maximum) go to the first index, so the choice does not depend on the order in which a
        kernel happened to multiply."""
        if self.plus is np.add:
            if u is None:
                axis = axis % weights.ndim
                u = _sampling_rng(rng).random(weights.shape[:axis] + weights.shape[axis + 1:])
            return draw(weights, u, axis=axis, overwrite=overwrite)
        if weights.ndim == 2 and axis % 2 == 0 and kernels.available():   # a chain's states
            return kernels.argmax_rows(weights, TIE_RTOL)
        top = np.max(weights, axis=axis, keepdims=True)
        return np.argmax(weights >= top * (1.0 - TIE_RTOL), axis=axis)

    def uniforms(self, rng: np.random.Generator | None, shape: tuple) -> np.ndarray | None:
        """The random numbers a sweep of :meth:`choose` calls needs, drawn at once: uniforms of
        ``shape`` for ``SUM`` (the same stream as one call per row), none for ``MAX``."""
        return _sampling_rng(rng).random(shape) if self.plus is np.add else None

    def __repr__(self) -> str:
        return self.name


#: sum-product: forward, backward, inside, outside; sampling draws from its tables
SUM = Semiring("SUM", np.add)
#: max-product: Viterbi and CKY; the back-trace takes argmaxes over its tables
MAX = Semiring("MAX", np.maximum)


def check_semiring(semiring) -> Semiring:
    """``semiring`` if it is :data:`SUM` or :data:`MAX`, else a ``ValueError`` naming the choices."""
    if semiring is not SUM and semiring is not MAX:
        raise ValueError(f"semiring must be emlab.semiring.SUM or emlab.semiring.MAX, got {semiring!r}")
    return semiring


def check_chart(chart, semiring: Semiring, hook: str):
    """``chart`` if it was computed in ``semiring`` (its ``.semiring``), else a ``ValueError``
    saying which chart ``hook`` needs: a back-trace over the wrong table would give a wrong
    structure silently."""
    if getattr(chart, "semiring", None) is not semiring:
        raise ValueError(f"{hook} needs a chart in the {semiring} semiring (model.chart(batch, {semiring})), "
                         f"got one in {getattr(chart, 'semiring', None)}")
    return chart
