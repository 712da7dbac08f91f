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

from .validation import check_model, check_numbers, check_scalar, check_sequence, naming

#: Steps smaller than this are rounding noise; ratios of them mean nothing.
STEP_FLOOR = 1e-11

#: The most iterations :func:`mixing_weight_em` runs (it returns every iterate).
MAX_ITERATES = 10**6


def flat_params(model_or_params) -> np.ndarray:
    """All parameter arrays of a model (or a ``params()`` dict), concatenated in key order."""
    if isinstance(model_or_params, dict):
        params = model_or_params
    else:
        params = check_model("model_or_params", model_or_params, "params").params()
    if not params:
        raise ValueError("model_or_params has no parameter arrays")
    return np.concatenate([np.ravel(check_numbers(f"parameter {k!r}", params[k])) for k in sorted(params)])


def trajectory(models: Sequence) -> np.ndarray:
    """``(T, D)``: the flattened parameters of each iterate
    (e.g. ``em.fit(..., keep_models=True).models``)."""
    check_sequence("models", models, "a list of models (em.fit(..., keep_models=True).models)")
    if len(models) == 0:
        raise ValueError("models is empty: run em.fit(..., keep_models=True)")
    with naming("models"):
        flats = [flat_params(m) for m in models]
    if len({f.size for f in flats}) != 1:
        raise ValueError("models must all have the same parameter sizes (iterates of one EM run)")
    return np.stack(flats)


def step_ratios(traj) -> np.ndarray:
    """``‖θ_{t+1} − θ_t‖ / ‖θ_t − θ_{t−1}‖`` for t = 1 … T−2 (NaN where a step is below
    :data:`STEP_FLOOR`, i.e. EM has already converged to machine precision).

    ``traj`` is ``(T, D)`` (see :func:`trajectory`) or ``(T,)`` for a scalar parameter.
    """
    traj = check_numbers("traj", traj)
    if traj.ndim == 1:
        traj = traj[:, None]
    if traj.ndim != 2 or traj.shape[0] < 3 or traj.shape[1] == 0:
        raise ValueError(f"traj must have shape (T, D) with T >= 3 iterates, got {traj.shape}")
    # measured in units of the largest entry, so steps between 1e308-sized values do not overflow;
    # the ratios do not depend on the unit
    unit = max(1.0, float(np.max(np.abs(traj))))
    steps = np.linalg.norm(np.diff(traj / unit, axis=0), axis=1)
    tiny = (steps[1:] < STEP_FLOOR / unit) | (steps[:-1] < STEP_FLOOR / unit)
    ratios = np.full(steps.size - 1, np.nan)
    ratios[~tiny] = steps[1:][~tiny] / steps[:-1][~tiny]
    return ratios


def likelihood_ratios(log_likelihoods) -> np.ndarray:
    """``(L_{t+1} − L_t) / (L_t − L_{t−1})``. Near ``θ*``, ``L* − L_t ∝ r^{2t}``, so these tend to
    ``r²`` (NaN where an increment is below ``1e-13`` relative: rounding noise)."""
    lls = check_numbers("log_likelihoods", log_likelihoods)
    if lls.ndim != 1 or lls.size < 3:
        raise ValueError(f"log_likelihoods must be 1-D with at least 3 values, got shape {lls.shape}")
    top = float(np.max(np.abs(lls)))
    lls = lls / max(1.0, top)   # increments of 1e308-sized values would overflow; ratios do not change
    inc = np.diff(lls)
    tiny = (np.abs(inc[1:]) < 1e-13) | (np.abs(inc[:-1]) < 1e-13)
    ratios = np.full(inc.size - 1, np.nan)
    ratios[~tiny] = inc[1:][~tiny] / inc[:-1][~tiny]
    return ratios


def estimated_rate(traj, tail: int = 5) -> float:
    """The linear rate ``r``: the median of the last ``tail`` finite :func:`step_ratios`.

    Returns NaN if fewer than one finite ratio exists (EM converged in a step or two: ``r ≈ 0``).
    """
    tail = check_scalar("tail", tail, low=1, integer=True)
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
    step = check_scalar("step", step, low=0)
    rate = check_scalar("rate", rate, low=0, high=1, high_open=True)
    with np.errstate(over="ignore"):
        distance = step * rate / (1.0 - rate)
    if not np.isfinite(distance):
        raise ValueError(f"step={step!r} with rate={rate!r} leaves a distance beyond the largest float")
    return distance


