"""The free energy: one view of every EM variant (notebook 09; Neal & Hinton 1998).

For data ``x``, hidden structures ``y`` and any distribution ``q(y)`` over them, the **free energy**
(the evidence lower bound) is

    F(q, θ) = E_q[log p(x, y | θ)] + H(q)
            = L(θ) − KL(q ‖ p(y | x, θ)),          L(θ) = log p(x | θ),

so ``F ≤ L`` with equality exactly when ``q`` is the posterior (Gibbs' inequality). EM is
**coordinate ascent on F** (Neal & Hinton 1998, *A view of the EM algorithm that justifies
incremental, sparse, and other variants*, in M. I. Jordan (ed.), *Learning in Graphical Models*,
Kluwer, 355–368; their Lemmas 1–2):

- E-step: ``q_t = argmax_q F(q, θ_t) = p(y | x, θ_t)``; the gap ``L − F = KL`` becomes 0;
- M-step: ``θ_{t+1} = argmax_θ F(q_t, θ) = argmax_θ E_{q_t} log p(x, y | θ)`` (H(q_t) does not depend
  on θ), the closed-form MLE of expected counts (notebook 01).

Restricting ``q`` gives the variants: point masses ``q = δ_y`` (``H = 0``, ``F = log p(x, y | θ)``,
so the best point mass is the Viterbi structure and coordinate ascent over point masses is **hard
EM**, which therefore maximizes ``max_y log p(x, y | θ)``). A point mass at a *sampled* ``y`` is
**stochastic EM**; it is *not* coordinate ascent on F (the sampled point mass does not maximize
``F(·, θ)``, so F can fall at the E-step): its counts are an unbiased estimate of the expected
counts and the iterates form a Markov chain (:mod:`emlab.stochastic`). The empirical distribution of
``m`` samples is Monte Carlo EM.

Two ways to compute the quantities, checked against each other in ``tests/test_free_energy.py``:

1. **Brute force** on tiny inputs: :func:`enumerate_paths` (every state path of an HMM) and
   :func:`enumerate_trees` (every parse tree of a PCFG) list ``log p(x, y)`` for every ``y``
   directly from the parameters, without a dynamic program; then :func:`free_energy`,
   :func:`entropy`, :func:`kl` and :func:`gap` work on any ``q`` given as a vector over that list.
2. **Through the model's E-step**, for any product of categoricals (HMM, PCFG, categorical
   mixture) and inputs of any size. For such a model ``log p(x, y | θ) = Σ_k c_k(x, y) log θ_k``,
   so ``E_q log p(x, y | θ) = Σ_k E_q[c_k] log θ_k`` needs only the expected counts of ``q``
   (:func:`expected_log_joint`); and at the posterior ``q_t`` of ``θ_t`` the gap is 0, so
   ``H(q_t) = L(θ_t) − E_{q_t} log p(x, y | θ_t)``. :func:`q_of` packs a ``q`` (posterior, Viterbi
   point mass or sampled point mass) as its counts and entropy, :func:`free_energy_at` evaluates
   ``F(q, θ)`` for any model ``θ`` and :func:`trace` records F along EM's half-steps.

Natural logs throughout; ``0 log 0 = 0``.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from . import em
from .validation import (
    as_generator,
    check_array,
    check_categorical_model,
    check_numbers,
    check_positive_int,
    check_sequence,
)

__all__ = [
    "Enumeration", "enumerate_paths", "enumerate_trees", "posterior", "entropy", "free_energy", "kl",
    "gap", "log_evidence", "expected_log_joint", "QSummary", "q_of", "free_energy_at", "trace",
    "FreeEnergyTrace",
]

#: Largest number of structures the brute-force enumerations will list.
ENUMERATION_LIMIT = 200_000


# ====================================================================== brute force
class Enumeration(NamedTuple):
    """Every hidden structure of one input and its ``log p(x, y | θ)``: ``structures[i]`` (a state
    path as a tuple, or a tree) has joint log-probability ``log_joint[i]``."""

    structures: list
    log_joint: np.ndarray


def _log(p) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(p, dtype=float))


def enumerate_paths(m, seq, limit: int = ENUMERATION_LIMIT) -> Enumeration:
    """All ``K^T`` state paths of an :class:`emlab.hmm.HMM` for one sequence, with
    ``log p(x, y) = log start[y_1] + Σ log q(y_i | y_{i−1}) + Σ log e(x_i | y_i) [+ log stop[y_T]]``
    computed term by term from the arrays (no forward pass). ``ValueError`` if ``K^T > limit``.
    """
    if not all(hasattr(m, a) for a in ("start", "trans", "emit", "stop", "K", "V")):
        raise TypeError(f"m must be an hmm.HMM, got {type(m).__name__}")
    limit = check_positive_int("limit", limit)
    x = np.asarray(seq)
    if x.ndim != 1 or x.size == 0 or x.dtype.kind not in "iu":
        raise ValueError(f"seq must be a non-empty 1-D sequence of integer symbols, got {seq!r}")
    if x.min() < 0 or x.max() >= m.V:
        raise ValueError(f"seq has a symbol outside range({m.V})")
    K, T = m.K, x.size
    if K ** T > limit:
        raise ValueError(f"seq: {K}^{T} = {K ** T} state paths exceed limit={limit}; use a shorter sequence")
    paths = np.array(list(itertools.product(range(K), repeat=T)), dtype=np.intp)
    lj = _log(m.start)[paths[:, 0]] + _log(m.emit)[paths, x].sum(axis=1)
    if T > 1:
        lj = lj + _log(m.trans)[paths[:, :-1], paths[:, 1:]].sum(axis=1)
    if m.stop is not None:
        lj = lj + _log(m.stop)[paths[:, -1]]
    return Enumeration([tuple(int(s) for s in p) for p in paths], lj)


def enumerate_trees(g, sentence, limit: int = ENUMERATION_LIMIT) -> Enumeration:
    """Every parse tree of one sentence under a CNF :class:`emlab.pcfg.PCFG` whose rules all have
    positive probability, rooted at the start symbol, with ``log p(x, t) = Σ log q(rule)`` summed
    over the tree's rules from the grammar's arrays (no inside pass). Trees are nested tuples
    ``(label, word)`` / ``(label, left, right)``. ``ValueError`` beyond ``limit`` trees."""
    if not all(hasattr(g, a) for a in ("nonterminals", "words", "binary", "lexical", "start")):
        raise TypeError(f"g must be a pcfg.PCFG, got {type(g).__name__}")
    limit = check_positive_int("limit", limit)
    if not isinstance(sentence, str):
        check_sequence("sentence", sentence, "a list of words (or one string)")
    words = list(sentence) if not isinstance(sentence, str) else sentence.split()
    if not words:
        raise ValueError("sentence is empty")
    index = {w: i for i, w in enumerate(g.words)}
    for i, w in enumerate(words):
        if not isinstance(w, Hashable) or w not in index:
            raise ValueError(f"sentence: the grammar cannot emit word {w!r} (position {i})")
    nts, n = g.nonterminals, len(words)
    logb, logl = _log(g.binary), _log(g.lexical)
    memo: dict[tuple[int, int, int], list[tuple[Any, float]]] = {}
    count = [0]

    def build(A: int, i: int, j: int) -> list[tuple[Any, float]]:
        key = (A, i, j)
        if key in memo:
            return memo[key]
        out = []
        if j == i + 1:
            lp = logl[A, index[words[i]]]
            if lp > -np.inf:
                out.append(((nts[A], words[i]), float(lp)))
        else:
            for B, C in zip(*np.nonzero(g.binary[A]), strict=True):
                for k in range(i + 1, j):
                    left, right = build(int(B), i, k), build(int(C), k, j)
                    for (tl, pl), (tr, pr) in itertools.product(left, right):
                        out.append(((nts[A], tl, tr), float(logb[A, B, C]) + pl + pr))
                        count[0] += 1
                        if count[0] > limit:
                            raise ValueError(f"sentence: more than limit={limit} (partial) trees; use a "
                                             "shorter sentence or a smaller grammar")
        memo[key] = out
        return out

    trees = build(nts.index(g.start), 0, n)
    return Enumeration([t for t, _ in trees], np.array([lp for _, lp in trees], dtype=float))


def _check_q(q, n: int) -> np.ndarray:
    q = _check_distribution("q", q)
    if q.shape != (n,):
        raise ValueError(f"q must be a vector of {n} probabilities (one per structure), got shape {q.shape}")
    return q


def _check_log_joint(log_joint) -> np.ndarray:
    try:
        lj = np.asarray(log_joint, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"log_joint must be a 1-D array of log-probabilities, got {log_joint!r}") from None
    if lj.ndim != 1 or lj.size == 0:
        raise ValueError(f"log_joint must be a non-empty 1-D array (one log p(x, y) per structure), "
                         f"got shape {lj.shape}")
    if np.any(np.isnan(lj)) or np.any(lj > 1e-9):
        raise ValueError("log_joint must hold log-probabilities (no NaN, none above 0)")
    return lj


def _check_distribution(name: str, q) -> np.ndarray:
    q = check_numbers(name, q)
    if q.ndim != 1 or q.size == 0:
        raise ValueError(f"{name} must be a non-empty vector of probabilities, got shape {q.shape}")
    if not np.all(np.isfinite(q)) or np.any(q < 0) or abs(q.sum() - 1) > 1e-8:
        raise ValueError(f"{name} must be non-negative, finite and sum to 1")
    return q


def log_evidence(log_joint) -> float:
    """``L = log Σ_y p(x, y)`` (log-sum-exp of the enumerated joint log-probabilities)."""
    lj = _check_log_joint(log_joint)
    top = lj.max()
    if top == -np.inf:
        return -np.inf
    return float(top + np.log(np.exp(lj - top).sum()))


def posterior(log_joint) -> np.ndarray:
    """``p(y | x) = p(x, y) / Σ_y' p(x, y')`` over the enumerated structures."""
    lj = _check_log_joint(log_joint)
    L = log_evidence(lj)
    if L == -np.inf:
        raise ValueError("every structure has probability zero: the posterior is undefined")
    return np.exp(lj - L)


def entropy(q) -> float:
    """``H(q) = −Σ q log q`` (``0 log 0 = 0``)."""
    q = _check_distribution("q", q)
    nz = q > 0
    return float(-(q[nz] * np.log(q[nz])).sum())


def kl(q, r) -> float:
    """``KL(q ‖ r) = Σ q log(q / r)`` (``+inf`` when ``q`` puts mass where ``r`` has none)."""
    q, r = _check_distribution("q", q), _check_distribution("r", r)
    if q.shape != r.shape:
        raise ValueError(f"q and r must have the same shape, got {q.shape} and {r.shape}")
    nz = q > 0
    if np.any(r[nz] == 0):
        return np.inf
    return float((q[nz] * (np.log(q[nz]) - np.log(r[nz]))).sum())


def free_energy(q, log_joint) -> float:
    """``F(q, θ) = Σ_y q(y) log p(x, y | θ) + H(q)`` over the enumerated structures
    (``−inf`` when ``q`` puts mass on a structure of probability zero)."""
    lj = _check_log_joint(log_joint)
    q = _check_q(q, lj.size)
    nz = q > 0
    if np.any(lj[nz] == -np.inf):
        return -np.inf
    return float((q[nz] * lj[nz]).sum()) + entropy(q)


def gap(q, log_joint) -> float:
    """``L(θ) − F(q, θ)``: by Neal & Hinton's identity this is ``KL(q ‖ p(y | x, θ))``."""
    return log_evidence(log_joint) - free_energy(q, log_joint)


