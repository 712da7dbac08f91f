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

from .validation import check_numbers, check_rows_sum_to_one, check_scalar


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
        becomes uniform. It must hold categoricals (rows summing to 1).

    Raises
    ------
    TypeError
        counts or previous are not numbers (``None``, strings, booleans).
    ValueError
        a scalar, an empty last axis, NaN, infinite or negative counts, or a ``previous`` of
        another shape or whose rows do not sum to 1.

    Each row is divided by its largest count before summing, so counts near the largest float
    (1e308) do not overflow.

    Examples
    --------
    >>> normalize([[2, 6], [0, 0]], previous=[[.5, .5], [.9, .1]])
    array([[0.25, 0.75],
           [0.9 , 0.1 ]])
    """
    c = check_numbers("counts", counts, nonnegative=True)
    if c.ndim == 0:
        raise ValueError("counts must have at least one axis")
    if c.shape[-1] == 0:
        raise ValueError(f"counts must have at least one category along its last axis, got shape {c.shape}")
    if previous is not None:
        previous = check_numbers("previous", previous, nonnegative=True)
        if previous.shape != c.shape:
            raise ValueError(f"previous must have shape {c.shape} (that of counts), got {previous.shape}")
        check_rows_sum_to_one("previous", previous)
    # Divide by each row's largest count first: the sum of 1e308-sized counts would overflow.
    peak = c.max(axis=-1, keepdims=True)
    empty = peak == 0
    scaled = c / np.where(empty, 1.0, peak)
    probs = scaled / np.where(empty, 1.0, scaled.sum(axis=-1, keepdims=True))
    if empty.any():
        fallback = np.full_like(c, 1.0 / c.shape[-1]) if previous is None else previous
        probs = np.where(empty, fallback, probs)
    return probs


#: The MLE of a categorical from counts is their normalization (notebook 01).
mle = normalize


def smooth(counts, alpha: float = 1.0) -> np.ndarray:
    """Additive (Laplace / Lidstone) smoothing: the counts plus ``alpha`` pseudo-counts each.

    ``normalize(smooth(c, α))`` is the MAP estimate under a symmetric Dirichlet(α + 1) prior.
    """
    alpha = check_scalar("alpha", alpha, low=0)
    return check_numbers("counts", counts, nonnegative=True) + alpha


def log_likelihood(counts, probs) -> float:
    """``Σ c_k log θ_k`` summed over every entry: the log-likelihood of data with these
    (observed) counts, or the expected log-likelihood Q when the counts are expected counts.

    ``0 · log 0`` counts as 0; a positive count on a zero probability gives ``-inf``.
    """
    c = check_numbers("counts", counts, nonnegative=True)
    p = check_numbers("probs", probs, nonnegative=True)
    if c.shape != p.shape:
        raise ValueError(f"counts shape {c.shape} does not match probs shape {p.shape}")
    used = c > 0
    if np.any(used & (p == 0)):
        return -np.inf
    with np.errstate(over="ignore"):  # 1e308 counts on small probabilities: the sum is -inf in floats
        return float(np.sum(c[used] * np.log(p[used])))