# ---------------------------------------------------------------------------------------------
# The case with a closed-form rate: learn only the weight π of a two-component mixture.
# ---------------------------------------------------------------------------------------------

def _check_component_likelihoods(f) -> np.ndarray:
    f = check_numbers("f", f, ndim=2, nonnegative=True)
    if f.shape[1] != 2 or f.shape[0] == 0:
        raise ValueError(f"f must have shape (N, 2): each point's likelihood under components 0 and 1, "
                         f"got {f.shape}")
    if np.any(f.max(axis=1) == 0):
        raise ValueError(f"f row {int(np.flatnonzero(f.max(axis=1) == 0)[0])} is zero under both components")
    return f


def mixing_weight_em(f, pi0: float = 0.5, n_iter: int = 50) -> np.ndarray:
    """EM for ``π`` in ``p(x) = π f₁(x) + (1 − π) f₀(x)`` with the components known.

    ``f[i] = (f₀(x_i), f₁(x_i))``. E-step: ``r_i = π f₁ / p(x_i)``; M-step: ``π ← mean(r_i)``
    (the categorical MLE of notebook 01 on expected counts). Returns ``(n_iter + 1,)`` iterates
    (``n_iter`` at most :data:`MAX_ITERATES`).
    """
    f = _scaled(_check_component_likelihoods(f))
    pi = check_scalar("pi0", pi0, low=0, high=1, low_open=True, high_open=True)
    n_iter = check_scalar("n_iter", n_iter, low=0, high=MAX_ITERATES, integer=True)
    pis = np.empty(n_iter + 1)
    pis[0] = pi
    for t in range(1, n_iter + 1):
        pi = float(np.mean(pi * f[:, 1] / (pi * f[:, 1] + (1 - pi) * f[:, 0])))
        pis[t] = pi
    return pis


def _scaled(f: np.ndarray) -> np.ndarray:
    """Each row divided by its largest entry: the posteriors and every ratio below are unchanged,
    and neither 1e-320 (denormal) nor 1e308 likelihoods underflow or overflow."""
    return f / f.max(axis=1, keepdims=True)


def _mixture_density(f: np.ndarray, pi: float) -> np.ndarray:
    """``p(x_i) = π f₁ + (1 − π) f₀`` of the scaled ``f``, refusing a point impossible at ``π``."""
    p = pi * f[:, 1] + (1 - pi) * f[:, 0]
    if np.any(p == 0):
        i = int(np.flatnonzero(p == 0)[0])
        raise ValueError(f"f row {i} has probability 0 under the mixture at pi={pi!r}: "
                         "give a pi strictly between 0 and 1")
    return p


def mixing_weight_rate(f, pi: float) -> float:
    """The slope of the EM map ``M(π) = mean(π f₁ / p)`` at ``π``: ``M'(π) = mean(f₀ f₁ / p²)``.
    At the fixed point this is the linear rate ``r``."""
    f = _scaled(_check_component_likelihoods(f))
    pi = check_scalar("pi", pi, low=0, high=1)
    p = _mixture_density(f, pi)
    return float(np.mean(f[:, 0] * f[:, 1] / p**2))


def missing_information_fraction(f, pi: float) -> float:
    """``1 − I_observed / I_complete`` for ``π`` (Dempster, Laird & Rubin 1977).

    ``I_observed = Σ (f₁ − f₀)² / p²`` (minus the second derivative of ``L``); the complete-data
    information ``N / (π(1 − π))`` (that of N labelled coin flips). 0 when the components do not
    overlap (labels recoverable), → 1 when they coincide (the data say nothing about labels).
    """
    f = _scaled(_check_component_likelihoods(f))
    pi = check_scalar("pi", pi, low=0, high=1, low_open=True, high_open=True)
    p = _mixture_density(f, pi)
    observed = float(np.sum((f[:, 1] - f[:, 0]) ** 2 / p**2))
    complete = f.shape[0] / (pi * (1 - pi))
    return 1.0 - observed / complete
