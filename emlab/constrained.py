"""The categorical MLE found by a general-purpose optimizer, not by the formula (notebook 01).

Notebook 01 derives ``θ_k = c_k / N`` and ``λ = N`` with Lagrange multipliers. This module gives the
independent numbers it checks those claims against:

* :func:`constrained_max` maximizes ``ℓ(θ) = Σ_k c_k log θ_k`` subject to ``Σ_k θ_k = s`` and
  ``θ_k ≥ 0`` with SciPy's SLSQP, which knows nothing about normalized counts. With zero counts the
  maximizer sits on the boundary (``θ_k = 0``) — the Karush-Kuhn-Tucker case the stationarity
  equations ``c_k / θ_k = λ`` do not cover (Boyd & Vandenberghe, *Convex Optimization*, §5.5.3).
* :func:`constraint_sensitivity` measures the meaning of the multiplier: by the envelope theorem,
  ``d ℓ*(s) / d s = λ`` at ``s = 1`` (Boyd & Vandenberghe §5.6.3 for the sign convention; here
  ``ℓ*(s) = ℓ(c/N) + N log s`` exactly, so the derivative at ``s = 1`` is ``N``). It is a central
  finite difference of two :func:`constrained_max` values.
* :func:`boundary_slope` is the one-sided derivative of ``ℓ`` when mass ``ε`` is moved from the
  MLE to an outcome with zero count, ``d/dε ℓ((1−ε) c/N + ε e_j)`` at ``ε = 0⁺``, which is ``−N``:
  minus the KKT multiplier ``μ_j = λ = N`` of the constraint ``θ_j ≥ 0``.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from . import categorical
from .validation import check_numbers, check_scalar


def _counts(counts) -> np.ndarray:
    c = check_numbers("counts", counts)
    if c.ndim != 1 or c.size < 2:
        raise ValueError(f"counts must be a 1-D array of at least 2 entries, got shape {c.shape}")
    if not np.all(np.isfinite(c)) or np.any(c < 0) or not c.any():
        raise ValueError("counts must be finite, non-negative and not all zero")
    with np.errstate(over="ignore"):
        if not np.isfinite(c.sum()):
            raise ValueError("counts sum beyond the largest float: rescale them (the maximizer c / N "
                             "depends only on their ratios)")
    return c


def _ell(theta: np.ndarray, c: np.ndarray) -> float:
    """``Σ c_k log θ_k`` with ``0 · log 0 = 0``."""
    used = c > 0
    return float(c[used] @ np.log(theta[used]))


def constrained_max(counts, total: float = 1.0) -> tuple[np.ndarray, float]:
    """Maximize ``Σ_k c_k log θ_k`` over ``θ ≥ 0`` with ``Σ_k θ_k = total``, numerically (SLSQP).

    Returns ``(theta, value)``. The optimizer starts from the uniform point and is told only the
    objective, its gradient ``c_k / θ_k`` and the constraints, so agreement with ``c / N`` is a check
    of notebook 01's formula, not a restatement of it. Accurate to about 1e-9 in ``θ``.
    """
    c = _counts(counts)
    total = check_scalar("total", total, low=0.0, low_open=True)
    floor = 1e-300   # keeps log finite while the optimizer explores the boundary

    def neg(theta):
        return -float(c @ np.log(np.maximum(theta, floor)))

    def grad(theta):
        return -c / np.maximum(theta, floor)

    res = optimize.minimize(neg, np.full(c.size, total / c.size), jac=grad, method="SLSQP",
                            bounds=[(0.0, total)] * c.size,
                            constraints=[{"type": "eq", "fun": lambda t: t.sum() - total,
                                          "jac": lambda t: np.ones_like(t)}],
                            options={"ftol": 1e-15, "maxiter": 500})
    theta = np.clip(res.x, 0.0, None)
    return theta, _ell(theta, c)


def constraint_sensitivity(counts, eps: float = 1e-3) -> float:
    """``(ℓ*(1+ε) − ℓ*(1−ε)) / 2ε`` where ``ℓ*(s)`` is :func:`constrained_max` with ``Σθ = s``:
    how fast the best log-likelihood grows when the constraint is relaxed. Lagrange theory says
    this is the multiplier, ``λ = N`` (notebook 01, section 2)."""
    eps = check_scalar("eps", eps, low=0.0, high=0.5, low_open=True)
    return (constrained_max(counts, 1 + eps)[1] - constrained_max(counts, 1 - eps)[1]) / (2 * eps)


def boundary_slope(counts, j: int, eps: float = 1e-6) -> float:
    """One-sided slope ``(ℓ(θ_ε) − ℓ(c/N)) / ε`` with ``θ_ε = (1−ε) c/N + ε e_j``: the rate at which
    the log-likelihood falls when mass is moved to outcome ``j`` (notebook 01, zero counts).
    For ``c_j = 0`` it is ``N log(1−ε)/ε → −N``, minus the KKT multiplier of ``θ_j ≥ 0``."""
    c = _counts(counts)
    if not (isinstance(j, (int, np.integer)) and 0 <= j < c.size):
        raise ValueError(f"j must be an index into counts (0..{c.size - 1}), got {j!r}")
    eps = check_scalar("eps", eps, low=0.0, high=0.5, low_open=True)
    mle = categorical.normalize(c)
    moved = (1 - eps) * mle
    moved[j] += eps
    return (_ell(moved, c) - _ell(mle, c)) / eps
