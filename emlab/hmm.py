"""Hidden Markov models in Collins' form: forward-backward, Viterbi, sampling, Baum-Welch (notebook 03).

An HMM with ``K`` states and ``V`` symbols is a product of categoricals (notebook 01)::

    p(x, y) = start[y_1] · Π_{i=2..T} q(y_i | y_{i-1}) · Π_{i=1..T} e(x_i | y_i) · stop[y_T]

with ``q(j | i) = trans[i, j]``, ``e(v | k) = emit[k, v]`` and, optionally, Collins' STOP symbol:
``stop[i] = q(STOP | i)`` and ``trans[i].sum() + stop[i] == 1``. Without STOP the last factor is 1
and every ``trans`` row sums to 1. (``start`` plays the role of ``q(y_1 | *)``.)

Everything here runs **batched over all sequences of a corpus**: sequences are grouped by length
and every time step advances all sequences of a group at once, with one ``(K, K) @ (K, N)``
product (:func:`_forward_batch`). The forward pass keeps *scaled* probabilities: at every step
the vector ``α_t`` is divided by its sum ``c_t``, so ``log p(x) = Σ_t log c_t (+ log Σ_i α̂_T(i)
stop[i])`` stays finite on a 100,000-step sequence. Viterbi is the same recursion with ``max`` in
place of ``Σ`` (max-product instead of sum-product), run in log space.

Expected counts have the shapes of the parameters (``start``, ``trans``, ``emit`` and ``stop``),
so the M-step is :func:`emlab.categorical.normalize` of each (with STOP, of the concatenation
``[trans | stop]`` row by row, since those share one categorical per state)::

    q(y | y') = c(y', y) / c(y')        e(x | y) = c(y, x) / c(y)                 (03, M-step)

The three E-steps (``method`` of :func:`emlab.em.fit`) differ only in where counts come from:
posteriors (``"soft"``, Baum-Welch), the Viterbi path (``"hard"``), or a path sampled from the
posterior by forward-filtering backward-sampling (``"stochastic"``).
"""

from __future__ import annotations

import numpy as np

from . import categorical
from .em import METHODS, EStep
from .threads import one_blas_thread
from .validation import (
    SUM_TOL,
    as_corpus,
    as_generator,
    check_array,
    check_positive_int,
    check_rows_sum_to_one,
    check_symbols,
)