# ============================================================ through the model's E-step
def _check_categorical_model(model) -> None:
    check_categorical_model("model", model, "the free energy F = Σ c · log θ + H")


def expected_log_joint(model, counts: dict[str, np.ndarray]) -> float:
    """``E_q log p(x, y | θ) = Σ_k E_q[c_k] log θ_k`` for a product of categoricals, from the
    expected counts ``counts`` of ``q`` (same keys and shapes as ``model.params()``);
    ``0 · log 0 = 0`` and a positive count on a zero parameter gives ``−inf``."""
    _check_categorical_model(model)
    params = model.params()
    if not isinstance(counts, dict):
        raise TypeError(f"counts must be a dict of arrays with the keys of model.params() {sorted(params)}, "
                        f"got {type(counts).__name__}")
    if set(counts) != set(params):
        raise ValueError(f"counts must have the keys of model.params() {sorted(params)}, "
                         f"got {sorted(counts)}")
    total = 0.0
    for k, theta in params.items():
        c = check_array(f"counts[{k!r}]", counts[k], shape=theta.shape)   # no NaN, inf or negative count
        nz = c > 0
        if np.any(theta[nz] == 0):
            return -np.inf
        total += float((c[nz] * np.log(theta[nz])).sum())
    return total


@dataclass(frozen=True)
class QSummary:
    """A distribution ``q`` over the hidden structures of a whole data set, by what F needs: its
    expected ``counts`` (shapes of the parameters) and its ``entropy``. ``kind`` says where it came
    from (``"posterior"``, ``"hard"`` or ``"stochastic"`` point masses); ``log_likelihood`` is
    ``L(θ_q)`` of the model ``q`` was computed from."""

    counts: dict[str, np.ndarray]
    entropy: float
    kind: str
    log_likelihood: float


