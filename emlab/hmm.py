"""Hidden Markov models in Collins' form: forward-backward, Viterbi, sampling, Baum-Welch (notebook 03).

An HMM with ``K`` states and ``V`` symbols is a product of categoricals (notebook 01)::

    p(x, y) = start[y_1] · Π_{i=2..T} q(y_i | y_{i-1}) · Π_{i=1..T} e(x_i | y_i) · stop[y_T]

with ``q(j | i) = trans[i, j]``, ``e(v | k) = emit[k, v]`` and, optionally, Collins' STOP symbol:
``stop[i] = q(STOP | i)`` and ``trans[i].sum() + stop[i] == 1``. Without STOP the last factor is 1
and every ``trans`` row sums to 1. (``start`` plays the role of ``q(y_1 | *)``.)

The dynamic programs are **one** recursion, :func:`emlab.chain.chain`, in two semirings
(:mod:`emlab.semiring`), run **batched over all sequences** of a corpus (sequences grouped by
length, every step one ``(K, K) @ (K, N)`` product):

- forward (sum-product, scaled: ``α̂_t`` is divided by ``c_t = p(x_t | x_<t)``, so
  ``log p(x) = Σ_t log c_t + log Σ_i α̂_T(i) stop[i]`` stays finite on a 100,000-step sequence);
- backward: the same recursion on the reversed sequence with the forward's scales;
- Viterbi: the same recursion with ``max`` (max-product), then :func:`emlab.chain.backtrace`;
- sampling a path from the posterior: the same backward sweep over the forward table, drawing
  instead of taking the argmax (forward-filtering backward-sampling, notebook 07).

Expected counts have the shapes of the parameters (``start``, ``trans``, ``emit`` and ``stop``),
so the M-step is :func:`emlab.categorical.normalize` of each (with STOP, of the concatenation
``[trans | stop]`` row by row, since those share one categorical per state)::

    q(y | y') = c(y', y) / c(y')        e(x | y) = c(y, x) / c(y)                 (03, M-step)

The E-step of every method (``"soft"`` Baum-Welch, ``"hard"`` Viterbi, ``"stochastic"``) is
:func:`emlab.em.e_step`; this module supplies its hooks (batches, the chart in either semiring:
the forward pass or Viterbi's max pass, posterior counts, the best and a sampled path, counts of
given paths).

Layout: the :class:`HMM` class (validation, initializations, hooks) → :class:`Corpus` → the hooks'
kernels → the public functions.
"""

from __future__ import annotations

import numpy as np

from . import categorical, em
from .chain import backtrace, chain
from .semiring import MAX, SUM, Semiring, check_chart, check_semiring, draw
from .threads import one_blas_thread
from .validation import (
    MAX_ELEMENTS,
    as_corpus,
    as_generator,
    check_array,
    check_counts,
    check_elements,
    check_instance,
    check_positive_int,
    check_rows_sum_to_one,
    check_scalar,
    check_symbols,
    input_eps,
    naming,
    renormalized,
)

__all__ = [
    "HMM", "Corpus", "forward", "backward", "forward_table", "backward_table", "log_likelihood",
    "posteriors", "viterbi", "expected_counts", "sample",
]

#: Emission rows whose largest entry is below this are rescaled before the recursions (their log
#: factor is added back), so denormal probabilities such as 5e-324 give the true finite log p(x).
TINY = 1e-200

#: The longest sequence :func:`sample` draws (a cap on ``length``).
MAX_LENGTH = 10**6

#: Random numbers :func:`sample` draws per chunk of steps at most (steps × sequences; a chunk is
#: 1024 steps unless that would exceed it).
CHUNK = 2**20