__all__ = [
    "HMM", "forward", "backward", "forward_table", "backward_table", "log_likelihood",
    "posteriors", "viterbi", "expected_counts", "sample", "Corpus",
]


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

    The model implements the :class:`emlab.em.EMModel` protocol, so ``em.fit(m, corpus,
    method="soft" | "hard" | "stochastic")`` runs Baum-Welch and its hard and stochastic variants.

    Examples
    --------
    >>> m = HMM([.8, .2], [[.6, .4], [.5, .5]], [[.2, .4, .4], [.5, .4, .1]])
    >>> round(float(np.exp(log_likelihood(m, [2, 0, 2]))), 6)
    0.028562
    """

    def __init__(self, start, trans, emit, stop=None):
        start = check_array("start", start, ndim=1)
        K = start.shape[0]
        if K == 0:
            raise ValueError("start must have at least one state")
        if abs(start.sum() - 1.0) > SUM_TOL:
            raise ValueError(f"start sums to {float(start.sum()):.12g}, not 1")
        trans = check_array("trans", trans, shape=(K, K))
        emit = check_array("emit", emit, ndim=2)
        if emit.shape[0] != K or emit.shape[1] == 0:
            raise ValueError(f"emit must have shape ({K}, V) with V >= 1 (a row per state), got {emit.shape}")
        check_rows_sum_to_one("emit", emit)
        if stop is None:
            check_rows_sum_to_one("trans", trans)
        else:
            stop = check_array("stop", stop, shape=(K,))
            check_rows_sum_to_one("trans", trans, extra=stop, extra_name="stop")
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
        """Every categorical drawn from a symmetric Dirichlet(``concentration``) (notebook 06).

        With ``stop``, each row ``[trans[i] | stop[i]]`` is one Dirichlet draw of length K+1.
        """
        K, V = _check_sizes(K, V)
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
        """Supervised MLE from a few labelled sequences, with ``smoothing`` pseudo-counts per cell.

        ``q = (c(y', y) + s) / (c(y') + K s)``, ``e = (c(y, x) + s) / (c(y) + V s)`` (notebook 01 with
        additive smoothing); a good "informed" initialization for EM (notebook 06).
        """
        K, V = _check_sizes(K, V)
        xs = as_corpus(sequences, V)
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
        return data if isinstance(data, Corpus) and data.V == self.V else Corpus(data, self.V)

    def e_step(self, prepared, method: str = "soft", rng=None) -> EStep:
        """Expected counts (same shapes as :meth:`params`), ``log p(data)`` and the objective.

        ``"soft"``: posterior expected counts (Baum-Welch). ``"hard"``: counts of each sequence's
        Viterbi path; objective ``Σ_n max_y log p(x_n, y)``. ``"stochastic"``: counts of one path per
        sequence sampled from ``p(y | x)`` with ``rng``. Raises ``ValueError`` naming a sequence of
        probability zero (its posterior, hence its counts, is undefined).
        """
        counts, ll, objective = _e_step(self, self.prepare(prepared), method, as_generator(rng))
        return EStep(counts=counts, log_likelihood=ll, objective=objective)

    def m_step(self, counts: dict[str, np.ndarray]) -> HMM:
        """Normalize each categorical of the counts; a row with no counts keeps its parameters."""
        return _normalize_counts(counts, self, self.K, self.has_stop)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


def _check_sizes(K, V) -> tuple[int, int]:
    return check_positive_int("K", K), check_positive_int("V", V)


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


# ---------------------------------------------------------------------- corpus
class Corpus:
    """A validated corpus of integer sequences, grouped by length for batched dynamic programs.

    ``seqs`` is the list of sequences; ``groups`` a list of ``(index, X)`` with ``X`` an ``(N, T)``
    array of the ``N`` sequences of length ``T`` whose corpus positions are ``index``.
    """

    def __init__(self, seqs, V: int):
        self.V = V
        self.seqs = _fast_corpus(seqs, V) or as_corpus(seqs, V)
        lengths = np.array([len(s) for s in self.seqs])
        self.groups = []
        for T in np.unique(lengths):
            index = np.flatnonzero(lengths == T)
            self.groups.append((index, np.stack([self.seqs[i] for i in index])))
        self.n_tokens = int(lengths.sum())
        self._emit_index: dict[tuple[int, int], np.ndarray] = {}
        self._workspaces: dict[int, dict] = {}

    def workspace(self, g: int) -> dict:
        """Scratch arrays of group ``g`` reused by every E-step on this corpus (about 4·K floats per
        token), so that EM does not allocate and page in fresh memory at each iteration."""
        return self._workspaces.setdefault(g, {})

    def emit_index(self, g: int, K: int) -> np.ndarray:
        """For group ``g`` (N, T) and ``K`` states: the flat index ``k·V + x[n, t]`` of every (t, k, n),
        laid out like a (T, K, N) array; cached, since it does not depend on the parameters."""
        key = (g, K)
        if key not in self._emit_index:
            X = self.groups[g][1]
            self._emit_index[key] = (np.arange(K)[:, None] * self.V + X.T[:, None, :]).ravel()
        return self._emit_index[key]

    def __len__(self) -> int:
        return len(self.seqs)

    def __iter__(self):
        return iter(self.seqs)


def _fast_corpus(seqs, V: int) -> list[np.ndarray] | None:
    """A list of non-empty 1-D integer arrays all inside the vocabulary, checked in one pass over their
    concatenation; ``None`` for anything else (then :func:`as_corpus` checks item by item and names
    the sequence and position at fault)."""
    if not isinstance(seqs, (list, tuple)) or not seqs:
        return None
    if not all(isinstance(s, np.ndarray) and s.ndim == 1 and s.size and s.dtype.kind in "iu" for s in seqs):
        return None
    flat = np.concatenate(seqs)
    if flat.min() < 0 or flat.max() >= V:
        return None
    return [s.astype(np.intp, copy=False) for s in seqs]


def _one(m: HMM, seq) -> np.ndarray:
    """One sequence as a (1, T) batch."""
    return check_symbols("sequence", seq, m.V)[None, :]


# ------------------------------------------------------- the dynamic programs
# Forward (sum-product) and Viterbi (max-product) are one recursion in two semirings:
#     v_1(j) = start[j] e(x_1|j),      v_t(j) = [ ⊕_i v_{t-1}(i) q(j|i) ] ⊗ e(x_t|j)
# with ⊕ = Σ over probabilities (forward, kept scaled) or ⊕ = max over log-probabilities (Viterbi).

def _emissions(m: HMM, X: np.ndarray, ws: dict | None = None) -> np.ndarray:
    """``B[t, k, n] = e(x_{n,t} | k)`` for a batch ``X`` of shape (N, T): shape (T, K, N).

    Batches keep the N sequences on the last (contiguous) axis, so every per-step operation runs
    over long rows of N numbers, and a step of the recursions is one (K, K) @ (K, N) product.
    """
    N, T = X.shape
    B = _buffer(ws, "B", (T, m.K, N))
    XT = np.ascontiguousarray(X.T)
    for k in range(m.K):                         # symbols are validated, so "clip" never clips
        np.take(m.emit[k], XT, out=B[:, k, :], mode="clip")
    return B


def _buffer(ws: dict | None, name: str, shape: tuple) -> np.ndarray:
    """A scratch array: from the workspace ``ws`` (reused across E-steps) or freshly allocated."""
    if ws is None:
        return np.empty(shape)
    if name not in ws or ws[name].shape != shape:
        ws[name] = np.empty(shape)
    return ws[name]


def _forward_batch(m: HMM, B: np.ndarray, ws: dict | None = None):
    """Scaled forward pass over a batch (03, forward algorithm).

    Returns ``alpha`` (T, K, N) with ``alpha[t, :, n] = p(y_t | x_1..x_t)`` (sums to 1, or is
    all zero once the prefix has probability 0), ``scale`` (T, N) with ``scale[t] = p(x_t | x_<t)``,
    and ``end`` (N,) ``= Σ_i alpha[T-1, i, n] stop[i]`` (1 without STOP). So
    ``log p(x_n) = Σ_t log scale[t, n] + log end[n]``.
    """
    T, K, N = B.shape
    alpha = _buffer(ws, "alpha", B.shape)
    scale = _buffer(ws, "scale", (T, 1, N))
    trans_t, ones = np.ascontiguousarray(m.trans.T), np.ones((1, K))   # column sums as a matrix product
    with np.errstate(invalid="ignore", divide="ignore"):
        a = alpha[0]
        np.multiply(m.start[:, None], B[0], out=a)
        np.dot(ones, a, out=scale[0])
        a /= scale[0]
        for t in range(1, T):                    # α̂_t(j) ∝ Σ_i q(j|i) α̂_{t-1}(i) · e(x_t|j)
            a = alpha[t]
            np.dot(trans_t, alpha[t - 1], out=a)
            a *= B[t]
            c = scale[t]
            np.dot(ones, a, out=c)
            a /= c
    scale = scale[:, 0, :]
    dead = ~(scale > 0)                          # a prefix of probability 0 (0/0 left NaN behind it)
    if dead.any():
        dead = np.logical_or.accumulate(dead, axis=0)
        alpha.transpose(0, 2, 1)[dead] = 0.0
        scale[dead] = 0.0
    end = m.stop @ alpha[-1] if m.stop is not None else np.ones(N)
    return alpha, scale, end


def _log_evidence(scale: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``log p(x_n)`` per sequence from the forward scales (``-inf`` when p(x_n) = 0)."""
    with np.errstate(divide="ignore"):
        return np.log(scale).sum(axis=0) + np.log(end)


