"""An HMM with log-linear emissions: generalized EM against direct optimization (notebook 11).

Berg-Kirkpatrick, Bouchard-Côté, DeNero & Klein (2010) replace each emission categorical of an HMM
by a log-linear model over features ``f(v)`` of the symbol (the symbol itself, "is a vowel", a suffix…)::

    e(v | k) = exp(w_k · f(v)) / Σ_v' exp(w_k · f(v'))            W = (w_k) of shape (K, F), f of shape (V, F)

An identity feature matrix gives back the plain HMM (``w_k = log e(· | k)`` up to a constant).
``start``, ``trans`` (and ``stop``) stay categoricals. With an L2 penalty ``λ/2 ‖W‖²`` the objective
is the **penalized** log-likelihood ``log p(x) − λ/2 ‖W‖²``; that is what :class:`LogLinearHMM`'s
E-step reports as ``log_likelihood`` (as :class:`emlab.priors.MAP` reports the log posterior).

E-step: the plain :class:`emlab.hmm.HMM` of the current parameters (``emit = e``) and its own E-step,
so every method (soft, hard, stochastic) and no second forward-backward. Its emission counts
``c(k, v)`` are the sufficient statistics of

    Q(W) = Σ_{k,v} c(k, v) log e(v | k) − λ/2 ‖W‖²,     ∇_{w_k} Q = Σ_v c(k, v) (f(v) − E_{e(·|k)}[f]) − λ w_k

M-step: ``start``, ``trans``, ``stop`` by normalizing (notebook 01); ``W`` has no closed form, so a
few gradient steps on ``Q`` (row ``k`` scaled by ``1 / (n_k + λ)``, ``n_k = Σ_v c(k, v)``), each with
a backtracking (Armijo) line search, so ``Q`` never decreases. An M-step that only increases ``Q``
is a *generalized* EM; the bound of notebook 02, ``L(θ) − L(θ_t) ≥ Q(θ|θ_t) − Q(θ_t|θ_t)``, still
gives a non-decreasing ``L`` (Dempster, Laird & Rubin 1977, GEM; Neal & Hinton 1998).

Direct optimization: by Fisher's identity (notebook 08) ``∇ log p(x) = ∇ Q(θ | θ_t)`` at ``θ = θ_t``,
so one soft E-step gives the gradient of ``L`` with respect to every logit (start, trans rows, W):
:func:`log_likelihood_and_gradient`; :func:`lbfgs` hands it to scipy's L-BFGS-B. Both methods pay
one forward-backward per E-step (GEM) or per function-and-gradient evaluation (L-BFGS): notebook 11
compares them in that unit.
"""

from __future__ import annotations

import numpy as np

from . import hmm
from .em import EMResult, EStep, prepare
from .gradient import softmax
from .optimizers import check_tolerances, lbfgs_over_logits
from .threads import one_blas_thread
from .validation import as_generator, check_instance, check_numbers, check_positive_int, check_scalar

__all__ = ["LogLinearHMM", "emissions", "log_likelihood_and_gradient", "lbfgs"]

#: Armijo's sufficient-increase constant and the most halvings of a step.
ARMIJO = 1e-4
HALVINGS = 40


def emissions(weights: np.ndarray, features: np.ndarray) -> np.ndarray:
    """``e[k, v] = exp(w_k · f(v)) / Σ_v' exp(w_k · f(v'))``, shape (K, V), for (K, F) ``weights``
    and (V, F) ``features``."""
    weights = check_numbers("weights", weights, ndim=2)
    features = check_numbers("features", features, ndim=2)
    if weights.shape[1] != features.shape[1]:
        raise ValueError(f"weights has {weights.shape[1]} columns but features has {features.shape[1]}: "
                         "one weight per feature")
    return softmax(weights @ features.T)


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