# ======================================================================== the model
class HMM:
    """A hidden Markov model: ``HMM(start, trans, emit, stop=None)``.

    Parameters
    ----------
    start : (K,) initial state probabilities ``q(y_1 | *)``.
    trans : (K, K) ``trans[i, j] = q(j | i)``.
    emit : (K, V) ``emit[k, v] = e(v | k)``.
    stop : (K,) or None. ``stop[i] = q(STOP | i)``; then ``trans[i].sum() + stop[i] == 1``.
        Without it, every ``trans`` row sums to 1 and sequences have no end probability.

    The arrays are validated (shapes, non-negative, rows summing to 1 within 1e-8; a
    ``ValueError`` names the array and row at fault), copied and made read-only, and exposed as
    ``m.start``, ``m.trans``, ``m.emit``, ``m.stop``. ``m.K`` and ``m.V`` are the numbers of states
    and symbols.

    The model implements the :class:`emlab.em.EMModel` protocol and the hooks of
    :func:`emlab.em.e_step`, so ``em.fit(m, corpus, method="soft" | "hard" | "stochastic")`` runs
    Baum-Welch and its hard and stochastic variants.

    Examples
    --------
    >>> m = HMM([.8, .2], [[.6, .4], [.5, .5]], [[.2, .4, .4], [.5, .4, .1]])
    >>> round(float(np.exp(log_likelihood(m, [2, 0, 2]))), 6)
    0.028562
    >>> viterbi(m, [2, 0, 2])[0].tolist()
    [0, 1, 0]
    """

    def __init__(self, start, trans, emit, stop=None):
        start_eps, trans_eps, emit_eps = input_eps(start), input_eps(trans), input_eps(emit)
        start = check_array("start", start, ndim=1)
        K = start.shape[0]
        if K == 0:
            raise ValueError("start must have at least one state")
        check_rows_sum_to_one("start", start, eps=start_eps)
        trans = check_array("trans", trans, shape=(K, K))
        emit = check_array("emit", emit, ndim=2)
        if emit.shape[0] != K or emit.shape[1] == 0:
            raise ValueError(f"emit must have shape ({K}, V) with V >= 1 (a row per state), got {emit.shape}")
        check_rows_sum_to_one("emit", emit, eps=emit_eps)
        if stop is None:
            check_rows_sum_to_one("trans", trans, eps=trans_eps)
        else:
            trans_eps = max(trans_eps, input_eps(stop))
            stop = check_array("stop", stop, shape=(K,))
            check_rows_sum_to_one("trans", trans, extra=stop, extra_name="stop", eps=trans_eps)
        # float32 input (rows sum to 1 only to its precision): stored renormalized in float64
        start = renormalized(start) if start_eps else start
        emit = renormalized(emit) if emit_eps else emit
        if trans_eps:
            trans, stop = (renormalized(trans), None) if stop is None else renormalized(trans, stop)
        self.start, self.trans, self.emit = (_frozen(a) for a in (start, trans, emit))
        self.stop = None if stop is None else _frozen(stop)

    # ------------------------------------------------------------------ basics
    @property
    def K(self) -> int:
        """Number of hidden states."""
        return self.start.shape[0]

    @property
    def V(self) -> int:
        """Number of output symbols."""
        return self.emit.shape[1]

    @property
    def has_stop(self) -> bool:
        return self.stop is not None

    def params(self) -> dict[str, np.ndarray]:
        """The parameter arrays: ``start``, ``trans``, ``emit`` (and ``stop`` when present)."""
        p = {"start": self.start, "trans": self.trans, "emit": self.emit}
        if self.stop is not None:
            p["stop"] = self.stop
        return p

    def __repr__(self) -> str:
        return f"HMM(K={self.K}, V={self.V}, stop={self.has_stop})"

    # --------------------------------------------------------- initializations
    @classmethod
    def random(cls, K: int, V: int, rng=None, stop: bool = False, concentration: float = 1.0) -> HMM:
        """Every categorical drawn from a symmetric Dirichlet(``concentration`` > 0) (notebook 06).

        With ``stop``, each row ``[trans[i] | stop[i]]`` is one Dirichlet draw of length K+1.
        """
        K, V = _check_sizes(K, V)
        concentration = check_scalar("concentration", concentration, low=0, low_open=True)
        rng = as_generator(rng)
        start = rng.dirichlet(np.full(K, concentration))
        rows = rng.dirichlet(np.full(K + int(stop), concentration), size=K)
        emit = rng.dirichlet(np.full(V, concentration), size=K)
        return cls(start, rows[:, :K], emit, rows[:, K] if stop else None)

    @classmethod
    def uniform(cls, K: int, V: int, stop: bool = False) -> HMM:
        """All categoricals uniform: a symmetric fixed point Baum-Welch never leaves (notebook 06).

        With ``stop``, ``[trans[i] | stop[i]]`` is uniform over ``K + 1`` outcomes.
        """
        K, V = _check_sizes(K, V)
        n_next = K + int(stop)
        return cls(np.full(K, 1 / K), np.full((K, K), 1 / n_next), np.full((K, V), 1 / V),
                   np.full(K, 1 / n_next) if stop else None)

    @classmethod
    def informed(cls, sequences, states, K: int, V: int, smoothing: float = 1.0, stop: bool = False) -> HMM:
        """Supervised MLE from a few labelled sequences, with ``smoothing`` (>= 0) pseudo-counts per cell.

        ``q = (c(y', y) + s) / (c(y') + K s)``, ``e = (c(y, x) + s) / (c(y) + V s)`` (notebook 01 with
        additive smoothing); a good "informed" initialization for EM (notebook 06).
        """
        K, V = _check_sizes(K, V)
        smoothing = check_scalar("smoothing", smoothing, low=0)
        xs = Corpus.check(sequences, V)
        if isinstance(states, np.ndarray) and states.ndim == 1 or (
                isinstance(states, (list, tuple)) and states and np.isscalar(states[0])):
            states = [states]
        ys = [check_symbols(f"states of sequence {n}", y, K) for n, y in enumerate(states)]
        if len(xs) != len(ys):
            raise ValueError(f"got {len(xs)} sequences but {len(ys)} state sequences")
        for n, (x, y) in enumerate(zip(xs, ys, strict=True)):
            if len(x) != len(y):
                raise ValueError(f"sequence {n} has {len(x)} symbols but {len(y)} states")
        per_sequence = [_path_counts(K, V, stop, x[None], y[None]) for x, y in zip(xs, ys, strict=True)]
        counts = {k: categorical.smooth(sum(c[k] for c in per_sequence), smoothing) for k in per_sequence[0]}
        return _normalize_counts(counts, None, K, stop)

    # ------------------------------------------------------- the EMModel protocol
    def prepare(self, data) -> Corpus:
        """Validate a corpus once (:class:`Corpus`): sequences grouped by length for batching."""
        return data if isinstance(data, Corpus) and data.V == self.V else Corpus(self, data)

    def e_step(self, prepared, method: str = "soft", rng=None) -> em.EStep:
        """:func:`emlab.em.e_step` of this model: counts (same shapes as :meth:`params`), ``log p``
        and the objective; ``"soft"`` posteriors (Baum-Welch), ``"hard"`` Viterbi paths,
        ``"stochastic"`` paths drawn from ``p(y | x)``."""
        return em.e_step(self, self.prepare(prepared), method, rng)

    def m_step(self, counts: dict[str, np.ndarray]) -> HMM:
        """Normalize each categorical of the counts; a row with no counts keeps its parameters."""
        check_counts(counts, self.params())
        return _normalize_counts(counts, self, self.K, self.has_stop)

    # ----------------------------------------------------- hooks of em.e_step
    def batches(self, corpus: Corpus):
        """The equal-length groups of the corpus (:class:`Batch`: ``index``, ``X`` (N, T), ``workspace``)."""
        return corpus.batches

    def chart(self, batch, semiring: Semiring = SUM) -> ChainChart:
        """The scaled forward pass of a batch (``SUM``, with ``log p(x_n)`` per sequence) or
        Viterbi's max pass (``MAX``, with ``max_y log p(x_n, y)``)."""
        return _pass(self, batch.X, check_semiring(semiring), batch.workspace)

    def posterior_counts(self, batch, chart: ChainChart) -> dict[str, np.ndarray]:
        """Posterior expected counts from a ``SUM`` chart (the backward pass, then γ and ξ summed)."""
        return _posterior_counts(self, batch, check_chart(chart, SUM, "posterior_counts"))

    def best(self, batch, chart: ChainChart) -> tuple[np.ndarray, np.ndarray]:
        """Viterbi paths (N, T) and ``max_y log p(x_n, y)``: the back-trace over a ``MAX`` chart."""
        paths = backtrace(check_chart(chart, MAX, "best").table, self.trans, self.stop, MAX)
        return paths, chart.log_evidence

    def sampled(self, batch, chart: ChainChart, rng: np.random.Generator) -> np.ndarray:
        """One path per sequence drawn from ``p(y | x)``: the backward sweep over a ``SUM`` chart."""
        return backtrace(check_chart(chart, SUM, "sampled").table, self.trans, self.stop, SUM, rng)

    def structure_counts(self, batch, paths: np.ndarray) -> dict[str, np.ndarray]:
        """Counts of the state paths (N, T) of the batch."""
        return _path_counts(self.K, self.V, self.has_stop, batch.X, paths)

    def impossible_item(self, corpus: Corpus, batch, i: int) -> str:
        return f"sequence {int(batch.index[i])} has probability zero under the model"


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