def _backward_batch(m: HMM, B: np.ndarray, scale: np.ndarray, end: np.ndarray, ws: dict | None = None):
    """Scaled backward pass: ``beta[t] = p(x_{t+1..T}, STOP | y_t) / p(x_{t+1..T}, STOP | x_1..x_t)``.

    Scaled by the forward's ``scale`` so that ``alpha[t] * beta[t] = p(y_t | x)`` (03, posteriors).
    Also returns the messages ``w[t] = e(x_{t+1}|·) beta[t+1] / scale[t+1]`` (T-1, K, N), from which
    ``beta[t] = trans @ w[t]`` and ``xi[t, i, j] = alpha[t, i] q(j|i) w[t, j]``.
    Only called for sequences of positive probability.
    """
    T, K, N = B.shape
    beta = _buffer(ws, "beta", B.shape)
    w = _buffer(ws, "w", (T - 1, K, N))
    beta[-1] = m.stop[:, None] / end if m.stop is not None else 1.0
    np.divide(B[1:], scale[1:, None, :], out=w)  # e(x_{t+1}|j) / c_{t+1}, all steps in one operation
    for t in range(T - 2, -1, -1):               # β̂_t(i) = Σ_j q(j|i) e(x_{t+1}|j) β̂_{t+1}(j) / c_{t+1}
        wt = w[t]
        wt *= beta[t + 1]
        np.dot(m.trans, wt, out=beta[t])
    return beta, w