class LogLinearHMM:
    """``LogLinearHMM(start, trans, weights, features, stop=None, l2=0.0, m_steps=5)``.

    Parameters
    ----------
    start, trans, stop : the categoricals of an :class:`emlab.hmm.HMM` (validated by it).
    weights : (K, F) emission weights ``W``.
    features : (V, F) feature matrix ``f`` (finite numbers; ``np.eye(V)`` is the plain HMM).
    l2 : ``λ ≥ 0``, the L2 penalty ``λ/2 ‖W‖²``.
    m_steps : the number of line-searched gradient steps on ``Q(W)`` per M-step.

    Arrays are copied and read-only; ``params()`` is ``start``, ``trans``, ``weights`` (and ``stop``);
    ``m.emit`` is the (K, V) emission matrix. The E-step's counts are the plain HMM's (``emit``
    counts ``c(k, v)`` of shape (K, V), the sufficient statistics of ``Q(W)``).

    Examples
    --------
    Identity features and ``W = log e`` give back the plain HMM (the example of :mod:`emlab.hmm`):

    >>> plain = hmm.HMM([.8, .2], [[.6, .4], [.5, .5]], [[.2, .4, .4], [.5, .4, .1]])
    >>> m = LogLinearHMM(plain.start, plain.trans, np.log(plain.emit), np.eye(3))
    >>> bool(np.allclose(m.emit, plain.emit)), round(float(np.exp(hmm.log_likelihood(m.hmm, [2, 0, 2]))), 6)
    (True, 0.028562)
    """

    def __init__(self, start, trans, weights, features, stop=None, l2=0.0, m_steps=5):
        features = check_numbers("features", features, ndim=2)
        if features.shape[0] == 0 or features.shape[1] == 0:
            raise ValueError(f"features must have shape (V, F) with V, F >= 1, got {features.shape}")
        weights = check_numbers("weights", weights, ndim=2)
        if weights.shape[1] != features.shape[1]:
            raise ValueError(f"weights must have shape (K, {features.shape[1]}) (one weight per feature), "
                             f"got {weights.shape}")
        self.l2 = check_scalar("l2", l2, low=0)
        self.m_steps = check_positive_int("m_steps", m_steps)
        self.features, self.weights = _frozen(features), _frozen(weights)
        K = np.shape(start)[0] if np.ndim(start) == 1 else None
        if K is not None and weights.shape[0] != K:
            raise ValueError(f"weights must have one row per state (start has {K} entries), got "
                             f"{weights.shape[0]}")
        self.hmm = hmm.HMM(start, trans, emissions(self.weights, self.features), stop)
        h = self.hmm
        self.start, self.trans, self.stop, self.emit = h.start, h.trans, h.stop, h.emit

    K = property(lambda self: self.hmm.K, doc="Number of hidden states.")
    V = property(lambda self: self.hmm.V, doc="Number of output symbols.")

    @classmethod
    def random(cls, K: int, features, rng=None, stop: bool = False, scale: float = 1.0,
               **kwargs) -> LogLinearHMM:
        """Dirichlet(1) ``start``/``trans`` (as :meth:`emlab.hmm.HMM.random`) and ``W ~ N(0, scale²)``."""
        K = check_positive_int("K", K)
        scale = check_scalar("scale", scale, low=0)
        features = check_numbers("features", features, ndim=2)
        rng = as_generator(rng)
        base = hmm.HMM.random(K, 1, rng=rng, stop=stop)
        weights = scale * rng.standard_normal((K, features.shape[1]))
        return cls(base.start, base.trans, weights, features, base.stop, **kwargs)

    def params(self) -> dict[str, np.ndarray]:
        p = {"start": self.start, "trans": self.trans, "weights": self.weights}
        if self.stop is not None:
            p["stop"] = self.stop
        return p

    def penalty(self) -> float:
        """``λ/2 ‖W‖²``."""
        return 0.5 * self.l2 * float(np.sum(self.weights ** 2))

    def with_params(self, start, trans, weights, stop=None) -> LogLinearHMM:
        """The same features, ``l2`` and ``m_steps`` with new parameters."""
        return LogLinearHMM(start, trans, weights, self.features, stop, self.l2, self.m_steps)

    def __repr__(self) -> str:
        return f"LogLinearHMM(K={self.K}, V={self.V}, F={self.features.shape[1]}, l2={self.l2})"

    # ------------------------------------------------------- the EMModel protocol
    def prepare(self, data) -> hmm.Corpus:
        return self.hmm.prepare(data)

    def e_step(self, prepared, method: str = "soft", rng=None) -> EStep:
        """The plain HMM's E-step; ``log_likelihood`` and ``objective`` minus ``λ/2 ‖W‖²``."""
        est = self.hmm.e_step(prepared, method, rng)
        pen = self.penalty()
        return EStep(counts=est.counts, log_likelihood=lambda: est.log_likelihood - pen,   # read when asked
                     objective=est.objective - pen)

    def m_step(self, counts: dict[str, np.ndarray]) -> LogLinearHMM:
        """Categoricals normalized; ``W`` by :meth:`improve_weights` (``Q`` never decreases)."""
        cats = self.hmm.m_step(counts)
        weights = self.improve_weights(np.asarray(counts["emit"], dtype=float))[0]
        return self.with_params(cats.start, cats.trans, weights, cats.stop)

    # ------------------------------------------------------- the partial M-step
    def q_value(self, counts_emit: np.ndarray, weights=None) -> float:
        """``Q(W) = Σ c(k, v) log e(v | k) − λ/2 ‖W‖²`` (``W`` defaults to the model's)."""
        W = self.weights if weights is None else np.asarray(weights, dtype=float)
        scores = W @ self.features.T
        top = scores.max(axis=1, keepdims=True)
        log_e = scores - top - np.log(np.exp(scores - top).sum(axis=1, keepdims=True))
        return float(np.sum(counts_emit * log_e)) - 0.5 * self.l2 * float(np.sum(W ** 2))

    def q_gradient(self, counts_emit: np.ndarray, weights=None) -> np.ndarray:
        """``∇_W Q = (c − n e) f − λ W`` with ``n_k = Σ_v c(k, v)``."""
        W = self.weights if weights is None else np.asarray(weights, dtype=float)
        e = emissions(W, self.features)
        n = counts_emit.sum(axis=1, keepdims=True)
        return (counts_emit - n * e) @ self.features - self.l2 * W

    def improve_weights(self, counts_emit, steps: int | None = None) -> tuple[np.ndarray, list[float]]:
        """``steps`` (default ``m_steps``) gradient steps on ``Q(W)``, each accepted only with Armijo's
        sufficient increase ``Q(W + s D) ≥ Q(W) + 10⁻⁴ s ⟨∇Q, D⟩`` (``s`` halved until then, doubled
        after a success). ``D`` is the gradient with row ``k`` divided by ``n_k + λ`` (a positive
        diagonal scaling, so still an ascent direction). Returns the weights and ``Q`` after each step
        (index 0: the start), a non-decreasing list."""
        c = check_numbers("counts_emit", counts_emit, ndim=2, nonnegative=True)
        if c.shape != (self.K, self.V):
            raise ValueError(f"counts_emit must have shape ({self.K}, {self.V}), got {c.shape}")
        steps = self.m_steps if steps is None else check_positive_int("steps", steps)
        scaling = 1.0 / np.maximum(c.sum(axis=1, keepdims=True) + self.l2, 1e-300)
        s = 2.0 / (1.0 + float(np.max(np.sum(self.features ** 2, axis=1))))
        W = np.array(self.weights)
        q = self.q_value(c, W)
        qs = [q]
        for _ in range(steps):
            g = self.q_gradient(c, W)
            d = g * scaling
            slope = float(np.sum(g * d))
            if slope <= 1e-300:
                break                            # a stationary point of Q
            for _halving in range(HALVINGS):
                trial = W + s * d
                q_trial = self.q_value(c, trial)
                if q_trial >= q + ARMIJO * s * slope:
                    break
                s /= 2
            else:
                break                            # no step size increases Q: stationary to precision
            W, q = trial, q_trial
            qs.append(q)
            s *= 2
        return W, qs