def _check_sizes(K, V) -> tuple[int, int]:
    K, V = check_positive_int("K", K), check_positive_int("V", V)
    check_elements("K and V", K * (K + V + 2), "K × (K + V + 2) parameters")
    return K, V


def _normalize_counts(counts, previous: HMM | None, K: int, stop: bool) -> HMM:
    """The M-step: ``categorical.normalize`` of every categorical (with STOP, of ``[trans | stop]``)."""
    prev = previous.params() if previous is not None else {}
    start = categorical.normalize(counts["start"], prev.get("start"))
    emit = categorical.normalize(counts["emit"], prev.get("emit"))
    if not stop:
        return HMM(start, categorical.normalize(counts["trans"], prev.get("trans")), emit)
    both = np.column_stack([counts["trans"], counts["stop"]])
    old = None if previous is None else np.column_stack([prev["trans"], prev["stop"]])
    rows = categorical.normalize(both, old)
    return HMM(start, rows[:, :K], emit, rows[:, K])


# ======================================================================== the corpus
class Batch:
    """The sequences of one length: corpus positions ``index`` (N,), symbols ``X`` (N, T), and a
    ``workspace`` of scratch arrays reused by every E-step on the corpus."""

    def __init__(self, index: np.ndarray, X: np.ndarray, V: int):
        self.index, self.X, self.V = index, X, V
        self.workspace: dict = {}


