"""How fast EM converges, measured (notebook 05).

Near a fixed point ``θ*`` the EM map ``M`` is linear: ``θ_{t+1} − θ* ≈ J (θ_t − θ*)`` with
``J = ∂M/∂θ`` at ``θ*``. So the steps shrink geometrically, ``‖θ_{t+1} − θ_t‖ ≈ r ‖θ_t − θ_{t−1}‖``,
with ``r`` the largest eigenvalue of ``J``: **linear convergence**. Dempster, Laird & Rubin (1977)
showed ``J = I − I_complete⁻¹ I_observed``: ``r`` is the *fraction of missing information*. When the
hidden variables carry much of the information (overlapping mixture components: the data say
little about which component produced each point), ``r`` is close to 1 and EM crawls.

- :func:`step_ratios` / :func:`estimated_rate`: ``r`` measured from an EM run's iterates.
- :func:`likelihood_ratios`: the same from the log-likelihood increments (they shrink like ``r²``).
- :func:`mixing_weight_em`, :func:`mixing_weight_rate`, :func:`missing_information_fraction`:
  the case where ``r`` is known in closed form (a two-component mixture with known components,
  only the weight ``π`` learned), to check the measurement against.
- :func:`distance_to_fixed_point`: why "the parameters stopped moving" is not "converged"
  when ``r`` is near 1 (a stopping-rule pitfall).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .validation import check_array

#: Steps smaller than this are rounding noise; ratios of them mean nothing.
STEP_FLOOR = 1e-11


def flat_params(model_or_params) -> np.ndarray:
    """All parameter arrays of a model (or a ``params()`` dict), concatenated in key order."""
    params = model_or_params if isinstance(model_or_params, dict) else model_or_params.params()
    return np.concatenate([np.ravel(np.asarray(params[k], dtype=float)) for k in sorted(params)])


def trajectory(models: Sequence) -> np.ndarray:
    """``(T, D)``: the flattened parameters of each iterate
    (e.g. ``em.fit(..., keep_models=True).models``)."""
    if len(models) == 0:
        raise ValueError("models is empty: run em.fit(..., keep_models=True)")
    return np.stack([flat_params(m) for m in models])


def step_ratios(traj) -> np.ndarray:
    """``‖θ_{t+1} − θ_t‖ / ‖θ_t − θ_{t−1}‖`` for t = 1 … T−2 (NaN where a step is below
    :data:`STEP_FLOOR`, i.e. EM has already converged to machine precision).

    ``traj`` is ``(T, D)`` (see :func:`trajectory`) or ``(T,)`` for a scalar parameter.
    """
    traj = np.asarray(traj, dtype=float)
    if traj.ndim == 1:
        traj = traj[:, None]
    if traj.ndim != 2 or traj.shape[0] < 3:
        raise ValueError(f"traj must have shape (T, D) with T >= 3 iterates, got {traj.shape}")
    steps = np.linalg.norm(np.diff(traj, axis=0), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = steps[1:] / steps[:-1]
    ratios[(steps[1:] < STEP_FLOOR) | (steps[:-1] < STEP_FLOOR)] = np.nan
    return ratios


def likelihood_ratios(log_likelihoods) -> np.ndarray:
    """``(L_{t+1} − L_t) / (L_t − L_{t−1})``. Near ``θ*``, ``L* − L_t ∝ r^{2t}``, so these tend to
    ``r²`` (NaN where an increment is below ``1e-13`` relative: rounding noise)."""
    lls = np.asarray(log_likelihoods, dtype=float)
    if lls.ndim != 1 or lls.size < 3:
        raise ValueError("log_likelihoods must be 1-D with at least 3 values")
    inc = np.diff(lls)
    floor = 1e-13 * max(1.0, float(np.max(np.abs(lls))))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = inc[1:] / inc[:-1]
    ratios[(np.abs(inc[1:]) < floor) | (np.abs(inc[:-1]) < floor)] = np.nan
    return ratios


def estimated_rate(traj, tail: int = 5) -> float:
    """The linear rate ``r``: the median of the last ``tail`` finite :func:`step_ratios`.

    Returns NaN if fewer than one finite ratio exists (EM converged in a step or two: ``r ≈ 0``).
    """
    ratios = step_ratios(traj)
    finite = ratios[np.isfinite(ratios)]
    if finite.size == 0:
        return float("nan")
    return float(np.median(finite[-tail:]))


def distance_to_fixed_point(step: float, rate: float) -> float:
    """How far ``θ_t`` still is from ``θ*`` when the last step had length ``step`` and the rate is
    ``r``: the remaining steps sum to ``step · r / (1 − r)`` (geometric series). With ``r = 0.999``
    a step of ``1e-6`` leaves ``≈ 1e-3`` to go: a parameter-change rule with tol ``1e-6`` stops early.
    """
    if not (0 <= rate < 1):
        raise ValueError(f"rate must be in [0, 1), got {rate!r}")
    return float(step) * rate / (1.0 - rate)


# ---------------------------------------------------------------------------------------------
# The case with a closed-form rate: learn only the weight π of a two-component mixture.
# ---------------------------------------------------------------------------------------------

def _check_component_likelihoods(f) -> np.ndarray:
    f = check_array("f", f, ndim=2)
    if f.shape[1] != 2 or f.shape[0] == 0:
        raise ValueError(f"f must have shape (N, 2): each point's likelihood under components 0 and 1, "
                         f"got {f.shape}")
    if np.any(f.sum(axis=1) == 0):
        raise ValueError(f"f row {int(np.flatnonzero(f.sum(axis=1) == 0)[0])} is zero under both components")
    return f


def mixing_weight_em(f, pi0: float = 0.5, n_iter: int = 50) -> np.ndarray:
    """EM for ``π`` in ``p(x) = π f₁(x) + (1 − π) f₀(x)`` with the components known.

    ``f[i] = (f₀(x_i), f₁(x_i))``. E-step: ``r_i = π f₁ / p(x_i)``; M-step: ``π ← mean(r_i)``
    (the categorical MLE of notebook 01 on expected counts). Returns ``(n_iter + 1,)`` iterates.
    """
    f = _check_component_likelihoods(f)
    if not (0 < pi0 < 1):
        raise ValueError(f"pi0 must be in (0, 1), got {pi0!r}")
    pis = np.empty(n_iter + 1)
    pis[0] = pi = pi0
    for t in range(1, n_iter + 1):
        pi = float(np.mean(pi * f[:, 1] / (pi * f[:, 1] + (1 - pi) * f[:, 0])))
        pis[t] = pi
    return pis


def mixing_weight_rate(f, pi: float) -> float:
    """The slope of the EM map ``M(π) = mean(π f₁ / p)`` at ``π``: ``M'(π) = mean(f₀ f₁ / p²)``.
    At the fixed point this is the linear rate ``r``."""
    f = _check_component_likelihoods(f)
    p = pi * f[:, 1] + (1 - pi) * f[:, 0]
    return float(np.mean(f[:, 0] * f[:, 1] / p**2))


def missing_information_fraction(f, pi: float) -> float:
    """``1 − I_observed / I_complete`` for ``π`` (Dempster, Laird & Rubin 1977).

    ``I_observed = Σ (f₁ − f₀)² / p²`` (minus the second derivative of ``L``); the complete-data
    information ``N / (π(1 − π))`` (that of N labelled coin flips). 0 when the components do not
    overlap (labels recoverable), → 1 when they coincide (the data say nothing about labels).
    """
    f = _check_component_likelihoods(f)
    p = pi * f[:, 1] + (1 - pi) * f[:, 0]
    observed = float(np.sum((f[:, 1] - f[:, 0]) ** 2 / p**2))
    complete = f.shape[0] / (pi * (1 - pi))
    return 1.0 - observed / complete
