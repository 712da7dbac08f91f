"""The EM lower bound and generalized EM (notebook 02; used again in 05 and 08).

For a model that is a product of categoricals, the complete-data log-likelihood is
``log p(x, y | θ) = Σ_k c_k(x, y) log θ_k`` (counts of every parameter used by ``(x, y)``), so the
expected complete-data log-likelihood under the posterior at ``θ_t`` is

    Q(θ | θ_t) = E_{y ~ p(y|x, θ_t)} [log p(x, y | θ)] = Σ_k E[c_k] log θ_k      (02, eq. Q)

— the expected counts of the E-step at ``θ_t`` dotted with ``log θ``. Jensen's inequality
(log is concave) gives, for every ``θ``,

    L(θ) − L(θ_t) ≥ Q(θ | θ_t) − Q(θ_t | θ_t)                                       (02, eq. bound)

with equality at ``θ = θ_t``; the gap is ``KL(p(y|x,θ_t) ‖ p(y|x,θ))``. So the curve
``B_t(θ) = L(θ_t) + Q(θ|θ_t) − Q(θ_t|θ_t)`` lies below ``L`` and touches it at ``θ_t``; the M-step
maximizes ``B_t`` and therefore cannot lower ``L``. Any step that merely *increases* ``Q``
(generalized EM, :class:`PartialMStep`) cannot lower ``L`` either.

Everything here works through the :class:`emlab.em.EMModel` protocol, so it applies to every
product-of-categoricals model (mixture of categoricals, HMM, PCFG). ``Q`` as computed here drops
no constant, but only differences of ``Q`` enter the bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from . import categorical
from .em import EMModel, prepare
from .validation import as_generator, check_model, check_numbers, check_scalar


def q_function(counts: dict[str, np.ndarray], params: dict[str, np.ndarray]) -> float:
    """``Q(θ | θ_t) = Σ_arrays Σ_k E[c_k] log θ_k``: expected counts (from the E-step at ``θ_t``)
    against the parameters ``θ`` (02, eq. Q). ``0 · log 0`` is 0; a positive count on a zero
    parameter gives ``-inf``.
    """
    for name, value in (("counts", counts), ("params", params)):
        if not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict of arrays (e.g. model.params()), "
                            f"got {type(value).__name__}")
    missing = set(counts) ^ set(params)
    if missing:
        raise ValueError(f"counts and params must have the same arrays; mismatch: {sorted(missing)}")
    return float(sum(categorical.log_likelihood(counts[k], params[k]) for k in counts))


@dataclass(frozen=True)
class BoundOnPath:
    """``L`` and the EM lower bound along a one-parameter family of models (02).

    Attributes
    ----------
    thetas : (G,) the grid of the family's parameter.
    log_likelihoods : (G,) ``L(θ)`` on the grid.
    bound : (G,) ``L(θ_t) + Q(θ|θ_t) − Q(θ_t|θ_t)`` on the grid (≤ ``log_likelihoods``).
    theta_t : the point where the bound was built; ``L_t`` its log-likelihood.
    theta_next : the grid point maximizing the bound (the M-step restricted to the family).
    """

    thetas: np.ndarray
    log_likelihoods: np.ndarray
    bound: np.ndarray
    theta_t: float
    L_t: float
    theta_next: float

    @property
    def gap(self) -> np.ndarray:
        """``L(θ) − B_t(θ) = KL(p(y|x,θ_t) ‖ p(y|x,θ)) ≥ 0``."""
        return self.log_likelihoods - self.bound


def marginal_log_likelihood(model: EMModel, prepared, rng=None) -> float:
    """``L(θ) = log p(x; θ)`` from the model's soft E-step (``-inf`` if the data are impossible).

    ``prepared`` is ``model.prepare(data)``; ``rng`` (int seed or Generator) is handed to the E-step."""
    check_model("model", model, "e_step")
    prepared = prepare(model, prepared, "prepared")
    rng = as_generator(rng)
    try:
        return model.e_step(prepared, "soft", rng).log_likelihood
    except ValueError:
        return -np.inf


def bound_on_path(family: Callable[[float], EMModel], data, thetas: Iterable[float],
                  theta_t: float, rng=None) -> BoundOnPath:
    """Evaluate ``L`` and the lower bound built at ``θ_t`` along ``family(θ)`` for ``θ`` in ``thetas``.

    ``family(θ)`` returns a model (any :class:`~emlab.em.EMModel` that is a product of
    categoricals), e.g. the two-coins mixture with coin A's bias set to ``θ`` and everything else
    fixed. Because ``Q`` separates over the categoricals, the maximizer of the bound along such a
    slice is exactly what the full M-step sets that parameter to. ``rng`` (int seed or
    Generator) is handed to every E-step (soft E-steps draw nothing, so it only matters for
    models whose E-step samples).
    """
    if not callable(family):
        raise TypeError(f"family must be a function theta -> model, got {type(family).__name__}")
    if isinstance(thetas, (str, bytes)) or not hasattr(thetas, "__iter__"):
        raise TypeError(f"thetas must be a sequence of numbers, got {type(thetas).__name__}")
    grid = check_numbers("thetas", list(thetas) if not isinstance(thetas, np.ndarray) else thetas,
                         ndim=1, min_size=1)
    theta_t = check_scalar("theta_t", theta_t)
    rng = as_generator(rng)
    model_t = check_model(f"family({theta_t!r})", _member(family, theta_t, "theta_t"),
                          "prepare", "e_step", "params")
    prepared = prepare(model_t, data)
    est = model_t.e_step(prepared, "soft", rng)
    q_t = q_function(est.counts, model_t.params())
    lls = np.empty(grid.size)
    bound = np.empty(grid.size)
    for i, theta in enumerate(grid):
        model = _member(family, float(theta), f"thetas[{i}]")
        lls[i] = marginal_log_likelihood(model, prepared, rng)
        bound[i] = est.log_likelihood + q_function(est.counts, model.params()) - q_t
    return BoundOnPath(thetas=grid, log_likelihoods=lls, bound=bound, theta_t=float(theta_t),
                       L_t=est.log_likelihood, theta_next=float(grid[np.argmax(bound)]))


def _member(family, theta: float, name: str):
    """``family(theta)``, with an error of the family (e.g. a probability outside [0, 1]) re-raised
    naming the argument that held ``theta``."""
    try:
        return family(theta)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"family({name}={theta!r}) failed: {exc}") from None


def frozen_arrays(model: EMModel) -> set[str]:
    """The parameter arrays the model's M-step never changes (e.g. the two coins' fixed weights,
    ``learn_weights=False``): feeding the M-step two different count arrays leaves them as they are."""
    params = check_model("model", model, "params", "m_step").params()
    probe_a = {k: np.ones_like(np.asarray(v, dtype=float)) for k, v in params.items()}
    probe_b = {k: np.broadcast_to(np.arange(1.0, v.shape[-1] + 1), np.shape(v)).copy() if np.ndim(v) else
               np.ones(()) for k, v in params.items()}
    got_a, got_b = model.m_step(probe_a).params(), model.m_step(probe_b).params()
    return {k for k in params
            if np.array_equal(got_a[k], params[k]) and np.array_equal(got_b[k], params[k])}


def with_params(model: EMModel, params: dict[str, np.ndarray]) -> EMModel:
    """A model of the same kind with the given (already normalized) parameters.

    For a product of categoricals the M-step is :func:`emlab.categorical.normalize` of each array,
    and normalizing a stochastic array returns it unchanged, so ``model.m_step(params)`` *is*
    "set the parameters". Arrays the M-step keeps fixed (:func:`frozen_arrays`) must be passed
    unchanged. Raises ``ValueError`` if the model's M-step is not of that kind.
    """
    check_model("model", model, "params", "m_step")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays like model.params(), got {type(params).__name__}")
    arrays = {k: check_numbers(f"params[{k!r}]", v, nonnegative=True) for k, v in params.items()}
    try:
        new = model.m_step(arrays)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{type(model).__name__}.m_step does not reproduce parameter array {exc}: "
                         "with_params needs a product-of-categoricals model") from None
    got = new.params()
    for k, v in params.items():
        if not np.allclose(got[k], v, rtol=0, atol=1e-10):
            raise ValueError(f"{type(model).__name__}.m_step does not reproduce parameter array {k!r} "
                             "(a fixed array, or not a product-of-categoricals model)")
    return new


class PartialMStep:
    """Generalized EM: an M-step that only moves a fraction ``alpha`` of the way (02, 08).

    ``θ_{t+1} = (1 − α) θ_t + α θ*`` where ``θ*`` is the exact M-step. ``Q(·|θ_t)`` is concave in
    ``θ`` (a sum of ``c log θ``), so ``Q(θ_{t+1}|θ_t) ≥ (1−α) Q(θ_t|θ_t) + α Q(θ*|θ_t) ≥ Q(θ_t|θ_t)``:
    the step improves ``Q`` without maximizing it, hence (by the bound) never lowers ``L``.
    Wraps any product-of-categoricals model and plugs into :func:`emlab.em.fit` like the model
    itself; ``alpha = 1`` is ordinary EM. The wrapped model is ``.model``.
    """

    def __init__(self, model: EMModel, alpha: float = 0.5):
        self.model = check_model("model", model, "prepare", "e_step", "m_step", "params")
        self.alpha = check_scalar("alpha", alpha, low=0, high=1, low_open=True)

    def prepare(self, data):
        return self.model.prepare(data)

    def e_step(self, prepared, method, rng):
        return self.model.e_step(prepared, method, rng)

    def params(self) -> dict[str, np.ndarray]:
        return self.model.params()

    def m_step(self, counts: dict[str, np.ndarray]) -> PartialMStep:
        old = self.model.params()
        full = self.model.m_step(counts).params()
        mixed = {k: (1 - self.alpha) * old[k] + self.alpha * full[k] for k in old}
        return PartialMStep(with_params(self.model, mixed), self.alpha)

    def __repr__(self) -> str:
        return f"PartialMStep({self.model!r}, alpha={self.alpha})"