def _emit_index(X: np.ndarray, K: int, V: int, ws: dict | None) -> np.ndarray:
    """The flat index ``k·V + x[n, t]`` into ``emit`` of every (t, k, n) of a batch ``X`` (N, T),
    laid out like a (T, K, N) array; cached in the workspace (it does not depend on the parameters)."""
    key = ("emit_index", K)
    if ws is None or key not in ws:
        index = (np.arange(K)[:, None] * V + X.T[:, None, :]).ravel()
        if ws is None:
            return index
        ws[key] = index
    return ws[key]


class Corpus:
    """``Corpus(model, seqs)``: a validated corpus of integer sequences, grouped by length.

    ``seqs`` is the list of sequences (a single 1-D sequence is one sequence); ``batches`` one
    :class:`Batch` per length and ``groups`` the same as ``(index, X)`` pairs, ``X`` an ``(N, T)``
    array of the ``N`` sequences of length ``T`` whose corpus positions are ``index`` (as in
    :class:`emlab.pcfg.Corpus`). Raises ``ValueError`` naming the sequence (and position) at fault.
    """

    def __init__(self, model: HMM, seqs):
        self.V = check_instance("model", model, HMM, "an hmm.HMM").V
        with naming("seqs"):
            self.seqs = self.check(seqs, self.V)
        lengths = np.array([len(s) for s in self.seqs])
        #: one :class:`Batch` per sequence length
        self.batches: list[Batch] = []
        for T in np.unique(lengths):
            index = np.flatnonzero(lengths == T)
            self.batches.append(Batch(index, np.stack([self.seqs[i] for i in index]), self.V))
        self.groups = [(b.index, b.X) for b in self.batches]
        self.n_tokens = int(lengths.sum())

    @staticmethod
    def check(seqs, V: int) -> list[np.ndarray]:
        """The sequences of a corpus, validated: a list of non-empty 1-D ``intp`` arrays over
        ``range(V)``. A fast path checks a list of integer arrays in one pass over their
        concatenation; anything else is checked item by item, naming the sequence at fault."""
        if isinstance(seqs, (list, tuple)) and seqs and all(
                isinstance(s, np.ndarray) and s.ndim == 1 and s.size and s.dtype.kind in "iu" for s in seqs):
            flat = np.concatenate(seqs)
            if flat.min() >= 0 and flat.max() < V:
                return [s.astype(np.intp, copy=False) for s in seqs]
        if isinstance(seqs, (list, tuple)) and seqs and not np.isscalar(seqs[0]):
            for n, s in enumerate(seqs):
                try:
                    np.asarray(s)
                except ValueError:
                    raise ValueError(f"sequence {n} must be a 1-D sequence of integer symbols; it is "
                                     "ragged (nested lists of different lengths)") from None
        return as_corpus(seqs, V)

    def __len__(self) -> int:
        return len(self.seqs)

    def __iter__(self):
        return iter(self.seqs)