def q_of(model, data, method: str = "soft", rng=None) -> QSummary:
    """The ``q`` of one E-step of ``model`` on ``data``: ``"soft"`` the posterior ``p(y | x, θ)``
    (entropy ``L(θ) − E_q log p(x, y | θ)``, from the zero gap), ``"hard"`` a point mass on the
    Viterbi / CKY structure of every item, ``"stochastic"`` a point mass on a structure drawn from
    the posterior with ``rng`` (entropy 0)."""
    em.check_method(method)
    _check_categorical_model(model)
    est = model.e_step(em.prepare(model, data), method, as_generator(rng))
    if method == "soft":
        h = est.log_likelihood - expected_log_joint(model, est.counts)
        h = max(h, 0.0)                      # rounding: an entropy is never negative
        return QSummary(est.counts, h, "posterior", est.log_likelihood)
    return QSummary(est.counts, 0.0, method, est.log_likelihood)


def free_energy_at(q: QSummary, model) -> float:
    """``F(q, θ) = Σ_k E_q[c_k] log θ_k + H(q)`` for the parameters ``θ`` of ``model``."""
    if not isinstance(q, QSummary):
        raise TypeError(f"q must be a QSummary (from q_of), got {type(q).__name__}")
    return expected_log_joint(model, q.counts) + q.entropy


