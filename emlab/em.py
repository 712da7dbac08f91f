"""One EM loop and one E-step for every model (notebook 02, "the general form of EM").

A model plugs into :func:`fit` with four methods (the :class:`EMModel` protocol):

``model.prepare(data)``
    Validate and encode the data once (e.g. words to integer codes); raise
    ``ValueError`` for bad input. Returns whatever ``e_step`` takes.
``model.e_step(prepared, method, rng) -> EStep``
    Expected counts **in the same shapes as the parameters** (a dict of arrays), the marginal
    log-likelihood ``log p(x)`` of the data under *this* model and the objective ``method``
    improves. The models of emlab delegate to :func:`e_step` in one line.
``model.m_step(counts) -> model``
    The closed-form maximizer of the expected log-likelihood: for a product of
    categoricals, :func:`emlab.categorical.normalize` of each count array (notebook 01).
``model.params() -> dict[str, ndarray]``
    The parameter arrays, used to measure how far each iteration moved.

:func:`e_step` is the one place where the three E-steps differ. A model gives it hooks (the
:class:`EStepHooks` protocol): its ``batches`` of prepared data; a ``chart`` of a batch in a
semiring (:mod:`emlab.semiring`: the sum pass with ``SUM``, the max pass with ``MAX``), holding
``log_evidence``, one value per item (``log p(x)``, or ``max_y log p(x, y)`` on a ``MAX`` chart);
``posterior_counts`` from a sum chart (its adjoint pass); the ``best`` structures with their
``log p(x, y)`` (the back-trace over a max chart); ``sampled`` structures drawn from the posterior
(a backward sweep over a sum chart); ``structure_counts`` of given structures; and
``impossible_item`` to name an item of probability zero. Then each method runs one pass and one
sweep (issue 10's cost model: soft EM two passes plus counts, hard EM a max pass plus a
back-trace, stochastic EM a sum pass plus a sampling sweep):

====================  ==========  =====================================  =========================
``method``            chart       counts                                 objective
====================  ==========  =====================================  =========================
``"soft"``            ``SUM``     posterior expected counts              ``Σ log p(x)``
``"hard"``            ``MAX``     counts of the best structure           ``Σ max_y log p(x, y)``
``"stochastic"``      ``SUM``     counts of a structure drawn with rng   ``Σ log p(x)``
====================  ==========  =====================================  =========================

(for a plain model; a wrapper may change the objective, e.g. :class:`emlab.priors.MAP` adds the log
prior, while ``log_likelihood`` stays ``Σ log p(x)``). Data with probability zero raise
``ValueError`` naming the item (its posterior is undefined).

Hard EM does not need ``log p(x)``; its :class:`EStep` computes it (one sum pass) when its
``log_likelihood`` is first read, which :func:`fit` does at every iterate to record
``log_likelihoods``. A model whose chart serves both semirings (a mixture: ``K`` numbers per item)
has ``chart.semiring`` ``SUM`` and gives ``log p(x)`` at once.

The loop (notebook 02, Algorithm EM)::

    θ_0 → E-step → counts_0, L(θ_0) → M-step → θ_1 → E-step → counts_1, L(θ_1) → …

Soft EM never decreases ``L(θ) = log p(x; θ)`` (notebook 02, the bound
``L(θ) − L(θ_t) ≥ Q(θ|θ_t) − Q(θ_t|θ_t)``), hard EM never decreases its objective and MAP-EM
never decreases the log posterior (notebook 10): a decrease of the soft or hard *objective*
beyond ``1e-9`` relative is a bug, so :func:`fit` warns with :class:`LikelihoodDecreaseWarning`,
as hmmlearn's ``ConvergenceMonitor`` does.

Examples
--------
Do & Batzoglou's two coins (notebook 02): soft EM from θ_A = 0.6, θ_B = 0.5 reaches the paper's
θ_A ≈ 0.80, θ_B ≈ 0.52 and stops when the log-likelihood changes by less than ``tol`` (relative):

>>> from emlab import em, mixture
>>> X, start = mixture.two_coins_example()
>>> res = em.fit(start, X)
>>> [round(float(p), 2) for p in res.model.probs[:, 0]]
[0.8, 0.52]
>>> res.converged, res.n_iter, res.log_likelihoods[-1] > res.log_likelihoods[0]
(True, 11, True)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .semiring import MAX, SUM, Semiring
from .threads import one_blas_thread
from .validation import (
    as_generator,
    check_bool,
    check_count,
    check_model,
    check_positive_int,
    check_scalar,
    naming,
)

METHODS = ("soft", "hard", "stochastic")
STOPPING_RULES = ("objective", "params")

#: Relative slack before a drop in a monotone quantity counts as a decrease.
DECREASE_RTOL = 1e-9

#: The most runs :func:`restarts` makes in one call (each is a whole EM run).
MAX_RESTARTS = 10_000

#: The most iterations of a run that has no stopping rule and makes all of them
#: (:func:`emlab.stochastic.mcem`, :func:`emlab.stochastic.saem`, :func:`emlab.free_energy.trace`).
MAX_RUN = 100_000


class LikelihoodDecreaseWarning(UserWarning):
    """Soft or hard EM's objective went down (for a plain model soft EM's objective is the
    log-likelihood; for MAP-EM the log posterior): a bug detector."""


class NotConvergedWarning(UserWarning):
    """``fit`` reached ``max_iter`` before its stopping rule was met."""


class EStep:
    """What an E-step returns: expected counts (same shapes as the parameters), the
    marginal log-likelihood of the data and the objective of the method used.

    ``log_likelihood`` may be given as a function of no arguments: it is then computed when first
    read (hard EM's E-step runs the max pass only, so ``log p(x)`` costs a sum pass of its own,
    paid by whoever asks for it) and kept."""

    __slots__ = ("counts", "objective", "_log_likelihood")

    def __init__(self, counts: dict[str, np.ndarray], log_likelihood: float | Callable[[], float],
                 objective: float):
        self.counts, self.objective, self._log_likelihood = counts, objective, log_likelihood

    @property
    def log_likelihood(self) -> float:
        if callable(self._log_likelihood):
            self._log_likelihood = float(self._log_likelihood())
        return self._log_likelihood

    def __repr__(self) -> str:
        ll = "(not computed yet)" if callable(self._log_likelihood) else self._log_likelihood
        return f"EStep(counts={sorted(self.counts)}, log_likelihood={ll}, objective={self.objective})"


class EMModel(Protocol):
    def prepare(self, data) -> Any: ...
    def e_step(self, data, method: str, rng: np.random.Generator) -> EStep: ...
    def m_step(self, counts: dict[str, np.ndarray]) -> EMModel: ...
    def params(self) -> dict[str, np.ndarray]: ...


class EStepHooks(Protocol):
    """What a model gives :func:`e_step` (see the module docstring)."""

    def prepare(self, data) -> Any: ...   # validates data once; hands already prepared data back
    def batches(self, prepared) -> Iterable[Any]: ...
    def chart(self, batch, semiring: Semiring = SUM) -> Any: ...   # has .log_evidence, .semiring
    def posterior_counts(self, batch, chart) -> dict[str, np.ndarray]: ...
    def best(self, batch, chart) -> tuple[Any, np.ndarray]: ...   # structures, log p(x, y*)
    def sampled(self, batch, chart, rng: np.random.Generator) -> Any: ...
    def structure_counts(self, batch, structures) -> dict[str, np.ndarray]: ...
    def impossible_item(self, prepared, batch, i: int) -> str: ...


def _soft(model, batch, chart, rng):
    return model.posterior_counts(batch, chart), float(np.sum(chart.log_evidence))


def _hard(model, batch, chart, rng):
    structures, scores = model.best(batch, chart)
    return model.structure_counts(batch, structures), float(np.sum(scores))


def _stochastic(model, batch, chart, rng):
    return model.structure_counts(batch, model.sampled(batch, chart, rng)), float(np.sum(chart.log_evidence))


#: what each method collects from a batch, (counts, objective), and over which chart
_COLLECT = {"soft": (_soft, SUM), "hard": (_hard, MAX), "stochastic": (_stochastic, SUM)}


@one_blas_thread
def e_step(model: EStepHooks, prepared, method: str = "soft", rng=None) -> EStep:
    """The E-step of every model: for each batch, the chart of the method's semiring (the sum pass
    for soft and stochastic EM, the max pass for hard EM) and its ``log_evidence``; items of
    probability zero refused by name; then the counts ``method`` collects (see the module
    docstring), summed over the batches.

    An item has probability zero exactly when its chart value is zero in either semiring
    (``p(x) = Σ_y p(x, y)`` and ``max_y p(x, y)`` are zero together), so the refusal is the same.
    On a ``MAX`` chart ``log_evidence`` is ``max_y log p(x, y)``, not ``log p(x)``: hard EM's
    ``log_likelihood`` is then computed by a sum pass when first read (:class:`EStep`)."""
    collect, semiring = _COLLECT[check_method(method)]
    check_model("model", model, "prepare", "batches", "chart", "impossible_item")
    prepared = prepare(model, prepared, "prepared")
    if rng is not None or collect is _stochastic:   # (a fresh generator costs an OS entropy read)
        rng = as_generator(rng)
    total: dict[str, np.ndarray] | None = None
    ll = objective = 0.0
    marginal = True                                 # every chart so far gave log p(x)
    for batch in model.batches(prepared):
        chart = model.chart(batch, semiring)
        logp = np.asarray(chart.log_evidence)
        bad = np.flatnonzero(~np.isfinite(logp))
        if bad.size:
            item = model.impossible_item(prepared, batch, int(bad[0]))
            raise ValueError(f"{item}, so its expected counts are undefined (the E-step needs p(x) > 0)")
        counts, score = collect(model, batch, chart, rng)
        marginal = marginal and getattr(chart, "semiring", SUM) is SUM
        ll += float(logp.sum())
        objective += score
        if total is None:
            total = {k: np.array(v, dtype=float) for k, v in counts.items()}
        else:
            for k in total:
                total[k] += counts[k]
    return EStep(counts=total, log_likelihood=ll if marginal else _log_evidence(model, prepared),
                 objective=objective)


def _log_evidence(model: EStepHooks, prepared) -> Callable[[], float]:
    """``Σ log p(x)`` over the data by the sum pass, as a function to call later."""
    @one_blas_thread
    def total() -> float:
        return float(sum(np.sum(model.chart(batch, SUM).log_evidence) for batch in model.batches(prepared)))
    return total


@dataclass
class EMResult:
    """The outcome of :func:`fit`.

    Attributes
    ----------
    model : the fitted model (same type as the input model).
    log_likelihoods : list of float, ``log p(data)`` at iterates ``0..n_iter``
        (index 0 is the initial model).
    objectives : list of float, what the method improves at each iterate; for a plain model
        soft: the log-likelihoods; hard: ``Σ max_y log p(x, y)``; stochastic: log-likelihoods
        (:class:`emlab.priors.MAP` adds the log prior to each).
    param_changes : list of float, largest absolute change of any parameter at each
        iteration (length ``n_iter``).
    converged : bool, whether the stopping rule was met before ``max_iter``.
    n_iter : int, number of M-steps taken.
    method : str.
    models : list, every iterate's model when ``fit(..., keep_models=True)``, else empty.
    """

    model: Any
    log_likelihoods: list[float]
    objectives: list[float]
    param_changes: list[float]
    converged: bool
    n_iter: int
    method: str
    models: list = field(default_factory=list, repr=False)

    @property
    def log_likelihood(self) -> float:
        """The final log-likelihood."""
        return self.log_likelihoods[-1]


def param_change(old: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> float:
    """Largest absolute difference between corresponding parameter arrays (two ``model.params()``)."""
    for name, value in (("old", old), ("new", new)):
        if not (isinstance(value, dict) and value):
            raise TypeError(f"{name} must be a non-empty dict of parameter arrays (model.params()), "
                            f"got {type(value).__name__}")
    if set(old) != set(new):
        raise ValueError(f"old and new must have the same keys, got {sorted(old)} and {sorted(new)}")
    for k in old:
        if np.shape(old[k]) != np.shape(new[k]):
            raise ValueError(f"old[{k!r}] and new[{k!r}] differ in shape: {np.shape(old[k])} and "
                             f"{np.shape(new[k])}")
    return max((float(np.max(np.abs(new[k] - old[k]))) if old[k].size else 0.0) for k in old)


def relative_change(old: float, new: float) -> float:
    """``|new − old| / |old|`` (absolute change when ``old`` is 0)."""
    old, new = check_scalar("old", old), check_scalar("new", new)
    scale = abs(old) if old != 0 else 1.0
    return abs(new - old) / scale


def check_method(method) -> str:
    """``method`` if it is one of :data:`METHODS`, else a ``ValueError`` naming the choices."""
    if not (isinstance(method, str) and method in METHODS):
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def prepare(model, data, name: str = "data"):
    """``model.prepare(data)``: the data validated once, for every E-step to come. A mistake in it is
    reported under ``name``, the caller's name for the argument (``data`` in :func:`fit`), whatever
    the model's own check calls it (``X``, ``sequence 0``, ``the corpus``)."""
    check_model("model", model, "prepare")
    with naming(name):
        return model.prepare(data)