def _viterbi_batch(m: HMM, B: np.ndarray):
    """Max-product forward pass in log space plus backtracking (03, Viterbi).

    Returns the best paths (N, T) and their scores ``max_y log p(x_n, y)`` (N,).
    """
    T, K, N = B.shape
    with np.errstate(divide="ignore"):
        log_trans, log_B = np.log(m.trans)[:, :, None], np.log(B)
        d = np.log(m.start)[:, None] + log_B[0]
        last = np.log(m.stop)[:, None] if m.stop is not None else 0.0
    back = np.empty((T, K, N), dtype=np.intp)
    for t in range(1, T):                        # δ_t(j) = max_i δ_{t-1}(i) + log q(j|i) + log e(x_t|j)
        s = d[:, None, :] + log_trans            # s[i, j, n]
        np.argmax(s, axis=0, out=back[t])
        d = s.max(axis=0)
        d += log_B[t]
    d = d + last
    cols = np.arange(N)
    path = np.empty((N, T), dtype=np.intp)
    path[:, -1] = d.argmax(axis=0)
    score = d[path[:, -1], cols]
    for t in range(T - 1, 0, -1):
        path[:, t - 1] = back[t, path[:, t], cols]
    return path, score


def _draw(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row of ``weights`` (N, K), drawn with probability proportional to the row."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), weights.shape[1] - 1)


def _sample_paths_batch(m: HMM, alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Forward-filtering backward-sampling: draw ``y ~ p(y | x)`` for each sequence (notebook 07).

    ``p(y_T | x) ∝ α̂_T(y_T) stop[y_T]`` and ``p(y_t | y_{t+1}, x) ∝ α̂_t(y_t) q(y_{t+1} | y_t)``.
    """
    T, K, N = alpha.shape
    path = np.empty((N, T), dtype=np.intp)
    last = alpha[-1] * m.stop[:, None] if m.stop is not None else alpha[-1]
    path[:, -1] = _draw(last.T, rng)
    for t in range(T - 2, -1, -1):
        path[:, t] = _draw((alpha[t] * m.trans[:, path[:, t + 1]]).T, rng)
    return path


# ------------------------------------------------------------ expected counts


def _soft_counts(m: HMM, corpus: Corpus, g: int, B, alpha, scale, end) -> dict[str, np.ndarray]:
    """Posterior expected counts of the batch ``corpus.groups[g]`` (03, expected counts):

    ``c(y) at t=1 = Σ_n γ_1``, ``c(y', y) = Σ_{n,t} ξ_t(y', y)``, ``c(y, x) = Σ_{n,t: x_t = x} γ_t(y)``,
    ``c(y, STOP) = Σ_n γ_T(y)``.
    """
    T, K, N = B.shape
    beta, w = _backward_batch(m, B, scale, end, corpus.workspace(g))
    gamma = np.multiply(alpha, beta, out=beta)
    counts = {"start": gamma[0].sum(axis=1)}
    # Σ_{n,t} ξ_t(i, j) = q(j|i) Σ_{n,t} α̂_t(i) w_t(j): a (K, N) @ (N, K) product per step, summed.
    counts["trans"] = m.trans * np.matmul(alpha[:-1], w.transpose(0, 2, 1)).sum(axis=0)
    index = corpus.emit_index(g, K)                      # cell (k, x_t) of emit for every (t, k, n)
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


def _zero_counts(m: HMM) -> dict[str, np.ndarray]:
    return {k: np.zeros_like(v) for k, v in m.params().items()}


@one_blas_thread
def _e_step(m: HMM, corpus: Corpus, method: str, rng: np.random.Generator):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    total = _zero_counts(m)
    ll = 0.0
    objective = 0.0
    for g, (index, X) in enumerate(corpus.groups):
        ws = corpus.workspace(g)
        B = _emissions(m, X, ws)
        alpha, scale, end = _forward_batch(m, B, ws)
        logp = _log_evidence(scale, end)
        if not np.all(np.isfinite(logp)):
            n = int(index[np.flatnonzero(~np.isfinite(logp))[0]])
            raise ValueError(f"sequence {n} has probability zero under the model, so its expected counts "
                             "are undefined (the E-step needs p(x) > 0)")
        ll += float(logp.sum())
        if method == "soft":
            counts = _soft_counts(m, corpus, g, B, alpha, scale, end)
            objective += float(logp.sum())
        else:
            if method == "hard":
                paths, score = _viterbi_batch(m, B)
                objective += float(score.sum())
            else:
                paths = _sample_paths_batch(m, alpha, rng)
                objective += float(logp.sum())
            counts = _path_counts(m.K, m.V, m.has_stop, X, paths)
        for k in total:
            total[k] += counts[k]
    return total, ll, objective


# ------------------------------------------------------------------ public API
def log_likelihood(m: HMM, seqs) -> float:
    """``Σ_n log p(x_n)`` (natural log; with STOP including the final STOP transition).

    ``seqs`` is a corpus (list of 1-D integer arrays) or one sequence. Returns ``-inf`` when some
    sequence has probability zero. Batched, scaled forward pass: exact and finite on long sequences.
    """
    return _corpus_log_likelihood(m, m.prepare(seqs))


@one_blas_thread
def _corpus_log_likelihood(m: HMM, corpus: Corpus) -> float:
    total = 0.0
    for _, X in corpus.groups:
        _, scale, end = _forward_batch(m, _emissions(m, X))
        total += float(_log_evidence(scale, end).sum())
    return total


def forward(m: HMM, seq) -> tuple[np.ndarray, np.ndarray]:
    """Scaled forward pass of one sequence (notebook 03).

    Returns ``(alpha_hat, log_c)``: ``alpha_hat[t, k] = p(y_t = k | x_1..x_t)`` (T, K) and
    ``log_c[t] = log p(x_t | x_1..x_{t-1})`` (T,), so that the unscaled forward probabilities are
    ``α_t = alpha_hat[t] · exp(Σ_{s<=t} log_c[s])`` and
    ``log p(x) = Σ_t log_c[t] + log Σ_k alpha_hat[T-1, k] stop[k]`` (the last term is 0 without STOP).
    """
    alpha, scale, _ = _forward_batch(m, _emissions(m, _one(m, seq)))
    with np.errstate(divide="ignore"):
        return alpha[:, :, 0], np.log(scale[:, 0])


def backward(m: HMM, seq) -> np.ndarray:
    """Scaled backward pass of one sequence: ``beta_hat`` (T, K) with ``alpha_hat * beta_hat = gamma``.

    ``beta_hat[t] = β_t / p(x_{t+1}..x_T, STOP | x_1..x_t)`` where ``β_t(k) = p(x_{t+1}..x_T, STOP | y_t=k)``.
    """
    B = _emissions(m, _one(m, seq))
    _, scale, end = _forward_batch(m, B)
    return _backward_batch(m, B, scale, end)[0][:, :, 0]


def forward_table(m: HMM, seq) -> np.ndarray:
    """Unscaled forward probabilities ``α_t(k) = p(x_1..x_t, y_t = k)``, shape (T, K).

    For drawing a trellis of a *short* sequence: the entries underflow to 0 on long ones (notebook 03
    shows it); use :func:`forward` there.
    """
    X = _one(m, seq)[0]
    alpha = np.empty((len(X), m.K))
    alpha[0] = m.start * m.emit[:, X[0]]
    for t in range(1, len(X)):
        alpha[t] = (alpha[t - 1] @ m.trans) * m.emit[:, X[t]]
    return alpha


def backward_table(m: HMM, seq) -> np.ndarray:
    """Unscaled backward probabilities ``β_t(k) = p(x_{t+1}..x_T, STOP | y_t = k)``, shape (T, K).

    ``β_T = stop`` (or 1 without STOP), ``β_t = trans @ (e(x_{t+1}|·) β_{t+1})``; for short sequences.
    """
    X = _one(m, seq)[0]
    beta = np.empty((len(X), m.K))
    beta[-1] = m.stop if m.stop is not None else 1.0
    for t in range(len(X) - 2, -1, -1):
        beta[t] = m.trans @ (m.emit[:, X[t + 1]] * beta[t + 1])
    return beta


def posteriors(m: HMM, seq) -> tuple[np.ndarray, np.ndarray]:
    """``(gamma, xi)``: ``gamma[t, k] = p(y_t = k | x)`` (T, K), ``xi[t, i, j] = p(y_t = i, y_{t+1} = j | x)``
    (T-1, K, K). Raises ``ValueError`` if ``p(x) = 0`` (the posterior is undefined)."""
    X = _one(m, seq)
    B = _emissions(m, X)
    alpha, scale, end = _forward_batch(m, B)
    if not np.isfinite(_log_evidence(scale, end)[0]):
        raise ValueError("the sequence has probability zero under the model: its posteriors are undefined")
    beta, w = _backward_batch(m, B, scale, end)
    a = alpha[:, :, 0]
    gamma = a * beta[:, :, 0]
    xi = a[:-1, :, None] * m.trans[None] * w[:, None, :, 0]
    return gamma, xi


def viterbi(m: HMM, seq) -> tuple[np.ndarray, float]:
    """``(path, log_prob)``: the most probable state path ``argmax_y p(x, y)`` and ``log p(x, path)``.

    ``log_prob`` is ``-inf`` (and the path arbitrary) when every path has probability zero.
    """
    paths, score = _viterbi_batch(m, _emissions(m, _one(m, seq)))
    return paths[0], float(score[0])


def expected_counts(m: HMM, seqs, method: str = "soft", rng=None) -> dict[str, np.ndarray]:
    """The E-step's counts (same keys and shapes as ``m.params()``) summed over a corpus."""
    return m.e_step(m.prepare(seqs), method, rng).counts


def sample(m: HMM, n_sequences: int, length: int | None = None,
           rng=None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Draw ``n_sequences`` sequences from the model: ``(observations, states)``, two lists of arrays.

    Without STOP every sequence has ``length`` steps (required). With STOP the model draws each
    length (a sequence ends when the chain moves to STOP); ``length``, if given, is a cap: a sequence
    still running after ``length`` steps is cut there (so it is then not an exact draw). All
    sequences advance together, one vectorized draw per step; randomness only from ``rng``.
    """
    rng = as_generator(rng)
    check_positive_int("n_sequences", n_sequences)
    if length is None and m.stop is None:
        raise ValueError("length is required for a model without STOP")
    if length is not None:
        check_positive_int("length", length)
    if m.stop is not None and length is None and not np.any(m.stop > 0):
        raise ValueError("no state can reach STOP (stop is all zero): give a length cap")
    N = int(n_sequences)
    cap = int(length) if length is not None else np.iinfo(np.int64).max
    nxt = _cumulative(np.column_stack([m.trans, m.stop]) if m.stop is not None else m.trans)
    y = _draw_cumulative(_cumulative(m.start[None])[np.zeros(N, dtype=np.intp)], rng.random(N))
    alive = np.ones(N, dtype=bool)
    lengths = np.zeros(N, dtype=np.intp)
    states = []
    t = 0
    while alive.any() and t < cap:               # the chain, all sequences at once, in chunks of steps
        u = rng.random((min(cap - t, 1024), N))
        for u_t in u:
            states.append(y)
            lengths += alive
            t += 1
            y = _draw_cumulative(nxt[y], u_t)
            if m.stop is not None:
                alive &= y < m.K
                y = np.minimum(y, m.K - 1)
                if not alive.any():
                    break
    Y = np.array(states).T                       # (N, T); then every emission in one draw
    X = _draw_cumulative(_cumulative(m.emit)[Y], rng.random(Y.shape))
    return [X[n, :lengths[n]] for n in range(N)], [Y[n, :lengths[n]] for n in range(N)]


def _cumulative(p: np.ndarray) -> np.ndarray:
    """Row-wise cumulative sums ending in exactly 1 from each row's last positive entry on, so that
    ``_draw_cumulative`` never picks an outcome of probability zero."""
    cum = np.cumsum(p, axis=-1)
    last = p.shape[-1] - 1 - np.argmax(p[..., ::-1] > 0, axis=-1)
    cum[np.arange(p.shape[-1]) >= last[..., None]] = 1.0
    return cum


def _draw_cumulative(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws: the first index whose cumulative probability exceeds ``u`` (same leading shape)."""
    return (cum <= u[..., None]).sum(axis=-1)
