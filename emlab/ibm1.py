"""IBM Model 1: word alignment as a product of categoricals, with a global optimum (notebook 11).

A sentence pair is a source sentence ``e = e_1 … e_l`` (the word ``NULL`` included as one of its
words, as Brown et al. 1993 prepend ``e_0``) and a target sentence ``f = f_1 … f_m``. Each target
word picks one source position ``a_j`` uniformly and is translated from it (Brown et al. 1993,
sec. 4.1; Collins, *Statistical Machine Translation: IBM Models 1 and 2*, sec. 4)::

    p(f, a | e, m) = Π_j (1 / l) · t(f_j | e_{a_j})
    p(f | e, m)    = Π_j (1 / l) · Σ_i t(f_j | e_i)                 (the sum and product commute)

The only parameters are one categorical ``t(· | e)`` per source word: an ``(E, F)`` row-stochastic
array ``t[e, f]``. The length probability ``p(m | l)`` does not depend on ``t`` and is left out.

Why no dynamic program. The alignments of the target words are independent given the sentence
pair: ``p(a | f, e) = Π_j p(a_j | f_j, e)`` with ``p(a_j = i | f, e) = t(f_j | e_i) / Σ_k t(f_j | e_k)``.
So the E-step is one division per (target word, source position): expected counts
``c(e, f) = Σ_pairs Σ_j Σ_i [e_i = e][f_j = f] p(a_j = i | f, e)``; the best alignment takes each
``a_j`` to the argmax; a sampled alignment draws each ``a_j`` on its own. The M-step is
:func:`emlab.categorical.normalize` of ``c`` (notebook 01), as for every emlab model.

Why a global optimum. ``L(t) = Σ_pairs Σ_j log Σ_i t(f_j | e_i) − m log l`` is a sum of logarithms of
functions *linear* in ``t``, so it is **concave in t** over the product of simplices (a convex set),
and every local maximum is global (why Brown et al. 1993 train it first and use it to initialize their
later models; restated by Simion, Collins & Stein 2015). Concave, not strictly
concave: the maximizer need not be unique — two source words that always occur together only
have their sum ``t(f | a) + t(f | b)`` determined (Toutanova & Galley 2011, *Why initialization
matters for IBM Model 1: multiple optima and non-strict convexity*). EM from any positive start
climbs to the maximal *value* of ``L``; where it ends on a flat ridge depends on the start. The claim
is about the parameterization by ``t`` itself: on softmax logits (what :func:`emlab.optimizers.lbfgs`
optimizes) the same function is not concave, though it has the same maxima.

Data: a list of ``(f, e)`` pairs of integer arrays (target codes in ``0..F−1``, source codes in
``0..E−1``). :func:`sample_corpus` draws such a corpus from a known table, with source word 0 as
``NULL`` in every sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import em
from .categorical import normalize
from .semiring import SUM, Semiring, check_semiring, draw
from .validation import (
    as_generator,
    check_bool,
    check_counts,
    check_elements,
    check_instance,
    check_positive_int,
    check_scalar,
    check_stochastic,
    check_symbols,
)

__all__ = ["IBM1", "Corpus", "log_likelihood", "alignment_posteriors", "sample_corpus",
           "random_table", "cooccurrence_counts"]


@dataclass(frozen=True)
class Corpus:
    """A prepared parallel corpus: padded code arrays and their masks.

    ``f[n, j]`` is target word ``j`` of pair ``n`` (``f_mask`` marks real words), ``e[n, i]`` source
    word ``i`` (``e_mask``); padding holds code 0 and is masked out everywhere."""

    f: np.ndarray
    e: np.ndarray
    f_mask: np.ndarray
    e_mask: np.ndarray

    def __len__(self) -> int:
        return self.f.shape[0]


@dataclass(frozen=True)
class AlignmentChart:
    """``weights[n, j, i] = t(f_nj | e_ni)`` (0 on padding), ``evidence[n, j] = Σ_i weights`` and
    ``log_evidence[n] = log p(f_n | e_n)``. Every semiring reads the same weights (the best and a
    sampled alignment are chosen per target word), so its ``log_evidence`` is always the sum's."""

    weights: np.ndarray
    evidence: np.ndarray
    log_evidence: np.ndarray
    semiring = SUM

    def posteriors(self) -> np.ndarray:
        """``p(a_j = i | f, e)`` as an ``(N, m_max, l_max)`` array (0 on padding)."""
        denom = np.where(self.evidence > 0, self.evidence, 1.0)
        return self.weights / denom[:, :, None]


