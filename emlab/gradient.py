"""Direct maximization of ``log p(x)`` by gradient ascent: the alternative to EM (notebook 08).

Parameterize every categorical by a softmax, ``θ_k = exp(η_k) / Σ_j exp(η_j)``, so ``η`` is
unconstrained. For a product of categoricals ``log p(x, y) = Σ_k c_k(x, y) log θ_k`` and
``∂ log θ_j / ∂η_k = [j = k] − θ_k``, hence ``∂ log p(x, y) / ∂η_k = c_k − n θ_k`` with ``n`` the
row's total count. Since ``∇ log p(x) = E_{y|x}[∇ log p(x, y)]`` (Fisher's identity):

    ∂ log p(x) / ∂η_k = E[c_k] − E[n] θ_k = expected counts − model counts          (08, eq. grad)

The expected counts are exactly what EM's E-step computes, so gradient ascent and EM need the
same inference; they differ in what they do with the counts. EM jumps to the maximizer of ``Q``
(:func:`emlab.categorical.normalize`); gradient ascent takes a step of chosen size along the
gradient. At a fixed point of EM, ``E[c] ∝ θ`` row by row, i.e. the gradient is zero: the two
methods have the same stationary points.

Works for any product-of-categoricals model through the :class:`emlab.em.EMModel` protocol,
with each parameter array's last axis a categorical (zero parameters stay zero: ``η = −∞``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .bound import frozen_arrays, with_params
from .em import EMModel, param_change, prepare, relative_change
from .validation import as_generator, check_bool, check_categorical_model, check_numbers, check_scalar


@dataclass
class GradientResult:
    """The outcome of :func:`gradient_ascent`, read like an :class:`emlab.em.EMResult` (08).

    Attributes
    ----------
    model : the model at the last accepted step (same type as the input model).
    log_likelihoods : list of float, ``log p(data)`` at iterates ``0..n_iter`` (index 0: the start).
    objectives : the same values (gradient ascent improves ``log p(x)`` itself).
    param_changes : list of float, largest absolute change of any parameter at each step.
    converged : bool, whether the relative change of ``L`` fell below ``tol`` (or no step size
        improved ``L``: a stationary point to working precision) before ``max_iter``.
    n_iter : int, number of accepted steps.
    n_evaluations : int, E-steps (inference passes) used in all, line-search trials included: the
        fair unit against EM's one E-step per iteration.
    evaluations : list of int, the cumulative number of E-steps at each iterate (same length as
        ``log_likelihoods``).
    method : ``"gradient"``.
    models : every iterate's model when ``keep_models=True``, else empty.
    """

    model: Any
    log_likelihoods: list[float]
    objectives: list[float]
    param_changes: list[float]
    converged: bool
    n_iter: int
    n_evaluations: int
    evaluations: list[int]
    method: str = "gradient"
    models: list = field(default_factory=list, repr=False)

    @property
    def log_likelihood(self) -> float:
        """The final log-likelihood."""
        return self.log_likelihoods[-1]


def softmax(eta: np.ndarray) -> np.ndarray:
    """Row-wise softmax over the last axis (``−∞`` logits give exactly 0).

    Raises ``ValueError`` for NaN or ``+∞`` logits, an empty last axis, or a row whose logits are
    all ``−∞`` (no categorical has every probability 0)."""
    if eta is None or isinstance(eta, (str, bytes)):
        raise TypeError(f"eta must be an array of logits, got {type(eta).__name__}")
    try:
        eta = np.asarray(eta, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"eta must be an array of logits: {exc}") from None
    if eta.ndim == 0 or eta.shape[-1] == 0:
        raise ValueError(f"eta must have at least one logit along its last axis, got shape {eta.shape}")
    if np.isnan(eta).any() or np.isposinf(eta).any():
        raise ValueError("eta must hold finite logits or -inf (a zero probability), found NaN or +inf")
    if np.any(np.all(np.isneginf(eta), axis=-1)):
        raise ValueError("eta has a row whose logits are all -inf: "
                         "a categorical needs one positive probability")
    shifted = eta - np.max(eta, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def logits(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``η = log θ`` (one of the softmax's many preimages; zero parameters give ``−∞``)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays like model.params(), got {type(params).__name__}")
    arrays = {k: check_numbers(f"params[{k!r}]", v, nonnegative=True) for k, v in params.items()}
    with np.errstate(divide="ignore"):
        return {k: np.log(v) for k, v in arrays.items()}


def log_likelihood_and_gradient(model: EMModel, prepared, rng=None,
                                frozen: set[str] | None = None) -> tuple[float, dict[str, np.ndarray]]:
    """``L(θ) = log p(x)`` and ``∂L/∂η = E[c] − (Σ_row E[c]) θ`` (08, eq. grad) from one soft E-step.

    Arrays the model keeps fixed (:func:`emlab.bound.frozen_arrays`, or ``frozen`` when given) get a
    zero gradient. ``rng`` (int seed or Generator) is handed to the E-step."""
    params = check_categorical_model("model", model, "the gradient over softmax logits").params()
    _check_rowwise_categoricals(params)
    est = model.e_step(prepare(model, prepared, "prepared"), "soft", as_generator(rng))
    grads = {}
    for k, theta in params.items():
        c = np.asarray(est.counts[k], dtype=float)
        grads[k] = c - c.sum(axis=-1, keepdims=True) * theta
    frozen = frozen_arrays(model) if frozen is None else frozen
    if not (isinstance(frozen, (set, frozenset, list, tuple)) and all(isinstance(k, str) for k in frozen)):
        raise TypeError(f"frozen must be a set of parameter names (strings), got {frozen!r}"[:200])
    unknown = set(frozen) - set(grads)
    if unknown:
        raise ValueError(f"frozen names arrays the model does not have: {sorted(unknown)}")
    for k in frozen:
        grads[k] = np.zeros_like(grads[k])
    return est.log_likelihood, grads


def _check_rowwise_categoricals(params: dict[str, np.ndarray]) -> None:
    for k, v in params.items():
        totals = np.sum(v, axis=-1)
        if not np.allclose(totals, 1.0, rtol=0, atol=1e-8):
            raise ValueError(f"parameter array {k!r} does not have categoricals along its last axis "
                             f"(rows sum to {np.ravel(totals)[0]:.6g}): a categorical spanning several "
                             "arrays, like an HMM's trans + stop, needs a joint softmax, which gradient "
                             "ascent does not do")


def finite_difference_gradient(model: EMModel, data, eps: float = 1e-6, rng=None) -> dict[str, np.ndarray]:
    """``∂ log p(x) / ∂η`` by central differences, one logit at a time (an independent check of
    :func:`log_likelihood_and_gradient`; slow, for small models only). Entries with ``θ = 0`` get 0.
    ``rng`` (int seed or Generator) is handed to every E-step."""
    check_categorical_model("model", model, "finite_difference_gradient")
    eps = check_scalar("eps", eps, low=0, high=1, low_open=True)
    rng = as_generator(rng)
    prepared = prepare(model, data)
    eta = logits(model.params())
    grads = {k: np.zeros_like(v) for k, v in eta.items()}

    def value(eta_):
        m = with_params(model, {k: softmax(v) for k, v in eta_.items()})
        return m.e_step(prepared, "soft", rng).log_likelihood

    frozen = frozen_arrays(model)
    for k, arr in eta.items():
        if k in frozen:
            continue
        for idx in np.ndindex(arr.shape):
            if not np.isfinite(arr[idx]):
                continue
            plus = {j: v.copy() for j, v in eta.items()}
            minus = {j: v.copy() for j, v in eta.items()}
            plus[k][idx] += eps
            minus[k][idx] -= eps
            grads[k][idx] = (value(plus) - value(minus)) / (2 * eps)
    return grads


def gradient_ascent(model: EMModel, data, step: float = 1.0, max_iter: int = 200, tol: float = 1e-8,
                    backtrack: bool = True, keep_models: bool = False, rng=None) -> GradientResult:
    """Maximize ``log p(x)`` over softmax logits by gradient ascent (08).

    Each iteration: ``η ← η + s · ∇L / N`` where ``N`` is the largest total expected count of any
    parameter array (the data size, so ``step`` is scale-free). With ``backtrack`` (the default)
    ``s`` starts at ``step``; if ``L`` would drop, ``s`` is halved (up to 30 times), and after a
    successful step it is doubled for the next one — so, like EM, the run never decreases ``L``
    and the comparison with EM is about speed. Without ``backtrack`` every step has size ``step``
    and ``L`` may go down: gradient ascent needs a step size, EM does not. Stops when the relative
    change of ``L`` is below ``tol``. ``step`` is at most ``1e6`` (beyond that one step already puts
    every categorical on a vertex of its simplex).

    Returns a :class:`GradientResult`: the attributes of an :class:`emlab.em.EMResult`
    (``method="gradient"``) plus ``n_evaluations``, the number of E-steps (inference passes) used in
    all, and ``evaluations``, the cumulative count at each iterate — the fair unit against EM's one
    E-step per iteration. ``rng`` (int seed or Generator) is handed to every E-step.
    """
    check_categorical_model("model", model, "gradient ascent over softmax logits")
    step = check_scalar("step", step, low=0, high=1e6, low_open=True)
    max_iter = check_scalar("max_iter", max_iter, low=0, integer=True)
    tol = check_scalar("tol", tol, low=0)
    backtrack = check_bool("backtrack", backtrack)
    keep_models = check_bool("keep_models", keep_models)
    rng = as_generator(rng)
    prepared = prepare(model, data)
    current = model
    frozen = frozen_arrays(model)
    ll, grad, n = _value_gradient_size(current, prepared, rng, frozen)
    lls, changes, models = [ll], [], [current] if keep_models else []
    evaluations, at = 1, [1]
    s = float(step)
    converged = False
    for _ in range(max_iter):
        params = current.params()
        eta = logits(params)
        for _halving in range(31 if backtrack else 1):
            moved = {k: params[k] if k in frozen else softmax(v + s * grad[k] / n) for k, v in eta.items()}
            trial = with_params(current, moved)
            try:
                trial_ll, trial_grad = log_likelihood_and_gradient(trial, prepared, rng, frozen)
            except ValueError:  # the step drove a parameter the data need to 0: L = -inf
                if not backtrack:
                    raise ValueError(f"step={step!r} drove a parameter the data need to 0 (log p(x) = -inf): "
                                     "give a smaller step, or backtrack=True") from None
                trial_ll, trial_grad = -np.inf, None
            evaluations += 1
            if not backtrack or trial_ll >= ll - 1e-12 * max(1.0, abs(ll)):
                break
            s /= 2
        else:
            converged = True  # no step size improves L: a stationary point to working precision
            break
        changes.append(param_change(current.params(), trial.params()))
        converged = relative_change(ll, trial_ll) < tol
        current, ll, grad = trial, trial_ll, trial_grad
        lls.append(ll)
        at.append(evaluations)
        if keep_models:
            models.append(current)
        if backtrack:
            s = min(2 * s, 2.0**30 * step)   # grow again after a success, never to overflow
        if converged:
            break
    return GradientResult(model=current, log_likelihoods=lls, objectives=list(lls), param_changes=changes,
                          converged=converged, n_iter=len(changes), n_evaluations=evaluations,
                          evaluations=at, models=models)


def _value_gradient_size(model: EMModel, prepared, rng, frozen):
    """:func:`log_likelihood_and_gradient` plus the data size ``N``: the largest total expected
    count over the parameter arrays (the number of items for a mixture's weights, of tokens for
    emissions), from the same E-step."""
    params = model.params()
    _check_rowwise_categoricals(params)
    est = model.e_step(prepared, "soft", rng)
    grads = {k: (np.zeros_like(theta) if k in frozen else
                 est.counts[k] - est.counts[k].sum(axis=-1, keepdims=True) * theta)
             for k, theta in params.items()}
    size = max(float(np.sum(c)) for c in est.counts.values()) or 1.0
    return est.log_likelihood, grads, size
