"""MAP-EM: EM with Dirichlet priors on every categorical (notebook 10).

Put a Dirichlet(α) prior on each categorical ``θ`` of a product-of-categoricals model. The log
posterior is, up to a constant that does not depend on ``θ``,

    log p(θ | x) = log p(x | θ) + Σ_k (α_k − 1) log θ_k + const                   (10, eq. posterior)

and the same Jensen bound as for EM (notebook 02) gives
``log p(θ | x) − log p(θ_t | x) ≥ [Q(θ | θ_t) + log p(θ)] − [Q(θ_t | θ_t) + log p(θ_t)]``
(Dempster, Laird & Rubin 1977, who note that EM finds posterior modes this way).
``Q(θ | θ_t) + log p(θ) = Σ_k (E[c_k] + α_k − 1) log θ_k`` is notebook 01's objective with the
counts shifted by ``α − 1``, so its maximizer — the M-step — is

    θ_k = (E[c_k] + α_k − 1) / Σ_j (E[c_j] + α_j − 1)                               (10, eq. MAP)

provided every ``E[c_k] + α_k − 1 ≥ 0``, which ``α ≥ 1`` guarantees. That is all :class:`MAP` does:
it adds the pseudo-counts ``α − 1`` to the expected counts and hands them to the wrapped model's own
M-step, so :func:`emlab.em.fit` runs MAP-EM unchanged, and it never decreases the log posterior.

``α = 1`` is the flat prior (MAP = MLE). **Below 1 there is no MAP estimate in general**: a
category with ``E[c_k] + α_k − 1 < 0`` makes the posterior density grow without bound as ``θ_k → 0``,
so the "mode" is on the boundary of the simplex and the formula above would give a negative
probability. :class:`MAP` therefore refuses ``α < 1``. Sparse priors are still useful (Goldwater &
Griffiths 2007; Johnson 2007), but through a sampler or variational Bayes, where the M-step becomes
``θ_k ∝ exp ψ(E[c_k] + α_k)`` (Beal 2003) — a different algorithm, not provided here.

What :class:`MAP` reports: its E-step's ``log_likelihood`` is the data's own log-likelihood
``log p(x | θ)`` (the wrapped model's), and its ``objective`` is the **log posterior**
``log p(x | θ) + Σ (α − 1) log θ`` (for hard EM, ``Σ max_y log p(x, y | θ)`` plus the same log
prior): the quantity MAP-EM climbs. ``em.fit`` watches the objective, so its monotonicity check
guards the MAP-EM theorem, and ``result.objectives`` are the log posteriors of the iterates while
``result.log_likelihoods`` — which MAP-EM may well decrease — are their likelihoods.
"""

from __future__ import annotations

import numpy as np

from .em import EMModel, EStep
from .validation import check_categorical_model, check_numbers

__all__ = ["MAP", "log_prior"]


#: The largest Dirichlet parameter :class:`MAP` accepts: ``(α − 1) log θ`` stays finite for every
#: ``θ`` a float can hold (``log θ ≥ −745``).
MAX_ALPHA = 1e100