def _check_pairs(pairs, n_source: int, n_target: int) -> list[tuple[np.ndarray, np.ndarray]]:
    if isinstance(pairs, tuple) and len(pairs) == 2 and not isinstance(pairs[0], tuple):
        pairs = [pairs]                                    # one (f, e) pair
    if isinstance(pairs, (str, bytes, np.ndarray)) or not hasattr(pairs, "__len__"):
        raise TypeError(f"pairs must be a list of (f, e) sentence pairs, got {type(pairs).__name__}")
    if len(pairs) == 0:
        raise ValueError("pairs is empty: give at least one (f, e) sentence pair")
    out = []
    for n, pair in enumerate(pairs):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(f"pairs[{n}] must be an (f, e) pair of integer arrays, "
                             f"got {type(pair).__name__}")
        f = check_symbols(f"pairs[{n}] target f", pair[0], n_target)
        e = check_symbols(f"pairs[{n}] source e", pair[1], n_source)
        out.append((f, e))
    return out


class IBM1:
    """IBM Model 1 with translation table ``t[e, f] = t(f | e)`` (rows: source words).

    Implements the :class:`emlab.em.EMModel` protocol and the hooks of :func:`emlab.em.e_step`
    (one batch: the whole corpus), so ``em.fit(model, pairs, method=...)`` runs soft, hard
    (best alignment of each target word) and stochastic (sampled alignments) EM.

    Examples
    --------
    >>> from emlab import em, ibm1
    >>> pairs = [([0, 1], [0, 1]), ([0], [0, 2])]        # (f, e) codes; source word 0 is NULL
    >>> res = em.fit(ibm1.IBM1.uniform(3, 2), pairs, max_iter=200, tol=1e-6)
    >>> res.converged, res.log_likelihoods[-1] > res.log_likelihoods[0]
    (True, True)
    >>> [round(float(p), 2) for p in res.model.t[1]]     # t(f | e=1): source word 1 learns f = 1
    [0.01, 0.99]
    """

    def __init__(self, t):
        table = check_stochastic("t", t, ndim=2)
        if table.shape[0] == 0 or table.shape[1] == 0:
            raise ValueError(f"t needs at least one source and one target word, got shape {table.shape}")
        table = table.copy()
        table.flags.writeable = False
        self.t = table

    @classmethod
    def uniform(cls, n_source: int, n_target: int) -> IBM1:
        """``t(f | e) = 1 / F`` for every pair: Brown et al.'s (and Collins') usual start."""
        n_source, n_target = _check_table_size(n_source, n_target)
        return cls(np.full((n_source, n_target), 1.0 / n_target))

    @classmethod
    def random(cls, n_source: int, n_target: int, rng=None, concentration: float = 1.0) -> IBM1:
        """Every row of ``t`` from a symmetric Dirichlet(``concentration``), drawn with ``rng``."""
        return cls(random_table(n_source, n_target, rng=rng, concentration=concentration))

    @property
    def n_source(self) -> int:
        return self.t.shape[0]

    @property
    def n_target(self) -> int:
        return self.t.shape[1]

    def __repr__(self) -> str:
        return f"IBM1(t={np.array2string(self.t, precision=3)})"

    # --- the EMModel protocol -------------------------------------------------------------
    def prepare(self, data) -> Corpus:
        """Validate a list of ``(f, e)`` pairs and pad them into a :class:`Corpus`."""
        if isinstance(data, Corpus):
            # (padding holds code 0, so the largest codes are those of real words)
            if data.f.size and data.f.max() >= self.n_target or data.e.size and data.e.max() >= self.n_source:
                raise ValueError(f"this Corpus was prepared for a larger vocabulary (target codes up to "
                                 f"{int(data.f.max())}, source codes up to {int(data.e.max())}) than the "
                                 f"model's {self.n_target} target and {self.n_source} source words: "
                                 "prepare the pairs with this model")
            return data
        pairs = _check_pairs(data, self.n_source, self.n_target)
        m = max(len(f) for f, _ in pairs)
        ll = max(len(e) for _, e in pairs)
        N = len(pairs)
        F, E = np.zeros((N, m), dtype=int), np.zeros((N, ll), dtype=int)
        fm, emask = np.zeros((N, m), dtype=bool), np.zeros((N, ll), dtype=bool)
        for n, (f, e) in enumerate(pairs):
            F[n, :len(f)], fm[n, :len(f)] = f, True
            E[n, :len(e)], emask[n, :len(e)] = e, True
        return Corpus(F, E, fm, emask)

    def e_step(self, prepared: Corpus, method: str = "soft", rng=None) -> em.EStep:
        """:func:`emlab.em.e_step` of this model (soft: posterior counts; hard: each target word's
        best source word; stochastic: each alignment drawn from its posterior)."""
        return em.e_step(self, prepared, method, rng)

    def m_step(self, counts: dict[str, np.ndarray]) -> IBM1:
        """``t(f | e) = c(e, f) / Σ_f' c(e, f')``; a source word never seen keeps its row."""
        check_counts(counts, ("t",))
        return IBM1(normalize(counts["t"], previous=self.t))

    def params(self) -> dict[str, np.ndarray]:
        return {"t": self.t}

    # --- hooks of em.e_step -----------------------------------------------------------------
    def batches(self, prepared: Corpus) -> list[Corpus]:
        return [prepared]

    def chart(self, c: Corpus, semiring: Semiring = SUM) -> AlignmentChart:
        check_semiring(semiring)                 # (both semirings read this one chart)
        both = c.f_mask[:, :, None] & c.e_mask[:, None, :]
        weights = np.where(both, self.t[c.e[:, None, :], c.f[:, :, None]], 0.0)
        evidence = weights.sum(axis=2)
        lengths = c.e_mask.sum(axis=1)
        with np.errstate(divide="ignore"):
            logs = np.where(c.f_mask, np.log(np.where(c.f_mask, evidence, 1.0)), 0.0)
        log_evidence = logs.sum(axis=1) - c.f_mask.sum(axis=1) * np.log(lengths)
        return AlignmentChart(weights, evidence, log_evidence)

    def _add(self, c: Corpus, weights: np.ndarray) -> dict[str, np.ndarray]:
        """``c(e, f) = Σ weights[n, j, i]`` over the cells with ``e_ni = e`` and ``f_nj = f``."""
        cell = c.e[:, None, :] * self.n_target + c.f[:, :, None]          # flat index of (e_i, f_j)
        flat = np.bincount(np.broadcast_to(cell, weights.shape).ravel(), weights=weights.ravel(),
                           minlength=self.t.size)
        return {"t": flat.reshape(self.t.shape)}

    def posterior_counts(self, c: Corpus, chart: AlignmentChart) -> dict[str, np.ndarray]:
        return self._add(c, chart.posteriors())

    def best(self, c: Corpus, chart: AlignmentChart) -> tuple[np.ndarray, np.ndarray]:
        """Each target word's most probable source position (ties: the first) and
        ``log p(f, a* | e)`` per pair."""
        a = np.argmax(chart.weights, axis=2)
        top = np.take_along_axis(chart.weights, a[:, :, None], axis=2)[:, :, 0]
        lengths = c.e_mask.sum(axis=1)
        with np.errstate(divide="ignore"):
            logs = np.where(c.f_mask, np.log(np.where(c.f_mask, top, 1.0)), 0.0)
        return a, logs.sum(axis=1) - c.f_mask.sum(axis=1) * np.log(lengths)

    def sampled(self, c: Corpus, chart: AlignmentChart, rng: np.random.Generator) -> np.ndarray:
        """One alignment per target word, drawn independently from ``p(a_j | f, e)``."""
        post = chart.posteriors()                # rows of padding are all zero: drawn as 0 below
        a = draw(post, rng.random(post.shape[:2]), axis=-1)
        return np.where(c.f_mask, a, 0)

    def structure_counts(self, c: Corpus, a: np.ndarray) -> dict[str, np.ndarray]:
        onehot = (np.arange(c.e.shape[1])[None, None, :] == np.asarray(a)[:, :, None]) & c.f_mask[:, :, None]
        return self._add(c, onehot.astype(float))

    def impossible_item(self, c: Corpus, batch, n: int) -> str:
        j = int(np.flatnonzero(c.f_mask[n] & (self.chart(c).evidence[n] == 0))[0])
        return (f"sentence pair {n} has probability zero: target word {j} (code {int(c.f[n, j])}) "
                "has t(f | e) = 0 for every source word of the pair")


