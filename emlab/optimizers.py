"""Quasi-Newton maximization of ``log p(x)``: L-BFGS on the softmax logits (notebook 08).

The competitor EM should be measured against is not only plain gradient ascent
(:func:`emlab.gradient.gradient_ascent`) but a quasi-Newton method. Every categorical is written
as a softmax of free logits, ``θ_k = exp(η_k) / Σ_j exp(η_j)``, and ``−L(η) / |L(η_0)|`` is minimized by
L-BFGS (Liu & Nocedal 1989; ``scipy.optimize.minimize(method="L-BFGS-B")``) with the gradient of
:func:`emlab.gradient.log_likelihood_and_gradient`, ``∂L/∂η = E[c] − E[n] θ`` (expected counts
minus model counts, notebook 08). Dividing by ``|L(η_0)|`` (the start's log-likelihood) only
rescales the objective so that the tolerances are scale-free.

Each evaluation of ``L`` and its gradient costs one soft E-step — the same inference pass EM
makes once per iteration — so runs are compared by the number of E-steps
(``result.evaluations``), never by wall-clock time. Parameters that are zero stay zero (their logit
is ``−∞`` and is not optimized), as do arrays the model keeps fixed
(:func:`emlab.bound.frozen_arrays`). A line-search trial point so far out that a probability the data
need underflows to 0 has ``L = −∞``: the minimizer sees ``+∞`` there and backs off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize

from .bound import frozen_arrays, with_params
from .em import EMModel, EMResult, param_change, prepare
from .gradient import log_likelihood_and_gradient, logits, softmax
from .threads import one_blas_thread
from .validation import as_generator, check_bool, check_categorical_model, check_positive_int, check_scalar

__all__ = ["lbfgs", "lbfgs_over_logits"]

#: The most correction pairs L-BFGS may keep (``memory``; 3 to 20 is usual, Nocedal & Wright §7.2).
MAX_MEMORY = 1000


def check_tolerances(gtol, ftol) -> tuple[float, float]:
    """scipy's L-BFGS tolerances, each a number in [0, 1] (relative quantities), else an error naming it."""
    return check_scalar("gtol", gtol, low=0, high=1), check_scalar("ftol", ftol, low=0, high=1)


@one_blas_thread          # scipy's L-BFGS-B calls BLAS on tiny vectors: threads only add contention
def lbfgs(model: EMModel, data, max_evaluations: int = 200, gtol: float = 1e-8, ftol: float = 1e-14,
          memory: int = 10, rng=None, keep_models: bool = False) -> EMResult:
    """Maximize ``log p(x)`` from ``model`` with L-BFGS over the softmax logits.

    Parameters
    ----------
    model : a product-of-categoricals model (``hmm.HMM`` without STOP, a mixture of categoricals …)
        whose parameter arrays have categoricals along their last axis.
    max_evaluations : the budget of E-steps (function-and-gradient evaluations).
    gtol, ftol : scipy's stopping tolerances, on the largest gradient entry of ``−L/|L_0|`` and on
        the relative decrease of ``−L``.
    memory : the number of correction pairs L-BFGS keeps (at most :data:`MAX_MEMORY`).

    Returns
    -------
    EMResult with ``method="lbfgs"``: ``log_likelihoods`` at the accepted iterates (index 0 = the
    start), ``converged`` when scipy reports success, and two extra attributes as in
    :func:`emlab.gradient.gradient_ascent`: ``evaluations`` (E-steps used up to each iterate) and
    ``n_evaluations`` (in all).
    """
    check_categorical_model("model", model, "L-BFGS over softmax logits")
    check_positive_int("max_evaluations", max_evaluations)
    check_positive_int("memory", memory, high=MAX_MEMORY)
    gtol, ftol = check_tolerances(gtol, ftol)
    keep_models = check_bool("keep_models", keep_models)
    gen = as_generator(rng)
    prepared = prepare(model, data)
    frozen = frozen_arrays(model)
    params0 = model.params()
    eta0 = logits(params0)
    free = {k: np.isfinite(v) & (k not in frozen) for k, v in eta0.items()}

    def to_model(eta):
        return with_params(model, {k: params0[k] if k in frozen else softmax(eta[k]) for k in eta})

    return lbfgs_over_logits(model, eta0, free, to_model,
                             lambda m: log_likelihood_and_gradient(m, prepared, gen, frozen),
                             max_evaluations, gtol, ftol, memory, keep_models)


def lbfgs_over_logits(model, eta0: dict[str, np.ndarray], free: dict[str, np.ndarray],
                      to_model: Callable[[dict[str, np.ndarray]], Any],
                      value_and_gradient: Callable[[Any], tuple[float, dict[str, np.ndarray]]],
                      max_evaluations: int = 200, gtol: float = 1e-8, ftol: float = 1e-14,
                      memory: int = 10, keep_models: bool = False) -> EMResult:
    """The L-BFGS run behind :func:`lbfgs` and :func:`emlab.loglinear.lbfgs`: minimize
    ``−L / max(1, |L_0|)`` over the entries ``free`` of the logit arrays ``eta0`` (``model``'s own),
    where ``to_model(eta)`` builds the model of some logits and ``value_and_gradient(m)`` returns
    ``L(m)`` and ``∂L/∂eta`` (one E-step). A trial point where that raises ``ValueError`` (the data
    get probability zero there) counts as ``+∞``, so the line search backs off. Returns the
    :class:`emlab.em.EMResult` :func:`lbfgs` describes."""
    keys = sorted(eta0)

    def unpack(x):
        eta, at = {}, 0
        for k in keys:
            e = eta0[k].copy()
            n = int(free[k].sum())
            e[free[k]] = x[at:at + n]
            at += n
            eta[k] = e
        return to_model(eta)

    x0 = np.concatenate([eta0[k][free[k]] for k in keys])
    first_ll, first_grad = value_and_gradient(model)
    scale = max(1.0, abs(first_ll))
    evaluated = {x0.tobytes(): (first_ll, model, 1)}
    cache = {x0.tobytes(): first_grad}

    def objective(x):
        key = x.tobytes()
        if key in cache:                       # the start, evaluated above: no second E-step
            ll, grad = evaluated[key][0], cache.pop(key)
        else:
            m = unpack(x)
            try:
                ll, grad = value_and_gradient(m)
            except ValueError:   # a trial point underflowed a probability the data need to 0: L = -inf
                evaluated[key] = (-np.inf, m, len(evaluated) + 1)
                return np.inf, np.zeros_like(x)      # the line search sees +inf and backs off
            evaluated[key] = (ll, m, len(evaluated) + 1)
        g = np.concatenate([grad[k][free[k]] for k in keys])
        return -ll / scale, -g / scale

    lls, at, models = [first_ll], [1], [model]

    def record(xk):
        ll, m, n = evaluated[np.asarray(xk).tobytes()]
        lls.append(ll)
        at.append(n)
        models.append(m)

    out = minimize(objective, x0, jac=True, method="L-BFGS-B", callback=record,
                   options={"maxfun": max_evaluations, "maxiter": max_evaluations, "gtol": gtol,
                            "ftol": ftol, "maxcor": memory})
    changes = [param_change(a.params(), b.params()) for a, b in zip(models[:-1], models[1:], strict=True)]
    result = EMResult(model=models[-1], log_likelihoods=lls, objectives=list(lls), param_changes=changes,
                      converged=bool(out.success), n_iter=len(changes), method="lbfgs",
                      models=models if keep_models else [])
    result.evaluations = at
    result.n_evaluations = len(evaluated)
    return result