def _prior_arrays(alpha, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``alpha`` (a number, or a dict of numbers / arrays per parameter array) as one array per
    parameter array, broadcast to its shape; arrays not named get ``α = 1`` (no prior)."""
    if isinstance(alpha, dict):
        unknown = sorted(set(alpha) - set(params))
        if unknown:
            raise ValueError(f"alpha names {unknown}, which are not parameter arrays of the model "
                             f"(those are {sorted(params)})")
        given = alpha
    else:
        given = dict.fromkeys(params, alpha)
    out = {}
    for k, p in params.items():
        a = check_numbers(f"alpha[{k!r}]", given.get(k, 1.0))
        try:
            a = np.broadcast_to(a, np.shape(p)).astype(float)
        except ValueError:
            raise ValueError(f"alpha[{k!r}] has shape {a.shape}, which does not broadcast to the "
                             f"shape {np.shape(p)} of parameter array {k!r}") from None
        if np.any(a > MAX_ALPHA):
            raise ValueError(f"alpha[{k!r}] has an entry {float(a.max())!r} above {MAX_ALPHA:g}: the log "
                             "prior (α − 1) log θ would overflow (and such a prior leaves no room for "
                             "the data)")
        if np.any(a < 1):
            raise ValueError(f"alpha[{k!r}] has an entry {float(a.min())!r} below 1: then the posterior "
                             "density is unbounded at the boundary of the simplex and there is no MAP "
                             "estimate (use alpha >= 1; notebook 10 discusses sparse priors)")
        out[k] = a
    return out


def log_prior(params: dict[str, np.ndarray], alpha) -> float:
    """``Σ_k (α_k − 1) log θ_k`` over every parameter array: the Dirichlet log prior up to its
    normalizing constants. Entries with ``α_k = 1`` contribute nothing (even at ``θ_k = 0``);
    ``θ_k = 0`` with ``α_k > 1`` gives ``-inf``. ``alpha`` as in :class:`MAP`."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays (e.g. model.params()), got {type(params).__name__}")
    arrays = _prior_arrays(alpha, params)
    total = 0.0
    for k, p in params.items():
        theta = check_numbers(f"params[{k!r}]", p, nonnegative=True)
        w = arrays[k] - 1.0
        used = w > 0
        if np.any(used & (theta == 0)):
            return -np.inf
        total += float(np.sum(w[used] * np.log(theta[used])))
    return total


class MAP:
    """MAP-EM (the module docstring): ``MAP(model, alpha)`` wraps any product-of-categoricals model
    (an ``hmm.HMM``, a ``pcfg.PCFG``, a ``mixture.CategoricalMixture``) and plugs into
    :func:`emlab.em.fit` like the model itself.

    Parameters
    ----------
    model : the starting model; the fitted one is ``result.model.model``.
    alpha : float >= 1, or a dict ``{array name: float or array}`` (names as in ``model.params()``;
        arrays broadcast to the parameter's shape; arrays not named get ``α = 1``). The Dirichlet
        parameter of every categorical: the M-step adds ``α − 1`` pseudo-counts to each cell.
        For an HMM with STOP, ``[trans | stop]`` is one categorical per state, so
        ``{"trans": a, "stop": a}`` puts a symmetric Dirichlet(a) on it.

    Examples
    --------
    One categorical (a one-component mixture) with counts 3, 1, 0 and α = 2: the MAP estimate is
    ``(c + α − 1) / (N + K(α − 1)) = (4, 2, 1) / 7``.

    >>> from emlab import em, mixture
    >>> one = mixture.CategoricalMixture([1.0], [[1 / 3, 1 / 3, 1 / 3]])
    >>> res = em.fit(MAP(one, 2.0), [[3, 1, 0]])
    >>> (res.model.model.probs * 7).round(6).tolist()
    [[4.0, 2.0, 1.0]]
    """

    def __init__(self, model: EMModel, alpha=2.0):
        self.model = check_categorical_model("model", model,
                                             "priors.MAP (a Dirichlet prior on each categorical)")
        self.alpha = _prior_arrays(alpha, model.params())

    def prepare(self, data):
        return self.model.prepare(data)

    def params(self) -> dict[str, np.ndarray]:
        return self.model.params()

    def log_prior(self) -> float:
        """``Σ (α − 1) log θ`` at the current parameters."""
        return log_prior(self.model.params(), self.alpha)

    def e_step(self, prepared, method: str = "soft", rng=None) -> EStep:
        """The wrapped model's E-step; its ``objective`` carries the log prior (the log posterior),
        its ``log_likelihood`` is the data's, unchanged."""
        est = self.model.e_step(prepared, method, rng)
        return EStep(counts=est.counts, log_likelihood=lambda: est.log_likelihood,   # read when asked
                     objective=est.objective + self.log_prior())

    def m_step(self, counts: dict[str, np.ndarray]) -> MAP:
        """The wrapped model's M-step on ``counts + (α − 1)``."""
        shifted = {k: np.asarray(v, dtype=float) + (self.alpha[k] - 1.0) for k, v in counts.items()}
        return MAP(self.model.m_step(shifted), self.alpha)

    def __repr__(self) -> str:
        return f"MAP({self.model!r})"