def _one(m: HMM, seq) -> np.ndarray:
    """One sequence as a (1, T) batch."""
    return check_symbols("sequence", seq, m.V)[None, :]


# ================================================================ the hooks' kernels
class ChainChart:
    """The scaled forward pass of a batch in a ``semiring``: emissions ``B`` (T, K, N) (rows
    rescaled by ``b``, log ``log_b`` (T, N), when tiny), the ``table`` (T, K, N) (with ``SUM``
    ``α̂``, ``table[t, :, n] = p(y_t | x_1..x_t)``; with ``MAX`` Viterbi's ``δ`` scaled to maximum 1),
    ``scale`` (T, N), ``end`` (N,) ``= ⊕_i table[T-1, i] stop[i]`` and ``log_evidence`` (N,)
    ``= Σ_t (log scale[t] + log_b[t]) + log end``: ``log p(x_n)`` with ``SUM``, ``max_y log p(x_n, y)``
    with ``MAX`` (``-inf`` when p(x_n) = 0)."""

    def __init__(self, B, log_b, table, scale, end, semiring: Semiring = SUM):
        self.B, self.log_b, self.table, self.scale, self.end = B, log_b, table, scale, end
        self.semiring = semiring
        with np.errstate(divide="ignore"):
            self.log_evidence = np.log(scale).sum(axis=0) + np.log(end) + log_b.sum(axis=0)


def _buffer(ws: dict | None, name: str, shape: tuple) -> np.ndarray:
    """A scratch array: from the workspace ``ws`` (reused across E-steps) or freshly allocated."""
    if ws is None:
        return np.empty(shape)
    if name not in ws or ws[name].shape != shape:
        ws[name] = np.empty(shape)
    return ws[name]