# ---------------------------------------------------------------------------------------------
# public functions


def log_likelihood(model: IBM1, pairs) -> float:
    """``Σ_pairs log p(f | e, m)`` (``-inf`` when some pair is impossible)."""
    check_instance("model", model, IBM1, "an ibm1.IBM1")
    return float(np.sum(model.chart(model.prepare(pairs)).log_evidence))


def alignment_posteriors(model: IBM1, f, e) -> np.ndarray:
    """``P[j, i] = p(a_j = i | f, e)`` for one pair: an ``(m, l)`` array whose rows sum to 1."""
    check_instance("model", model, IBM1, "an ibm1.IBM1")
    c = model.prepare([(f, e)])
    chart = model.chart(c)
    if not np.isfinite(chart.log_evidence[0]):
        raise ValueError(model.impossible_item(c, c, 0) + ", so its alignment posterior is undefined")
    return chart.posteriors()[0, :len(np.ravel(f)), :len(np.ravel(e))]


def _check_table_size(n_source, n_target) -> tuple[int, int]:
    """Both sizes as ints ≥ 1, their table within :data:`~emlab.validation.MAX_ELEMENTS`."""
    n_source, n_target = check_positive_int("n_source", n_source), check_positive_int("n_target", n_target)
    check_elements("n_source and n_target", n_source * n_target, "n_source × n_target")
    return n_source, n_target