# ======================================================================== direct optimization
def _logits(model: LogLinearHMM) -> dict[str, np.ndarray]:
    rows = model.trans if model.stop is None else np.column_stack([model.trans, model.stop])
    with np.errstate(divide="ignore"):
        return {"start": np.log(model.start), "rows": np.log(rows), "weights": np.array(model.weights)}


def _from_logits(model: LogLinearHMM, eta: dict[str, np.ndarray]) -> LogLinearHMM:
    rows = softmax(eta["rows"])
    K = model.K
    stop = None if model.stop is None else rows[:, K]
    return model.with_params(softmax(eta["start"]), rows[:, :K], eta["weights"], stop)


def log_likelihood_and_gradient(model: LogLinearHMM, prepared,
                                rng=None) -> tuple[float, dict[str, np.ndarray]]:
    """The (penalized) ``L = log p(x) − λ/2 ‖W‖²`` and its gradient from one soft E-step (Fisher's
    identity, notebook 08): for the logits of ``start`` and of each row ``[trans | stop]``, expected
    counts minus model counts ``c − n θ``; for ``W``, ``∇_W Q`` (:meth:`LogLinearHMM.q_gradient`).
    Keys ``"start"``, ``"rows"`` (K, K or K + 1), ``"weights"``."""
    check_instance("model", model, LogLinearHMM, "a loglinear.LogLinearHMM")
    est = model.e_step(prepare(model, prepared, "prepared"), "soft", as_generator(rng))
    c = est.counts
    theta = _from_logits(model, _logits(model))   # the same parameters, as the softmaxes see them
    rows_c = c["trans"] if model.stop is None else np.column_stack([c["trans"], c["stop"]])
    rows = theta.trans if model.stop is None else np.column_stack([theta.trans, theta.stop])
    grad = {"start": c["start"] - c["start"].sum() * theta.start,
            "rows": rows_c - rows_c.sum(axis=1, keepdims=True) * rows,
            "weights": model.q_gradient(c["emit"])}
    return est.log_likelihood, grad


@one_blas_thread
def lbfgs(model: LogLinearHMM, data, max_evaluations: int = 200, gtol: float = 1e-8, ftol: float = 1e-14,
          rng=None) -> EMResult:
    """Maximize the (penalized) ``log p(x)`` with scipy's L-BFGS-B over all logits (start, the rows of
    ``[trans | stop]``, ``W``); zero probabilities stay zero. Returns an :class:`emlab.em.EMResult`
    (``method="lbfgs"``) with ``evaluations`` (E-steps used up to each accepted iterate) and
    ``n_evaluations``, as :func:`emlab.optimizers.lbfgs`. A trial point where the data get
    probability zero counts as ``+∞`` for the minimizer (the line search backs off)."""
    if not isinstance(model, LogLinearHMM):
        raise TypeError(f"model must be a LogLinearHMM, got {type(model).__name__}")
    check_positive_int("max_evaluations", max_evaluations)
    gtol, ftol = check_tolerances(gtol, ftol)
    gen = as_generator(rng)
    prepared = prepare(model, data)
    eta0 = _logits(model)
    return lbfgs_over_logits(model, eta0, {k: np.isfinite(v) for k, v in eta0.items()},
                             lambda eta: _from_logits(model, eta),
                             lambda m: log_likelihood_and_gradient(m, prepared, gen),
                             max_evaluations, gtol, ftol)