@dataclass
class FreeEnergyTrace:
    """F along coordinate ascent, two half-steps per iteration (notebook 09).

    ``after_e[t] = F(q_t, θ_t)`` (after the E-step of iteration t), ``after_m[t] = F(q_t, θ_{t+1})``
    (after its M-step), ``log_likelihoods[t] = L(θ_t)`` for t = 0..n_iter (``after_e`` and
    ``log_likelihoods`` have n_iter + 1 entries, ``after_m`` n_iter). For soft EM
    ``after_e == log_likelihoods``; the rise ``after_m[t] − after_e[t]`` is the M-step's gain and
    ``log_likelihoods[t+1] − after_m[t] = KL(q_t ‖ p(y | x, θ_{t+1}))`` is what the next E-step closes.
    """

    after_e: np.ndarray
    after_m: np.ndarray
    log_likelihoods: np.ndarray
    method: str
    models: list = field(default_factory=list, repr=False)

    def staircase(self) -> np.ndarray:
        """``F`` at every half-step in order: ``after_e[0], after_m[0], after_e[1], …, after_e[n]``."""
        out = np.empty(2 * len(self.after_m) + 1)
        out[0::2], out[1::2] = self.after_e, self.after_m
        return out


def trace(model, data, n_iter: int = 10, method: str = "soft", rng=None) -> FreeEnergyTrace:
    """Run ``n_iter`` iterations of EM (``method`` soft / hard / stochastic) and record the free
    energy after every E-step and every M-step (see :class:`FreeEnergyTrace`). ``n_iter`` is at most
    :data:`emlab.em.MAX_RUN`."""
    n_iter = check_positive_int("n_iter", n_iter, high=em.MAX_RUN)
    em.check_method(method)
    gen = as_generator(rng)
    prepared = em.prepare(model, data)
    after_e, after_m, lls, models = [], [], [], [model]
    current = model
    for t in range(n_iter + 1):
        q = q_of(current, prepared, method, gen)
        after_e.append(free_energy_at(q, current))
        lls.append(q.log_likelihood)
        if t == n_iter:
            break
        current = current.m_step(q.counts)
        models.append(current)
        after_m.append(free_energy_at(q, current))
    return FreeEnergyTrace(np.array(after_e), np.array(after_m), np.array(lls), method, models)
