"""Stochastic E-steps that converge: Monte Carlo EM and stochastic approximation EM (notebooks 07, 09).

Stochastic EM (Celeux & Diebolt 1985, *Computational Statistics Quarterly* 2:73) replaces the
expected counts ``E[c | x; θ_t]`` by the counts ``c(x, y)`` of **one** structure
``y ~ p(y | x; θ_t)``. The sampled counts are unbiased for the expected counts, but with one sample
per iteration the iterates ``θ_t`` form a homogeneous Markov chain: they keep fluctuating around a
stationary point of ``L(θ) = log p(x; θ)`` and never settle (Nielsen 2000, *Bernoulli* 6:457, shows
the chain is ergodic and studies its stationary distribution). In the free-energy view (notebook
09) the sampled point mass does not maximize ``F(q, θ_t)`` over ``q``, so this is not coordinate
ascent on F, and not an ascent on L either. Two changes make the noise vanish:

**MCEM** (Wei & Tanner 1990, *JASA* 85:699): average the counts of ``m_t`` sampled structures,

    s_t = (1 / m_t) Σ_{j=1..m_t} c(x, y_j),   y_j ~ p(y | x; θ_t),     θ_{t+1} = M-step(s_t),

with ``m_t → ∞``, so the Monte Carlo error ``O(1 / √m_t)`` goes to zero; Fort & Moulines (2003,
*Ann. Statist.* 31:1220) prove almost-sure convergence to the stationary points of ``L`` when
``m_t`` grows fast enough (a summability condition on the errors, met by geometric growth). With a
constant ``m`` (or a capped schedule) MCEM is again a fluctuating chain, with variance ``O(1/m)``.

**SAEM** (Delyon, Lavielle & Moulines 1999, *Ann. Statist.* 27:94): keep one sample per iteration but
average the statistics over iterations with decreasing weights ``γ_t``,

    s_t = s_{t−1} + γ_t (c(x, y_t) − s_{t−1}),   y_t ~ p(y | x; θ_t),   θ_{t+1} = M-step(s_t),

with ``Σ γ_t = ∞`` and ``Σ γ_t² < ∞`` (here ``γ_t = t^{−a}``, ``1/2 < a ≤ 1``, after ``burn_in``
iterations with ``γ = 1``, i.e. plain stochastic EM). Their convergence theorem: for complete data in a
(curved) exponential family — every product of categoricals is one —, a smooth M-step map, exact
sampling from the posterior and statistics ``s_t`` that stay almost surely in a compact subset of
the set where the M-step is defined, ``θ_t`` converges almost surely to the set of stationary
points of ``L``; under mild extra conditions only local maxima are stable limits.

Both use only the public :class:`emlab.em.EMModel` hooks: ``model.e_step(prepared, "stochastic", rng)``
for one sampled structure per item, and ``model.m_step(counts)``. They return an
:class:`emlab.em.EMResult` (``method`` ``"mcem"`` or ``"saem"``) with ``n_samples`` (structures
sampled per item at each iteration) as an extra attribute.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .em import MAX_RUN, EMModel, EMResult, param_change, prepare
from .validation import as_generator, check_bool, check_count, check_model, check_positive_int, check_scalar

__all__ = ["mcem", "saem", "geometric_samples", "saem_steps"]


#: The most structures per item one :func:`mcem` iteration samples (``n_samples``, ``m_t``).
MAX_SAMPLES = 100_000


def geometric_samples(first: int = 1, growth: float = 1.1, cap: int | None = None) -> Callable[[int], int]:
    """The sample-size schedule ``m_t = min(cap, ceil(first · growth^t))`` for :func:`mcem`.

    Geometric growth makes the Monte Carlo error ``O(m_t^{−1/2})`` summable, as the convergence
    results for MCEM ask (Fort & Moulines 2003); a ``cap`` makes ``m_t`` constant from some ``t`` on,
    and from there the iterates fluctuate (with variance ``O(1/cap)``) instead of converging.
    ``growth`` lies in [1, 10]; ``m_t`` is computed in log space, so a capped schedule never overflows."""
    check_positive_int("first", first)
    growth = check_scalar("growth", growth, low=1, high=10)
    if cap is not None:
        check_positive_int("cap", cap)
    log_first, log_growth = math.log(first), math.log(growth)

    def m(t: int) -> int:
        log_m = log_first + t * log_growth
        if cap is not None and log_m >= math.log(cap):
            return cap
        if log_m > 700:
            raise ValueError(f"n_samples: m_t = {first}·{growth}^{t} overflows; give geometric_samples a cap")
        value = math.ceil(first * growth**t)
        return value if cap is None else min(cap, value)

    return m


def saem_steps(n: int, exponent: float = 0.7, burn_in: int = 0) -> np.ndarray:
    """``γ_1 … γ_n`` for :func:`saem`: ``1`` for the first ``burn_in`` iterations, then
    ``γ_t = (t − burn_in)^{−exponent}``; ``1/2 < exponent ≤ 1`` gives ``Σ γ = ∞``, ``Σ γ² < ∞``."""
    n = check_count("n", n)
    exponent = check_scalar("exponent", exponent)
    if not 0.5 < exponent <= 1:
        raise ValueError(f"exponent must be in (0.5, 1] so that Σγ = ∞ and Σγ² < ∞, got {exponent!r}")
    burn_in = check_count("burn_in", burn_in)
    t = np.arange(1, n + 1)
    return np.where(t <= burn_in, 1.0, np.maximum(t - burn_in, 1).astype(float) ** -exponent)


def _average(total: dict[str, np.ndarray] | None, counts: dict[str, np.ndarray], weight: float):
    """``total + weight · (counts − total)`` array by array (``counts`` itself when ``total`` is None)."""
    if total is None:
        return {k: np.asarray(v, dtype=float).copy() for k, v in counts.items()}
    return {k: total[k] + weight * (np.asarray(counts[k], dtype=float) - total[k]) for k in total}


def _check_run(model, max_iter, keep_models) -> None:
    check_model("model", model, "prepare", "e_step", "m_step", "params")
    check_count("max_iter", max_iter, high=MAX_RUN)
    check_bool("keep_models", keep_models)


def _result(method, models, lls, changes, n_samples, keep_models) -> EMResult:
    res = EMResult(model=models[-1], log_likelihoods=lls, objectives=list(lls), param_changes=changes,
                   converged=False, n_iter=len(changes), method=method,
                   models=models if keep_models else [])
    res.n_samples = n_samples
    return res


def mcem(model: EMModel, data, max_iter: int = 50, n_samples: int | Callable[[int], int] | None = None,
         rng=None, keep_models: bool = False) -> EMResult:
    """Monte Carlo EM: the M-step on the average counts of ``m_t`` sampled structures per item.

    ``n_samples`` is an int (the same ``m`` every iteration; ``1`` is stochastic EM) or a schedule
    ``t -> m_t`` (default :func:`geometric_samples` ``(1, 1.1)``), at most :data:`MAX_SAMPLES`.
    ``log_likelihoods[t]`` is the exact ``L(θ_t)`` (from the first E-step at ``θ_t``), so the run can
    be compared with soft EM's.
    Runs all ``max_iter`` (at most :data:`emlab.em.MAX_RUN`) iterations (``converged`` is False: a
    Monte Carlo run has no natural stop).
    """
    _check_run(model, max_iter, keep_models)
    if n_samples is None:
        n_samples = geometric_samples()
    if isinstance(n_samples, (int, np.integer)):
        check_positive_int("n_samples", n_samples, high=MAX_SAMPLES)
        fixed = int(n_samples)
        n_samples = lambda t: fixed  # noqa: E731
    if not callable(n_samples):
        raise TypeError(f"n_samples must be an int or a callable t -> m_t, got {type(n_samples).__name__}")
    gen = as_generator(rng)
    prepared = prepare(model, data)
    models, lls, changes, used = [model], [], [], []
    current = model
    for t in range(max_iter + 1):
        m = check_positive_int("n_samples(t)", n_samples(t), high=MAX_SAMPLES)
        first = current.e_step(prepared, "stochastic", gen)
        lls.append(first.log_likelihood)
        if t == max_iter:
            break
        mean = _average(None, first.counts, 1.0)
        for j in range(2, m + 1):
            mean = _average(mean, current.e_step(prepared, "stochastic", gen).counts, 1.0 / j)
        used.append(m)
        new = current.m_step(mean)
        changes.append(param_change(current.params(), new.params()))
        current = new
        models.append(current)
    return _result("mcem", models, lls, changes, used, keep_models)


def saem(model: EMModel, data, max_iter: int = 100, exponent: float = 0.7, burn_in: int = 0,
         rng=None, keep_models: bool = False) -> EMResult:
    """Stochastic approximation EM: one sampled structure per item and iteration, statistics averaged
    with the steps :func:`saem_steps` ``(max_iter, exponent, burn_in)``; the M-step on the average.

    ``log_likelihoods[t]`` is the exact ``L(θ_t)``. Runs all ``max_iter`` (at most
    :data:`emlab.em.MAX_RUN`) iterations.
    """
    _check_run(model, max_iter, keep_models)
    gammas = saem_steps(max_iter, exponent, burn_in)
    gen = as_generator(rng)
    prepared = prepare(model, data)
    models, lls, changes = [model], [], []
    current, stats = model, None
    for t in range(max_iter + 1):
        est = current.e_step(prepared, "stochastic", gen)
        lls.append(est.log_likelihood)
        if t == max_iter:
            break
        stats = _average(stats, est.counts, float(gammas[t]))
        new = current.m_step(stats)
        changes.append(param_change(current.params(), new.params()))
        current = new
        models.append(current)
    return _result("saem", models, lls, changes, [1] * len(changes), keep_models)