def steps(model: EMModel, data, method: str = "soft", rng=None) -> Iterator[tuple[Any, EStep]]:
    """Run EM forever, yielding ``(model_t, estep_t)`` for t = 0, 1, 2, …

    ``estep_t`` is the E-step *of* ``model_t``: its counts give ``model_{t+1}`` and its
    log-likelihood is ``L(θ_t)``. This is the one loop in emlab; :func:`fit` and the
    notebooks' step-by-step widgets consume it.
    """
    check_model("model", model, "prepare", "e_step", "m_step", "params")
    check_method(method)
    rng = as_generator(rng)
    prepared = prepare(model, data)
    while True:
        estep = model.e_step(prepared, method, rng)
        yield model, estep
        model = model.m_step(estep.counts)


def fit(model: EMModel, data, method: str = "soft", max_iter: int = 100, tol: float = 1e-8,
        rng=None, stop: str = "objective", keep_models: bool = False) -> EMResult:
    """Expectation Maximization from ``model`` on ``data``.

    Parameters
    ----------
    model : an ``hmm.HMM``, ``pcfg.PCFG`` or mixture model (anything with the
        :class:`EMModel` methods).
    data : what the model's ``prepare`` accepts (a corpus of sequences, of sentences, a count matrix…).
    method : ``"soft"`` | ``"hard"`` | ``"stochastic"``.
    max_iter : the largest number of M-steps.
    tol : stopping threshold. With ``stop="objective"`` EM stops when the relative change
        of the objective is below ``tol``; with ``stop="params"`` when no parameter moved
        more than ``tol`` (notebook 05 compares the two rules).
    rng : int seed or ``numpy.random.Generator``; used by stochastic E-steps.
    keep_models : keep every iterate's model in ``result.models``.

    Returns
    -------
    EMResult

    Examples
    --------
    >>> from emlab import mixture
    >>> X, start = mixture.two_coins_example()        # Do & Batzoglou's two coins (notebook 02)
    >>> res = fit(start, X, max_iter=100, tol=1e-8)
    >>> [round(float(p), 2) for p in res.model.probs[:, 0]], res.converged
    ([0.8, 0.52], True)

    Warns
    -----
    LikelihoodDecreaseWarning
        when soft or hard EM's objective (for a plain soft model: the log-likelihood) decreases
        by more than ``1e-9`` relative (the theorem says it cannot: something is wrong).
    """
    check_model("model", model, "prepare", "e_step", "m_step", "params")
    check_method(method)
    keep_models = check_bool("keep_models", keep_models)
    if not (isinstance(stop, str) and stop in STOPPING_RULES):
        raise ValueError(f"stop must be one of {STOPPING_RULES}, got {stop!r}")
    max_iter = check_count("max_iter", max_iter)
    try:
        tol = check_scalar("tol", tol, low=0)
    except ValueError:
        raise ValueError(f"tol must be a non-negative number, got {tol!r}") from None

    lls: list[float] = []
    objectives: list[float] = []
    changes: list[float] = []
    models: list = []
    converged = False
    previous = None
    for t, (current, estep) in enumerate(steps(model, data, method, rng)):
        lls.append(estep.log_likelihood)
        objectives.append(estep.objective)
        if keep_models:
            models.append(current)
        if previous is not None:
            changes.append(param_change(previous.params(), current.params()))
            _warn_if_decreased(method, objectives)
            if stop == "objective":
                converged = relative_change(objectives[-2], objectives[-1]) < tol
            else:
                converged = changes[-1] < tol
        if converged or t == max_iter:
            break
        previous = current
    if not converged and max_iter > 0:
        warnings.warn(f"EM did not converge in {max_iter} iterations (method={method!r})",
                      NotConvergedWarning, stacklevel=2)
    return EMResult(model=current, log_likelihoods=lls, objectives=objectives,
                    param_changes=changes, converged=converged, n_iter=len(changes),
                    method=method, models=models)


