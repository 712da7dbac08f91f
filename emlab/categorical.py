"""Categorical distributions: the M-step of every model in the course.

Notebook 01 derives, with one Lagrange multiplier per distribution, that the
maximum-likelihood estimate of a categorical from counts ``c_k`` is

    θ_k = c_k / Σ_j c_j                                         (01, eq. MLE)

and that the same formula applied to *expected* counts maximizes the expected
log-likelihood Q(θ | θ_t), which is exactly the M-step of EM (notebook 02).
A model here is a handful of arrays whose last axis holds categoricals, so
:func:`normalize` is the whole M-step of every model.
"""

from __future__ import annotations

import numpy as np

from .validation import check_array


def normalize(counts, previous=None) -> np.ndarray:
    """Turn counts into categoricals along the last axis: ``θ[..., k] = c[..., k] / Σ_j c[..., j]``.

    Parameters
    ----------
    counts : array_like, shape (..., K)
        Non-negative (observed or expected) counts.
    previous : array_like, shape (..., K), optional
        The parameters before this M-step. A row whose counts are all zero carries no
        evidence, so it **keeps its previous parameters** (the rule every emlab model
        keeps, which is why no NaN ever appears); without ``previous`` such a row
        becomes uniform.

    Examples
    --------
    >>> normalize([[2, 6], [0, 0]], previous=[[.5, .5], [.9, .1]])
    array([[0.25, 0.75],
           [0.9 , 0.1 ]])
    """
    c = check_array("counts", counts)
    if c.ndim == 0:
        raise ValueError("counts must have at least one axis")
    totals = c.sum(axis=-1, keepdims=True)
    empty = totals == 0
    probs = c / np.where(empty, 1.0, totals)
    if empty.any():
        if previous is None:
            fallback = np.full_like(c, 1.0 / c.shape[-1])
        else:
            fallback = np.broadcast_to(check_array("previous", previous, shape=c.shape), c.shape)
        probs = np.where(empty, fallback, probs)
    return probs


#: The MLE of a categorical from counts is their normalization (notebook 01).
mle = normalize


def smooth(counts, alpha: float = 1.0) -> np.ndarray:
    """Additive (Laplace / Lidstone) smoothing: the counts plus ``alpha`` pseudo-counts each.

    ``normalize(smooth(c, α))`` is the MAP estimate under a symmetric Dirichlet(α + 1) prior.
    """
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a non-negative number, got {alpha!r}")
    return check_array("counts", counts) + alpha


def log_likelihood(counts, probs) -> float:
    """``Σ c_k log θ_k`` summed over every entry: the log-likelihood of data with these
    (observed) counts, or the expected log-likelihood Q when the counts are expected counts.

    ``0 · log 0`` counts as 0; a positive count on a zero probability gives ``-inf``.
    """
    c = check_array("counts", counts)
    p = check_array("probs", probs)
    if c.shape != p.shape:
        raise ValueError(f"counts shape {c.shape} does not match probs shape {p.shape}")
    used = c > 0
    if np.any(used & (p == 0)):
        return -np.inf
    return float(np.sum(c[used] * np.log(p[used])))