def _emissions(m: HMM, X: np.ndarray, ws: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``B[t, k, n] = e(x_{n,t} | k)`` for a batch ``X`` (N, T): shape (T, K, N), sequences on the
    last (contiguous) axis so a step is one (K, K) @ (K, N) product; one gather from the flat
    ``emit`` through the cached index of :func:`_emit_index`. A step whose emissions are all
    below :data:`TINY` is divided by its largest one; ``log_b`` (T, N) holds those logs (else 0)."""
    N, T = X.shape
    B = _buffer(ws, "B", (T, m.K, N))
    # symbols are validated, so "clip" never clips (and it is the fast mode of take)
    np.take(m.emit.ravel(), _emit_index(X, m.K, m.V, ws), out=B.reshape(-1), mode="clip")
    log_b = np.zeros((T, N))
    if m.emit.max(axis=0).min() < TINY:          # some symbol is that unlikely in every state
        top = B.max(axis=1)
        tiny = (top < TINY) & (top > 0)
        B /= np.where(tiny, top, 1.0)[:, None, :]
        log_b[tiny] = np.log(top[tiny])
    return B, log_b


def _pass(m: HMM, X: np.ndarray, semiring: Semiring = SUM, ws: dict | None = None) -> ChainChart:
    """The chain with ``init = start``, ``M = transᵀ``: with ``SUM`` the forward algorithm, with
    ``MAX`` Viterbi's recursion ``δ_t(j) = max_i δ_{t-1}(i) q(j|i) e(x_t|j)`` (03)."""
    B, log_b = _emissions(m, X, ws)
    table, scale = chain(m.start, m.trans.T, B, semiring, table=_buffer(ws, semiring.name, B.shape))
    if m.stop is None:
        end = np.ones(X.shape[0])
    elif semiring is SUM:
        end = m.stop @ table[-1]
    else:
        end = (table[-1] * m.stop[:, None]).max(axis=0)
    return ChainChart(B, log_b, table, scale, end, semiring)


def _backward(m: HMM, chart: ChainChart, ws: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The backward pass: the chain recursion on the reversed sequence with ``M = trans``,
    ``init = stop / end`` and the forward's scales (03, backward algorithm).

    Returns ``beta`` (T, K, N), ``beta[t] = p(x_{t+1..T}, STOP | y_t) / p(x_{t+1..T}, STOP | x_1..x_t)``,
    so that ``alpha[t] * beta[t] = p(y_t | x)``, and ``u`` (T, K, N) ``= e(x_t|·) beta[t] / scale[t]``,
    so that ``xi[t, i, j] = alpha[t, i] q(j|i) u[t+1, j]``. Only for sequences with ``p(x) > 0``.
    """
    T, K, N = chart.B.shape
    init = m.stop[:, None] / chart.end[None, :] if m.stop is not None else np.ones(K)
    beta, u = _buffer(ws, "beta", (T, K, N)), _buffer(ws, "u", (T, K, N))
    chain(init, m.trans, chart.B[::-1], SUM, scale=chart.scale[::-1], table=u[::-1], messages=beta[::-1])
    return beta, u


def _posterior_counts(m: HMM, batch: Batch, chart: ChainChart) -> dict[str, np.ndarray]:
    """Posterior expected counts of a batch (03, expected counts):

    ``c(y) at t=1 = Σ_n γ_1``, ``c(y', y) = Σ_{n,t} ξ_t(y', y)``, ``c(y, x) = Σ_{n,t: x_t = x} γ_t(y)``,
    ``c(y, STOP) = Σ_n γ_T(y)``.
    """
    K = m.K
    beta, u = _backward(m, chart, batch.workspace)
    gamma = np.multiply(chart.table, beta, out=beta)
    counts = {"start": gamma[0].sum(axis=1)}
    # Σ_{n,t} ξ_t(i, j) = q(j|i) Σ_{n,t} α̂_t(i) u_{t+1}(j): a (K, N) @ (N, K) product per step, summed.
    counts["trans"] = m.trans * np.matmul(chart.table[:-1], u[1:].transpose(0, 2, 1)).sum(axis=0)
    index = _emit_index(batch.X, K, m.V, batch.workspace)   # cell (k, x_t) of emit for every (t, k, n)
    counts["emit"] = np.bincount(index, gamma.ravel(), minlength=K * m.V).reshape(K, m.V)
    if m.stop is not None:
        counts["stop"] = gamma[-1].sum(axis=1)
    return counts


def _path_counts(K: int, V: int, stop: bool, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
    """Counts of the state paths ``Y`` (N, T) under observations ``X`` (N, T): observed, Viterbi or
    sampled paths alike (the supervised sufficient statistics of notebook 01)."""
    def tally(index, size):
        return np.bincount(index.ravel(), minlength=size).astype(float)

    counts = {
        "start": tally(Y[:, 0], K),
        "trans": tally(Y[:, :-1] * K + Y[:, 1:], K * K).reshape(K, K),
        "emit": tally(Y * V + X, K * V).reshape(K, V),
    }
    if stop:
        counts["stop"] = tally(Y[:, -1], K)
    return counts


# ======================================================================== public API
def log_likelihood(m: HMM, seqs) -> float:
    """``Σ_n log p(x_n)`` (natural log; with STOP including the final STOP transition).

    ``seqs`` is a corpus (list of 1-D integer arrays) or one sequence. Returns ``-inf`` when some
    sequence has probability zero. Batched, scaled forward pass: exact and finite on long sequences.
    """
    check_instance("m", m, HMM, "an hmm.HMM")
    return _corpus_log_likelihood(m, m.prepare(seqs))


@one_blas_thread
def _corpus_log_likelihood(m: HMM, corpus: Corpus) -> float:
    return float(sum(m.chart(b).log_evidence.sum() for b in corpus.batches))


def forward(m: HMM, seq) -> tuple[np.ndarray, np.ndarray]:
    """Scaled forward pass of one sequence (notebook 03).

    Returns ``(alpha_hat, log_c)``: ``alpha_hat[t, k] = p(y_t = k | x_1..x_t)`` (T, K) and
    ``log_c[t] = log p(x_t | x_1..x_{t-1})`` (T,), so that the unscaled forward probabilities are
    ``α_t = alpha_hat[t] · exp(Σ_{s<=t} log_c[s])`` and
    ``log p(x) = Σ_t log_c[t] + log Σ_k alpha_hat[T-1, k] stop[k]`` (the last term is 0 without STOP).
    """
    check_instance("m", m, HMM, "an hmm.HMM")
    chart = _pass(m, _one(m, seq))
    with np.errstate(divide="ignore"):
        return chart.table[:, :, 0].copy(), np.log(chart.scale[:, 0]) + chart.log_b[:, 0]


def backward(m: HMM, seq) -> np.ndarray:
    """Scaled backward pass of one sequence: ``beta_hat`` (T, K) with ``alpha_hat * beta_hat = gamma``.

    ``beta_hat[t] = β_t / p(x_{t+1}..x_T, STOP | x_1..x_t)`` where ``β_t(k) = p(x_{t+1}..x_T, STOP | y_t=k)``.
    Like :func:`posteriors`, raises ``ValueError`` when ``p(x) = 0`` (the scaling is then undefined;
    :func:`backward_table` gives the unscaled ``β``).
    """
    check_instance("m", m, HMM, "an hmm.HMM")
    chart = _pass(m, _one(m, seq))
    _refuse_zero(chart, "its scaled backward probabilities")
    return _backward(m, chart)[0][:, :, 0].copy()


def forward_table(m: HMM, seq) -> np.ndarray:
    """Unscaled forward probabilities ``α_t(k) = p(x_1..x_t, y_t = k)``, shape (T, K).

    Derived from the scaled pass, ``α_t = α̂_t · Π_{s<=t} c_s``; for drawing a trellis of a *short*
    sequence: the entries underflow to 0 on long ones (notebook 03 shows it), use :func:`forward`.
    """
    check_instance("m", m, HMM, "an hmm.HMM")
    alpha, log_c = forward(m, seq)
    with np.errstate(under="ignore"):
        return alpha * np.exp(np.cumsum(log_c))[:, None]


def backward_table(m: HMM, seq) -> np.ndarray:
    """Unscaled backward probabilities ``β_t(k) = p(x_{t+1}..x_T, STOP | y_t = k)``, shape (T, K).

    ``β_T = stop`` (or 1 without STOP), ``β_t = trans @ (e(x_{t+1}|·) β_{t+1})``: the chain recursion
    run on the reversed sequence with its own scales ``d_t``, so ``β_t = (its message at t) ·
    Π_{s>t} d_s``. Defined for every sequence, also of probability zero; for short sequences.
    """
    check_instance("m", m, HMM, "an hmm.HMM")
    B, log_b = _emissions(m, _one(m, seq))
    T, K, _ = B.shape
    init = m.stop if m.stop is not None else np.ones(K)
    messages = np.empty_like(B)
    _, d = chain(init, m.trans, B[::-1], SUM, messages=messages[::-1])
    with np.errstate(divide="ignore", under="ignore"):
        log_d = np.log(d[::-1, 0]) + log_b[:, 0]       # back in time order
        after = np.concatenate([np.cumsum(log_d[::-1])[::-1][1:], [0.0]])
        return np.where(messages[:, :, 0] > 0, messages[:, :, 0] * np.exp(after)[:, None], 0.0)


def posteriors(m: HMM, seq) -> tuple[np.ndarray, np.ndarray]:
    """``(gamma, xi)``: ``gamma[t, k] = p(y_t = k | x)`` (T, K), ``xi[t, i, j] = p(y_t = i, y_{t+1} = j | x)``
    (T-1, K, K). Raises ``ValueError`` if ``p(x) = 0`` (the posterior is undefined)."""
    check_instance("m", m, HMM, "an hmm.HMM")
    chart = _pass(m, _one(m, seq))
    _refuse_zero(chart, "its posteriors")
    beta, u = _backward(m, chart)
    a = chart.table[:, :, 0]
    gamma = a * beta[:, :, 0]
    xi = a[:-1, :, None] * m.trans[None] * u[1:, None, :, 0]
    return gamma, xi


def _refuse_zero(chart: ChainChart, what: str) -> None:
    if not np.isfinite(chart.log_evidence[0]):
        raise ValueError(f"the sequence has probability zero under the model: {what} are undefined")


def viterbi(m: HMM, seq) -> tuple[np.ndarray, float]:
    """``(path, log_prob)``: the most probable state path ``argmax_y p(x, y)`` and ``log p(x, path)``.

    ``log_prob`` is ``-inf`` (and the path arbitrary) when every path has probability zero.
    """
    check_instance("m", m, HMM, "an hmm.HMM")
    chart = _pass(m, _one(m, seq), MAX)
    return backtrace(chart.table, m.trans, m.stop, MAX)[0], float(chart.log_evidence[0])


def expected_counts(m: HMM, seqs, method: str = "soft", rng=None) -> dict[str, np.ndarray]:
    """The E-step's counts (same keys and shapes as ``m.params()``) summed over a corpus."""
    check_instance("m", m, HMM, "an hmm.HMM")
    return m.e_step(m.prepare(seqs), method, rng).counts


def sample(m: HMM, n_sequences: int, length: int | None = None,
           rng=None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Draw ``n_sequences`` sequences from the model: ``(observations, states)``, two lists of arrays.

    Without STOP every sequence has ``length`` steps (required). With STOP the model draws each
    length (a sequence ends when the chain moves to STOP); ``length``, if given, is a cap: a sequence
    still running after ``length`` steps is cut there (so it is then not an exact draw). Without a
    cap, a state the chain can reach but from which it can never reach STOP is refused (the draw
    would never end). All sequences advance together, one vectorized draw per step; randomness only
    from ``rng``. ``length`` is at most :data:`MAX_LENGTH` and ``n_sequences × length`` at most
    :data:`~emlab.validation.MAX_ELEMENTS`; without a cap, sequences that are still running after
    that many steps are refused.
    """
    check_instance("m", m, HMM, "an hmm.HMM")
    rng = as_generator(rng)
    N = check_positive_int("n_sequences", n_sequences)
    if length is None and m.stop is None:
        raise ValueError("length is required for a model without STOP")
    if length is not None:
        check_positive_int("length", length, high=MAX_LENGTH)
        check_elements("n_sequences and length", N * length, "n_sequences × length")
    else:
        _check_reaches_stop(m)
    cap = int(length) if length is not None else min(MAX_LENGTH, MAX_ELEMENTS // N)
    rows = np.column_stack([m.trans, m.stop]) if m.stop is not None else m.trans
    nxt = np.cumsum(rows, axis=1)                # cumulative rows, computed once for every draw
    y = draw(np.broadcast_to(np.cumsum(m.start), (N, m.K)), rng.random(N), cumulative=True)
    alive = np.ones(N, dtype=bool)
    lengths = np.zeros(N, dtype=np.intp)
    states = []
    t = 0
    while alive.any() and t < cap:               # the chain, all sequences at once, in chunks of steps
        u = rng.random((min(cap - t, 1024, max(1, CHUNK // N)), N))
        for u_t in u:
            states.append(y)
            lengths += alive
            t += 1
            y = draw(nxt[y], u_t, cumulative=True)
            if m.stop is not None:
                alive &= y < m.K
                y = np.minimum(y, m.K - 1)
                if not alive.any():
                    break
    if length is None and alive.any():
        raise ValueError(f"length: some sequences are still running after {cap:,} steps (the model "
                         f"stops too rarely); pass length= to cut them there")
    Y = np.array(states).T                       # (N, T); then every emission in one draw
    X = draw(np.cumsum(m.emit, axis=1)[Y], rng.random(Y.shape), cumulative=True)
    return [X[n, :lengths[n]] for n in range(N)], [Y[n, :lengths[n]] for n in range(N)]


def _check_reaches_stop(m: HMM) -> None:
    """Raise ``ValueError`` naming a state that the chain can reach from ``start`` but from which
    STOP cannot be reached (a draw would run forever)."""
    step = m.trans > 0
    reach = m.start > 0
    while True:                                  # states reachable from the start
        more = reach | (reach @ step)
        if (more == reach).all():
            break
        reach = more
    ends = m.stop > 0
    while True:                                  # states from which STOP is reachable
        more = ends | (step @ ends)
        if (more == ends).all():
            break
        ends = more
    stuck = np.flatnonzero(reach & ~ends)
    if stuck.size:
        raise ValueError(f"state {int(stuck[0])} can be reached from start but can never reach STOP, so "
                         "a sampled sequence might never end: give a length cap")