def _warn_if_decreased(method: str, objectives: list[float]) -> None:
    """Warn when soft or hard EM's objective went down (stochastic EM may: it is not watched).
    For a plain model soft EM's objective *is* the log-likelihood; for a wrapper such as
    :class:`emlab.priors.MAP` it is what the wrapper's theorem makes monotone (the log posterior),
    while the log-likelihood itself may fall."""
    if method not in ("soft", "hard"):
        return
    old, new = objectives[-2], objectives[-1]
    if new < old - DECREASE_RTOL * max(abs(old), 1.0):
        name = "objective" if method == "soft" else "hard-EM objective"
        warnings.warn(f"{method} EM's {name} decreased from {old!r} to {new!r} at iteration "
                      f"{len(objectives) - 1}: EM can never do that, so this is a bug",
                      LikelihoodDecreaseWarning, stacklevel=3)


def restarts(init: Callable[[np.random.Generator], EMModel], data, n: int = 10,
             method: str = "soft", rng=None, progress: bool = True, **fit_kwargs) -> list[EMResult]:
    """Run EM from ``n`` initializations and return every result, best first.

    ``init(rng)`` builds a starting model from a generator. Each run gets its own
    independent child generator spawned from ``rng`` (used both by ``init`` and by the
    run's stochastic E-steps), so the same seed reproduces every run, and run ``i`` does not
    depend on how many runs there are. Results are sorted by final log-likelihood,
    highest first. A ``tqdm.auto`` progress bar shows when ``progress`` is true. ``n`` is at most
    :data:`MAX_RESTARTS`.
    """
    from tqdm.auto import tqdm

    if not callable(init):
        raise TypeError(f"init must be a function rng -> starting model, got {type(init).__name__}")
    n = check_positive_int("n", n, high=MAX_RESTARTS)
    progress = check_bool("progress", progress)
    check_method(method)
    children = as_generator(rng).spawn(n)
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        for child in tqdm(children, desc=f"{method} EM restarts", disable=not progress):
            start = init(child)
            results.append(fit(start, data, method=method, rng=child, **fit_kwargs))
    order = sorted(range(n), key=lambda i: -results[i].log_likelihood)
    return [results[i] for i in order]