def random_table(n_source: int, n_target: int, rng=None, concentration: float = 1.0) -> np.ndarray:
    """An ``(E, F)`` translation table, each row from a symmetric Dirichlet(``concentration``)."""
    n_source, n_target = _check_table_size(n_source, n_target)
    a = check_scalar("concentration", concentration, low=0, low_open=True)
    return as_generator(rng).dirichlet(np.full(n_target, a), size=n_source)


#: the most sentence pairs :func:`sample_corpus` draws in one call
MAX_PAIRS = 10**6

#: the longest sentence :func:`sample_corpus` draws
MAX_SAMPLE_LENGTH = 1000


def _length_range(name: str, value) -> tuple[int, int]:
    """``(low, high)``: whole numbers with ``1 <= low <= high <=`` :data:`MAX_SAMPLE_LENGTH`."""
    if isinstance(value, (str, bytes)) or not (hasattr(value, "__len__") and len(value) == 2):
        raise TypeError(f"{name} must be a pair (low, high) of sentence lengths, got {value!r}")
    lo, hi = (check_scalar(f"{name}[{i}]", v, low=1, high=MAX_SAMPLE_LENGTH, integer=True)
              for i, v in enumerate(value))
    if lo > hi:
        raise ValueError(f"{name} must be (low, high) with low <= high, got {value!r}")
    return lo, hi


def sample_corpus(t, n_pairs: int, source_length=(2, 5), target_length=(2, 5), rng=None,
                  null: bool = True):
    """A synthetic parallel corpus drawn from IBM Model 1 with table ``t`` (shipped, nothing downloaded).

    Each source sentence has a length uniform in ``source_length`` (inclusive) of words uniform
    over codes ``1..E−1``; with ``null`` the word 0 (NULL) is prepended. Each target word picks a
    source position uniformly and is drawn from ``t(· | e_{a_j})``.

    Returns ``(pairs, alignments)``: a list of ``(f, e)`` arrays and the true ``a`` of each pair.
    ``n_pairs`` is at most :data:`MAX_PAIRS`, each length at most :data:`MAX_SAMPLE_LENGTH`.
    """
    table = check_stochastic("t", t, ndim=2)
    n_pairs = check_positive_int("n_pairs", n_pairs, high=MAX_PAIRS)
    lo_e, hi_e = _length_range("source_length", source_length)
    lo_f, hi_f = _length_range("target_length", target_length)
    first = 1 if check_bool("null", null) else 0
    if table.shape[0] <= first:
        raise ValueError(f"t has {table.shape[0]} source words: with null=True it needs NULL (0) "
                         "and one more")
    g = as_generator(rng)
    pairs, aligns = [], []
    for _ in range(n_pairs):
        words = g.integers(first, table.shape[0], size=g.integers(lo_e, hi_e + 1))
        e = np.concatenate([[0], words]) if null else words
        m = int(g.integers(lo_f, hi_f + 1))
        a = g.integers(0, len(e), size=m)
        f = np.array([g.choice(table.shape[1], p=table[e[i]]) for i in a], dtype=int)
        pairs.append((f, e.astype(int)))
        aligns.append(a)
    return pairs, aligns


def cooccurrence_counts(pairs, n_source: int, n_target: int) -> np.ndarray:
    """``C[e, f]`` = Σ_pairs (occurrences of e in the source) × (occurrences of f in the target)."""
    n_source, n_target = _check_table_size(n_source, n_target)
    try:
        checked = _check_pairs(pairs, n_source, n_target)
    except ValueError as exc:
        if "outside the vocabulary" not in str(exc):
            raise
        raise ValueError(f"{exc}: n_source={n_source} and n_target={n_target} must cover every word "
                         "code in pairs") from None
    out = np.zeros((n_source, n_target))
    for f, e in checked:
        out += np.outer(np.bincount(e, minlength=n_source), np.bincount(f, minlength=n_target))
    return out
