"""The shape of EM's lower bound at ``θ_t``: slope, curvature, and how far its top is (notebook 02).

Along a one-parameter family ``θ ↦ model(θ)`` (e.g. the two coins with coin A's bias ``θ`` and
everything else fixed), notebook 02 draws ``L(θ)`` and the bound
``B_t(θ) = L(θ_t) + Q(θ|θ_t) − Q(θ_t|θ_t)`` (:func:`emlab.bound.bound_on_path`). Two facts
about them at ``θ = θ_t`` are theorems, and this module measures them:

* **Tangency** (Fisher's identity; see McLachlan & Krishnan, *The EM Algorithm and Extensions*,
  ch. 3): ``L'(θ_t) = B_t'(θ_t)`` — the gradient of the
  observed log-likelihood equals the expected complete-data gradient. Not true by construction:
  the gap ``L − B_t = KL(p(y|x,θ_t) ‖ p(y|x,θ))`` has its minimum 0 at ``θ_t``, so its slope is 0.
* **Curvature**: the same gap has a non-negative second derivative at its minimum, so
  ``B_t''(θ_t) ≤ L''(θ_t) ≤ 0`` near a maximum: ``−B_t''`` is the *complete-data* information and
  ``−L''`` the *observed* information, and complete ≥ observed (the missing-information principle,
  Orchard & Woodbury 1972; Louis 1982). So the bound is **more** curved than ``L``, never flatter.

What does shrink near a fixed point of EM is the distance from ``θ_t`` to the bound's top
(``θ_{t+1} − θ_t``) and the guaranteed gain ``max B_t − L(θ_t)``; their ratio to the curvature
follows from ``B_t`` being nearly a parabola with slope ``L'(θ_t)`` (→ 0) and curvature ``B_t''``.

Derivatives are central finite differences with step ``h`` on the family's parameter:
``f' ≈ (f(θ+h) − f(θ−h)) / 2h``, ``f'' ≈ (f(θ+h) − 2f(θ) + f(θ−h)) / h²``, error ``O(h²)``
(rounding error about ``1e-16 |f| / h²`` for the second derivative).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import bound
from .validation import check_scalar


@dataclass(frozen=True)
class BoundShape:
    """``L`` and the bound ``B_t`` at ``θ_t`` along a one-parameter family (notebook 02).

    Attributes
    ----------
    theta_t : where the bound is built.
    slope_L, slope_bound : ``L'(θ_t)`` and ``B_t'(θ_t)`` (equal, by Fisher's identity).
    curv_L, curv_bound : ``L''(θ_t)`` and ``B_t''(θ_t)`` (``curv_bound ≤ curv_L``: minus the
        complete-data and minus the observed information).
    theta_next : the grid point maximizing ``B_t`` (the M-step restricted to the family).
    gain : ``max B_t − L(θ_t) ≥ 0``, the improvement the bound guarantees.
    """

    theta_t: float
    slope_L: float
    slope_bound: float
    curv_L: float
    curv_bound: float
    theta_next: float
    gain: float

    @property
    def step(self) -> float:
        """``|θ_{t+1} − θ_t|``: how far the top of the bound is from ``θ_t``."""
        return abs(self.theta_next - self.theta_t)


def bound_shape(family: Callable[[float], object], data, theta_t: float, h: float = 1e-4,
                thetas=None) -> BoundShape:
    """Slopes and curvatures of ``L`` and ``B_t`` at ``θ_t`` (finite differences with step ``h``),
    and the top of ``B_t`` on the grid ``thetas`` (default 0.001 … 0.999 in steps of 0.001).

    ``family(θ)`` returns a product-of-categoricals model as for :func:`emlab.bound.bound_on_path`;
    ``θ_t ± h`` must be valid parameters of it.
    """
    theta_t = check_scalar("theta_t", theta_t)
    h = check_scalar("h", h, low=0.0, high=0.1, low_open=True)
    try:
        near = bound.bound_on_path(family, data, [theta_t - h, theta_t, theta_t + h], theta_t)
    except ValueError as exc:
        if not str(exc).startswith("family("):
            raise
        raise ValueError(f"theta_t ± h ({theta_t - h:g}, {theta_t + h:g}) must be valid parameters of "
                         f"family (the differences look at both sides of theta_t): {exc}") from None
    grid = np.linspace(0.001, 0.999, 999) if thetas is None else np.asarray(thetas, dtype=float)
    far = bound.bound_on_path(family, data, grid, theta_t)

    def d1(f):
        return float((f[2] - f[0]) / (2 * h))

    def d2(f):
        return float((f[2] - 2 * f[1] + f[0]) / h ** 2)

    L, B = near.log_likelihoods, near.bound
    return BoundShape(theta_t=float(theta_t), slope_L=d1(L), slope_bound=d1(B), curv_L=d2(L),
                      curv_bound=d2(B), theta_next=far.theta_next,
                      gain=float(far.bound.max() - near.L_t))
