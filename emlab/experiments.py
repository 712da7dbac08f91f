"""Experiments over the one EM loop (notebooks 05, 06 and 07).

Everything here works through the :mod:`emlab.em` protocol, so it runs unchanged on
mixtures, HMMs and PCFGs:

- :func:`run_restarts` — many random restarts (``em.restarts`` with a ``tqdm.auto`` bar),
  their final log-likelihoods and padded convergence traces (06, Q3: "global or local optimum?");
- :func:`jitter` and :func:`state_spread` — the uniform start is a symmetric fixed point that
  EM never leaves (every hidden state stays identical: a saddle), and a tiny multiplicative
  jitter escapes it (06);
- :func:`hmm_init`, :func:`mixture_init` — initialization strategies for an HMM or a mixture:
  ``"random"``, ``"uniform"``, ``"jitter"`` (uniform plus a tiny perturbation) and ``"informed"``
  (the supervised MLE from a few labelled examples, notebook 01's ``c(y', y) / c(y')`` and
  ``c(y, x) / c(y)``) (06);
- :func:`align_states`, :func:`match_rows`, :func:`permute_hmm` — learned hidden states are
  only defined up to a permutation; the Hungarian algorithm
  (``scipy.optimize.linear_sum_assignment``) finds the relabelling that agrees best with the
  truth (06);
- :func:`compare_methods` and :func:`likelihood_drops` — hard, soft and stochastic EM side by
  side with their timings and final scores, and the iterations at which hard EM *lowers*
  ``log p(x)`` while raising its own objective ``Σ max_y log p(x, y)`` (07, Q2).

All randomness goes through an ``rng`` argument (int seed or ``numpy.random.Generator``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from . import em
from .metrics import Alignment, align_states, confusion_matrix
from .validation import (
    as_generator,
    check_bool,
    check_labels,
    check_model,
    check_numbers,
    check_positive_int,
    check_scalar,
    check_sequence,
)

__all__ = [
    "RestartRuns", "run_restarts", "pad_traces",
    "jitter", "state_spread",
    "INIT_STRATEGIES", "hmm_init", "mixture_init",
    "Alignment", "confusion_matrix", "align_states", "match_rows", "permute_hmm",
    "MethodRun", "compare_methods", "likelihood_drops",
]


# ----------------------------------------------------------------------------------------------
# Restarts and convergence traces
# ----------------------------------------------------------------------------------------------

def pad_traces(traces: Sequence[Sequence[float]]) -> np.ndarray:
    """Stack traces of different lengths into an ``(n_runs, max_len)`` array, holding each run's
    last value after it stopped (a converged run stays where it converged)."""
    check_sequence("traces", traces, "a list of 1-D sequences of numbers")
    if len(traces) == 0:
        raise ValueError("traces is empty: give at least one trace")
    rows = [check_numbers(f"traces[{i}]", t, ndim=1) for i, t in enumerate(traces)]
    for i, t in enumerate(rows):
        if t.size == 0:
            raise ValueError(f"traces[{i}] is empty")
    out = np.empty((len(rows), max(t.size for t in rows)))
    for i, t in enumerate(rows):
        out[i, :t.size] = t
        out[i, t.size:] = t[-1]
    return out


@dataclass
class RestartRuns:
    """The runs of :func:`run_restarts`, best first.

    Attributes
    ----------
    results : list of ``em.EMResult``, sorted by final log-likelihood, highest first.
    final : ndarray, the final log-likelihood of each run (same order).
    traces : ndarray ``(n_runs, max_iter + 1)``, each run's log-likelihood per iteration,
        padded with its last value (:func:`pad_traces`).
    """

    results: list
    final: np.ndarray
    traces: np.ndarray

    @property
    def best(self):
        """The result with the highest final log-likelihood."""
        return self.results[0]

    def n_optima(self, tol: float = 1e-3) -> int:
        """How many distinct final values (clusters of runs within ``tol`` relative of each other)."""
        tol = check_scalar("tol", tol, low=0, high=1)
        values = np.sort(self.final)[::-1]
        gaps = np.abs(np.diff(values)) > tol * np.maximum(np.abs(values[1:]), 1.0)
        return int(1 + gaps.sum())

    def share_at_best(self, tol: float = 1e-3) -> float:
        """The fraction of runs that reached the best final value (within ``tol`` relative)."""
        tol = check_scalar("tol", tol, low=0, high=1)
        best = self.final[0]
        return float(np.mean(np.abs(self.final - best) <= tol * max(abs(best), 1.0)))


def run_restarts(init: Callable[[np.random.Generator], object], data, n: int = 20,
                 method: str = "soft", rng=None, progress: bool = True, **fit_kwargs) -> RestartRuns:
    """Run EM from ``n`` initial models ``init(child_rng)`` (see :func:`emlab.em.restarts`, whose
    seeding it keeps: run ``i`` depends only on ``rng`` and ``i``) and collect the final
    log-likelihoods and convergence traces. Notebook 06 draws ``final`` as a histogram."""
    if not callable(init):
        raise TypeError(f"init must be a function rng -> model, got {type(init).__name__}")
    results = em.restarts(init, data, n=n, method=method, rng=rng, progress=progress, **fit_kwargs)
    final = np.array([r.log_likelihood for r in results])
    return RestartRuns(results=results, final=final, traces=pad_traces([r.log_likelihoods for r in results]))


# ----------------------------------------------------------------------------------------------
# The symmetric (uniform) start: a fixed point, and a jitter that leaves it
# ----------------------------------------------------------------------------------------------

#: The largest ``scale`` :func:`jitter` accepts.
MAX_JITTER = 10.0


def jitter(model, scale: float = 1e-3, rng=None):
    """A copy of ``model`` whose every categorical is perturbed multiplicatively:
    ``θ_k ∝ θ_k · exp(scale · ε_k)``, ``ε_k ~ N(0, 1)``, renormalized by the model's own M-step
    (``model.m_step`` applied to the perturbed parameters as if they were counts).

    Zeros stay zero (the model's structure is kept) and each categorical still sums to one.
    Meant for products of categoricals (mixtures of categoricals, HMMs, PCFGs), whose M-step
    normalizes counts. ``scale`` is at most :data:`MAX_JITTER` = 10: a factor ``exp(10 ε)`` already
    spans dozens of orders of magnitude, so every categorical is a random spike (draw a random
    model instead, e.g. ``HMM.random``); larger scales would overflow.
    """
    check_model("model", model, "params", "m_step")
    scale = check_scalar("scale", scale, low=0, high=MAX_JITTER)
    gen = as_generator(rng)
    params = {name: check_numbers(f"parameter {name!r}", p) for name, p in model.params().items()}
    for name, p in params.items():
        if np.any(p < 0):
            raise ValueError(f"jitter needs a product of categoricals; {type(model).__name__}'s parameter "
                             f"{name!r} has negative entries")
    noisy = {name: p * np.exp(scale * gen.standard_normal(p.shape)) for name, p in params.items()}
    try:
        return model.m_step(noisy)
    except (KeyError, ValueError) as missing:    # (an M-step names the count array it lacks)
        raise ValueError(f"jitter needs a product of categoricals whose M-step normalizes its parameters; "
                         f"{type(model).__name__}'s M-step wants statistics it does not expose "
                         f"({missing})") from None


def state_spread(model) -> float:
    """How far the hidden states of an HMM or a mixture are from being interchangeable: the
    largest change of any parameter when two states ``i`` and ``j`` swap labels (over all pairs).

    Axis 0 of every parameter array indexes states (``start``, ``emit``, ``stop``; ``weights``,
    ``probs``, ``means``); an HMM's ``trans`` is relabelled on both axes. The spread is 0 exactly
    when every relabelling leaves the model unchanged: the symmetric point of notebook 06, where
    all states see the same posteriors and so get the same expected counts forever.
    """
    params = {name: check_numbers(f"parameter {name!r}", p)
              for name, p in check_model("model", model, "params").params().items()}
    sizes = {p.shape[0] for p in params.values() if p.ndim >= 1}
    if "trans" in params and params["trans"].shape[:2] != (params["trans"].shape[0],) * 2:
        raise ValueError(f"trans must be square (states x states), got shape {params['trans'].shape}")
    if len(sizes) != 1:
        raise ValueError(f"the parameter arrays disagree on the number of states (axis 0 lengths {sizes})")
    k = sizes.pop()
    spread = 0.0
    for i in range(k):
        for j in range(i + 1, k):
            perm = np.arange(k)
            perm[[i, j]] = [j, i]
            for name, a in params.items():
                b = a[perm][:, perm] if name == "trans" else a[perm]
                spread = max(spread, float(np.max(np.abs(a - b))))
    return spread


# ----------------------------------------------------------------------------------------------
# Initialization strategies for an HMM
# ----------------------------------------------------------------------------------------------

INIT_STRATEGIES = ("random", "uniform", "jitter", "informed")


def _check_kind(kind: str) -> None:
    if not isinstance(kind, str) or kind not in INIT_STRATEGIES:
        raise ValueError(f"kind must be one of {INIT_STRATEGIES}, got {kind!r}")


def hmm_init(kind: str, K: int, V: int, *, stop: bool = False, concentration: float = 1.0,
             scale: float = 1e-3, labelled=None, smoothing: float = 1.0) -> Callable:
    """An ``init(rng) -> hmm.HMM`` for :func:`run_restarts` / ``em.restarts``, by strategy (notebook 06):

    ``"random"``
        every categorical drawn from a symmetric Dirichlet(``concentration``) (``HMM.random``);
    ``"uniform"``
        every categorical uniform: all states identical, the symmetric fixed point of Baum-Welch
        (``HMM.uniform``; the same model whatever ``rng``);
    ``"jitter"``
        the uniform model pushed off the symmetric point by :func:`jitter` of size ``scale``;
    ``"informed"``
        the supervised MLE from ``labelled = (sequences, states)``, a few hand-labelled
        sequences, with ``smoothing`` pseudo-counts (``HMM.informed``; the same model whatever ``rng``).
    """
    from .hmm import HMM

    _check_kind(kind)
    K, V = check_positive_int("K", K), check_positive_int("V", V)
    stop = check_bool("stop", stop)
    concentration = check_scalar("concentration", concentration, low=0, low_open=True)
    scale = check_scalar("scale", scale, low=0, high=MAX_JITTER)
    smoothing = check_scalar("smoothing", smoothing, low=0)
    if kind == "informed" and not (isinstance(labelled, (list, tuple)) and len(labelled) == 2):
        raise ValueError("the informed strategy needs labelled=(sequences, states): a few labelled sequences")

    def init(rng):
        if kind == "random":
            return HMM.random(K, V, rng=rng, stop=stop, concentration=concentration)
        if kind == "uniform":
            return HMM.uniform(K, V, stop=stop)
        if kind == "jitter":
            return jitter(HMM.uniform(K, V, stop=stop), scale=scale, rng=rng)
        return HMM.informed(labelled[0], labelled[1], K, V, smoothing=smoothing, stop=stop)

    init(as_generator(0))  # validate the options now, not inside a loop of restarts
    return init


def mixture_init(kind: str, K: int, V: int, *, scale: float = 1e-3, labelled=None, smoothing: float = 1.0,
                 learn_weights: bool = True) -> Callable:
    """An ``init(rng) -> mixture.CategoricalMixture``, with the strategies of :func:`hmm_init`.
    ``"informed"`` takes ``labelled = (X, z)``: a few count vectors ``X`` (n, V) with their
    components ``z`` (n,), and starts from ``π ∝ c(z) + s``, ``θ_k ∝ Σ_{n: z_n = k} x_n + s``."""
    from .mixture import CategoricalMixture

    _check_kind(kind)
    K, V = check_positive_int("K", K), check_positive_int("V", V)
    learn_weights = check_bool("learn_weights", learn_weights)
    scale = check_scalar("scale", scale, low=0, high=MAX_JITTER)
    smoothing = check_scalar("smoothing", smoothing, low=0)
    if kind == "informed":
        if not (isinstance(labelled, (list, tuple)) and len(labelled) == 2):
            raise ValueError("the informed strategy needs labelled=(X, z): a few labelled count vectors")
        base = CategoricalMixture.uniform(K, V, learn_weights=learn_weights)
        X = base.prepare(labelled[0])
        z = check_labels("z", labelled[1])
        if z.size != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} items but z has {z.size} labels")
        if z.max() >= K:
            raise ValueError(f"z holds component {int(z.max())}, outside 0..{K - 1}")
        onehot = np.eye(K)[z]
        informed = base.m_step({"weights": onehot.sum(axis=0) + smoothing, "probs": onehot.T @ X + smoothing})
        if not learn_weights:
            informed = CategoricalMixture(base.weights, informed.probs, learn_weights=False)

    def init(rng):
        if kind == "random":
            return CategoricalMixture.random(K, V, rng=rng, learn_weights=learn_weights)
        if kind == "uniform":
            return CategoricalMixture.uniform(K, V, learn_weights=learn_weights)
        if kind == "jitter":
            return jitter(CategoricalMixture.uniform(K, V, learn_weights=learn_weights), scale=scale, rng=rng)
        return informed

    init(as_generator(0))
    return init


# ----------------------------------------------------------------------------------------------
# States are learned up to a permutation
# ----------------------------------------------------------------------------------------------

def match_rows(true_rows, learned_rows) -> tuple[np.ndarray, float]:
    """The permutation ``perm`` making ``learned_rows[perm]`` closest to ``true_rows`` (least
    total L1 distance between matched rows, Hungarian algorithm), and the largest absolute
    difference left after matching. Rows are per-state parameters, e.g. an HMM's ``emit``."""
    a = check_numbers("true_rows", true_rows, ndim=2)
    b = check_numbers("learned_rows", learned_rows, ndim=2)
    if a.shape != b.shape:
        raise ValueError(f"true_rows shape {a.shape} does not match learned_rows shape {b.shape}")
    if a.size == 0:
        raise ValueError(f"true_rows and learned_rows are empty (shape {a.shape}): give one row per state")
    cost = np.abs(a[:, None, :] - b[None, :, :]).sum(axis=-1)
    _, perm = linear_sum_assignment(cost)
    return perm, float(np.max(np.abs(a - b[perm])))


def permute_hmm(model, perm):
    """The same HMM with its states renamed: new state ``i`` is old state ``perm[i]``
    (so ``permute_hmm(learned, match_rows(true.emit, learned.emit)[0])`` lines up with ``true``).
    The distribution over observations is unchanged."""
    from . import hmm

    if not isinstance(model, hmm.HMM):
        raise TypeError(f"model must be an emlab.hmm.HMM, got {type(model).__name__}")
    k = model.start.shape[0]
    if perm is None or isinstance(perm, (str, bytes, dict, set)):
        raise TypeError(f"perm must be a permutation of the integers 0..{k - 1}, got {type(perm).__name__}")
    p = np.asarray(perm)
    if p.shape != (k,) or not np.issubdtype(p.dtype, np.integer) or sorted(p.tolist()) != list(range(k)):
        raise ValueError(f"perm must be a permutation of the integers 0..{k - 1} (one per state), "
                         f"got {p.tolist()}")
    stop = None if model.stop is None else model.stop[p]
    return hmm.HMM(model.start[p], model.trans[np.ix_(p, p)], model.emit[p], stop)


# ----------------------------------------------------------------------------------------------
# Hard, soft and stochastic EM side by side
# ----------------------------------------------------------------------------------------------

@dataclass
class MethodRun:
    """One method's run in :func:`compare_methods`."""

    method: str
    seconds: float
    n_iter: int
    log_likelihood: float       # final log p(x)
    best_log_likelihood: float  # highest log p(x) seen (stochastic EM wanders)
    objective: float            # final value of the method's own objective
    converged: bool
    result: em.EMResult


def compare_methods(model, data, methods: Sequence[str] = ("hard", "soft", "stochastic"),
                    max_iter: int = 50, tol: float = 1e-6, rng=None, progress: bool = False,
                    **fit_kwargs) -> list[MethodRun]:
    """Run ``em.fit`` from the same starting ``model`` with each method; time each run
    (wall clock, ``time.perf_counter``) and report the final and best ``log p(x)``. Each method
    gets its own child generator spawned from ``rng``. Notebook 07's speed-vs-quality table.

    Hard and soft EM stop when the relative change of their objective is below ``tol``.
    Stochastic EM's parameters keep fluctuating (a new sample every iteration), so a small
    change means nothing: it always runs ``max_iter`` iterations (``tol=0``).
    """
    from tqdm.auto import tqdm

    if isinstance(methods, (str, bytes)) or not isinstance(methods, Sequence):
        raise TypeError(f"methods must be a sequence of method names such as ('hard', 'soft'), "
                        f"got {type(methods).__name__} {methods!r}")
    if len(methods) == 0:
        raise ValueError(f"methods is empty: give some of {em.METHODS}")
    for m in methods:
        if not isinstance(m, str) or m not in em.METHODS:
            raise ValueError(f"methods: each method must be one of {em.METHODS}, got {m!r}")
    max_iter = check_scalar("max_iter", max_iter, low=0, integer=True)
    tol = check_scalar("tol", tol, low=0)
    progress = check_bool("progress", progress)
    children = as_generator(rng).spawn(len(methods))
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        for method, child in tqdm(list(zip(methods, children, strict=True)), desc="EM methods",
                                  disable=not progress):
            t0 = time.perf_counter()
            run_tol = 0.0 if method == "stochastic" else tol
            res = em.fit(model, data, method=method, max_iter=max_iter, tol=run_tol, rng=child, **fit_kwargs)
            seconds = time.perf_counter() - t0
            runs.append(MethodRun(method=method, seconds=seconds, n_iter=res.n_iter,
                                  log_likelihood=res.log_likelihood,
                                  best_log_likelihood=float(np.max(res.log_likelihoods)),
                                  objective=res.objectives[-1], converged=res.converged, result=res))
    return runs


def likelihood_drops(result, tol: float = 1e-9) -> np.ndarray:
    """Iterations ``t`` at which ``log p(x)`` went down (``L_t < L_{t-1}`` by more than ``tol``
    relative) while the run's own objective did not (``O_t ≥ O_{t-1}``). For hard EM these are
    the steps where improving ``Σ max_y log p(x, y)`` cost marginal likelihood (notebook 07)."""
    tol = check_scalar("tol", tol, low=0, high=1)
    if not (hasattr(result, "log_likelihoods") and hasattr(result, "objectives")):
        raise TypeError(f"result must be an em.EMResult (with log_likelihoods and objectives), "
                        f"got {type(result).__name__}")
    ll = check_numbers("result.log_likelihoods", result.log_likelihoods, ndim=1)
    obj = check_numbers("result.objectives", result.objectives, ndim=1)
    if ll.shape != obj.shape:
        raise ValueError(f"result has {ll.size} log-likelihoods but {obj.size} objectives")
    if ll.size < 2:
        return np.zeros(0, dtype=np.intp)
    scale = np.maximum(np.abs(ll[:-1]), 1.0)
    down = ll[1:] < ll[:-1] - tol * scale
    kept = obj[1:] >= obj[:-1] - tol * np.maximum(np.abs(obj[:-1]), 1.0)
    return np.flatnonzero(down & kept) + 1
