"""The numeric kernels behind :mod:`emlab.pcfg`: inside, outside, expected counts, CKY and
sampling through the inside chart (notebook 04). Pure functions over integer-coded arrays.

Shapes: ``N`` nonterminals, ``V`` words, ``binary[A, B, C] = q(A → B C)`` (N, N, N),
``lexical[A, w] = q(A → w)`` (N, V). A *batch* is ``B`` sentences of the same length ``n``,
``words`` of shape (B, n). Charts are indexed by fence posts: ``chart[b, i, j, A]`` is about the
span ``w_i … w_{j-1}`` (``0 ≤ i < j ≤ n``).

**Scaling.** A chart cell holds a vector scaled so that its largest entry is 1, and its natural
log scale separately: ``β(i, j, A) = chart[b, i, j, A] · exp(scale[b, i, j])``. Products of cells
add their scales, and the terms of a sum over split points are brought to a common scale (their
largest) before they are added, so no cell under- or overflows whatever the sentence length
(a cell with probability zero has scale ``-inf`` and zero entries).

**Vectorization.** For each span width ``w`` all spans of that width, in all sentences of the
batch, are computed at once: first the sum over split points of the outer products of the two
children (one batched matrix product), then one matrix product with the rule tensor reshaped to
``(N·N, N)``::

    β(i, j, A) = Σ_{B,C} q(A → B C) · [Σ_{k=i+1}^{j-1} β(i, k, B) β(k, j, C)]          (04, inside)
"""

from __future__ import annotations

import numpy as np

NEG_INF = -np.inf


def _finite_or_zero(m: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(m), m, 0.0)


def _store(chart, scale, index, values, log_offset) -> None:
    """Write ``values · exp(log_offset)`` into the cells ``index`` as (max-normalized vector, log scale)."""
    top = values.max(axis=-1)
    alive = top > 0
    safe = np.where(alive, top, 1.0)
    chart[(slice(None),) + index] = values / safe[..., None]
    scale[(slice(None),) + index] = np.where(alive, log_offset + np.log(safe), NEG_INF)


class Inside:
    """An inside chart of one batch: ``chart`` (B, n+1, n+1, N), ``scale`` (B, n+1, n+1) and, per
    width ``w ≥ 2``, the split-summed child products ``pairs[w]`` (B, S, N, N) with their log
    scales ``pair_scale[w]`` (B, S), which the expected binary counts reuse."""

    def __init__(self, chart, scale, pairs, pair_scale):
        self.chart, self.scale, self.pairs, self.pair_scale = chart, scale, pairs, pair_scale

    def log_prob(self, start: int) -> np.ndarray:
        """``log β(0, n, start)`` per sentence: ``log p(sentence)`` (``-inf`` without a parse)."""
        n = self.chart.shape[1] - 1
        top = self.chart[:, 0, n, start]
        with np.errstate(divide="ignore"):
            return np.where(top > 0, self.scale[:, 0, n] + np.log(top), NEG_INF)


def inside(binary: np.ndarray, lexical: np.ndarray, words: np.ndarray) -> Inside:
    """Scaled inside chart of a batch of equal-length sentences (see the module docstring)."""
    nbatch, n = words.shape
    N = lexical.shape[0]
    chart = np.zeros((nbatch, n + 1, n + 1, N))
    scale = np.full((nbatch, n + 1, n + 1), NEG_INF)
    i = np.arange(n)
    _store(chart, scale, (i, i + 1), lexical[:, words].transpose(1, 2, 0), 0.0)
    rule_mat = binary.reshape(N, N * N).T  # (N², N): column A holds q(A → B C) over (B, C)
    pairs: dict[int, np.ndarray] = {}
    pair_scale: dict[int, np.ndarray] = {}
    for w in range(2, n + 1):
        S = n - w + 1
        I = np.arange(S)[:, None]
        K = I + np.arange(1, w)[None, :]  # split points k = i+1 … i+w-1, shape (S, w-1)
        left, right = chart[:, I, K], chart[:, K, I + w]  # (B, S, w-1, N)
        comb = scale[:, I, K] + scale[:, K, I + w]  # (B, S, w-1)
        m = _finite_or_zero(comb.max(axis=-1))
        weights = np.exp(comb - m[..., None])
        pair = np.matmul((left * weights[..., None]).transpose(0, 1, 3, 2), right)  # (B, S, N, N)
        pairs[w], pair_scale[w] = pair, m
        values = pair.reshape(nbatch, S, N * N) @ rule_mat
        _store(chart, scale, (I[:, 0], I[:, 0] + w), values, m)
    return Inside(chart, scale, pairs, pair_scale)


def outside(binary: np.ndarray, ins: Inside, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Scaled outside chart ``α`` (same layout as the inside chart)::

        α(i, j, A) = Σ_{k<i} Σ_{B,C} α(k, j, B) q(B → C A) β(k, i, C)
                   + Σ_{k>j} Σ_{B,C} α(i, k, B) q(B → A C) β(j, k, C)          (04, outside)

    For each width (widest first) both sums run over the padded list of possible parents, with
    the split-summed products contracted against the rule tensor in one matrix product.
    """
    chart, scale = ins.chart, ins.scale
    nbatch, n = chart.shape[0], chart.shape[1] - 1
    N = binary.shape[0]
    out = np.zeros_like(chart)
    oscale = np.full_like(scale, NEG_INF)
    out[:, 0, n, start] = 1.0
    oscale[:, 0, n] = 0.0
    # rows (parent B, sibling C): first block q(B → C A) (span is the right child), then q(B → A C)
    rule_mat = np.vstack([binary.reshape(N * N, N), binary.transpose(0, 2, 1).reshape(N * N, N)])
    for w in range(n - 1, 0, -1):
        S, D = n - w + 1, n - w
        I = np.arange(S)[:, None]
        d = np.arange(1, D + 1)[None, :]
        ok_l = d <= I  # parent (i-d, i+w), left sibling (i-d, i)
        pl = np.where(ok_l, I - d, 0)
        ok_r = I + w + d <= n  # parent (i, i+w+d), right sibling (i+w, i+w+d)
        pr = np.where(ok_r, I + w + d, n)
        sc_l = np.where(ok_l, oscale[:, pl, I + w] + scale[:, pl, I], NEG_INF)  # (B, S, D)
        sc_r = np.where(ok_r, oscale[:, I, pr] + scale[:, I + w, pr], NEG_INF)
        m = _finite_or_zero(np.maximum(sc_l.max(axis=-1), sc_r.max(axis=-1)))
        w_l = np.exp(sc_l - m[..., None])
        w_r = np.exp(sc_r - m[..., None])
        t_l = np.matmul((out[:, pl, I + w] * w_l[..., None]).transpose(0, 1, 3, 2), chart[:, pl, I])
        t_r = np.matmul((out[:, I, pr] * w_r[..., None]).transpose(0, 1, 3, 2), chart[:, I + w, pr])
        t = np.concatenate([t_l.reshape(nbatch, S, N * N), t_r.reshape(nbatch, S, N * N)], axis=-1)
        _store(out, oscale, (I[:, 0], I[:, 0] + w), t @ rule_mat, m)
    return out, oscale


def soft_counts(binary, lexical, words, ins: Inside, out, oscale, log_z):
    """Expected rule counts of a batch (sums over its sentences)::

        c(A → B C) = Σ_{i<k<j} α(i, j, A) q(A → B C) β(i, k, B) β(k, j, C) / p(x)
        c(A → w)   = Σ_{i: w_i = w} α(i, i+1, A) β(i, i+1, A) / p(x)               (04, counts)

    ``log_z`` (B,) must be finite. Returns ``(binary_counts (N,N,N), lexical_counts (N,V))``.
    """
    nbatch, n = words.shape
    N, V = lexical.shape
    cb = np.zeros((N, N * N))
    for w, pair in ins.pairs.items():
        S = n - w + 1
        i = np.arange(S)
        weight = np.exp(oscale[:, i, i + w] + ins.pair_scale[w] - log_z[:, None])  # (B, S)
        a = (out[:, i, i + w] * weight[..., None]).reshape(nbatch * S, N)
        cb += a.T @ pair.reshape(nbatch * S, N * N)
    cb = cb.reshape(N, N, N) * binary
    i = np.arange(n)
    weight = np.exp(oscale[:, i, i + 1] + ins.scale[:, i, i + 1] - log_z[:, None])
    post = out[:, i, i + 1] * ins.chart[:, i, i + 1] * weight[..., None]  # (B, n, N)
    cl = np.zeros((V, N))
    np.add.at(cl, words.ravel(), post.reshape(-1, N))
    return cb, cl.T


def cky(binary, lexical, words):
    """CKY: the most probable tree of each sentence of a batch (max-product inside, log space).

    Returns ``(best (B,) log p(x, t*), split (B,n+1,n+1,N), rule (B,n+1,n+1,N))`` where for the
    span (i, j) labelled A, ``split`` is the best split point k and ``rule`` the flat index
    ``B·N + C`` of the best children."""
    nbatch, n = words.shape
    N = lexical.shape[0]
    with np.errstate(divide="ignore"):
        lbin = np.log(binary).reshape(N, N * N)
        llex = np.log(lexical)
    chart = np.full((nbatch, n + 1, n + 1, N), NEG_INF)
    split = np.zeros((nbatch, n + 1, n + 1, N), dtype=np.intp)
    rule = np.zeros((nbatch, n + 1, n + 1, N), dtype=np.intp)
    i = np.arange(n)
    chart[:, i, i + 1] = llex[:, words].transpose(1, 2, 0)
    for w in range(2, n + 1):
        S = n - w + 1
        I = np.arange(S)[:, None]
        K = I + np.arange(1, w)[None, :]
        pair = chart[:, I, K][..., :, None] + chart[:, K, I + w][..., None, :]  # (B, S, w-1, N, N)
        pair = pair.reshape(nbatch, S, w - 1, N * N)
        kbest = pair.argmax(axis=2)  # (B, S, N²)
        pbest = np.take_along_axis(pair, kbest[:, :, None, :], axis=2)[:, :, 0, :]
        scores = pbest[:, :, None, :] + lbin[None, None, :, :]  # (B, S, N, N²)
        r = scores.argmax(axis=-1)  # (B, S, N)
        s0 = I[:, 0]
        chart[:, s0, s0 + w] = np.take_along_axis(scores, r[..., None], axis=-1)[..., 0]
        rule[:, s0, s0 + w] = r
        split[:, s0, s0 + w] = s0[None, :, None] + 1 + np.take_along_axis(kbest, r, axis=-1)
    return chart, split, rule


def cky_trees(chart, split, rule, start: int, N: int):
    """Follow the back-pointers of :func:`cky`: per sentence, ``(log p, binary uses, lexical uses)``
    where uses are lists of ``(A, B, C, i, k, j)`` (span (i, j) split at k) and ``(A, i)``;
    ``None`` uses without a parse."""
    nbatch, n = chart.shape[0], chart.shape[1] - 1
    results = []
    for b in range(nbatch):
        best = float(chart[b, 0, n, start])
        if best == NEG_INF:
            results.append((best, None, None))
            continue
        bins, lexs = [], []
        stack = [(0, n, start)]
        while stack:
            i, j, A = stack.pop()
            if j == i + 1:
                lexs.append((A, i))
                continue
            k, r = int(split[b, i, j, A]), int(rule[b, i, j, A])
            B, C = divmod(r, N)
            bins.append((A, B, C, i, k, j))
            stack.append((k, j, C))
            stack.append((i, k, B))
        results.append((best, bins, lexs))
    return results


def _draw(weights: np.ndarray, rng: np.random.Generator) -> int:
    """Index drawn with probability proportional to the flat non-negative ``weights``."""
    cum = np.cumsum(weights.ravel())
    return int(min(np.searchsorted(cum, rng.random() * cum[-1], side="right"), cum.size - 1))


def sample_from_inside(binary, ins: Inside, b: int, start: int, rng: np.random.Generator):
    """A tree of sentence ``b`` drawn from the posterior p(t | x), top-down through the inside
    chart: at the span (i, j) labelled A, choose the split k and children (B, C) with probability
    ``q(A → B C) β(i, k, B) β(k, j, C) / β(i, j, A)``. Returns (binary uses, lexical uses) as in
    :func:`cky_trees`."""
    chart, scale = ins.chart, ins.scale
    n = chart.shape[1] - 1
    N = binary.shape[0]
    bins, lexs = [], []
    stack = [(0, n, start)]
    while stack:
        i, j, A = stack.pop()
        if j == i + 1:
            lexs.append((A, i))
            continue
        K = np.arange(i + 1, j)
        comb = scale[b, i, K] + scale[b, K, j]
        weights = np.exp(comb - comb.max())
        prob = (weights[:, None, None] * chart[b, i, K][:, :, None] * chart[b, K, j][:, None, :]
                * binary[A][None])
        kk, r = divmod(_draw(prob, rng), N * N)
        B, C = divmod(r, N)
        k = int(K[kk])
        bins.append((A, B, C, i, k, j))
        stack.append((k, j, C))
        stack.append((i, k, B))
    return bins, lexs


def length_table(binary, lexical, max_len: int):
    """``P(A ⇒* a string of length l)`` for l = 1 … max_len, scaled per length:
    returns ``(table (max_len+1, N), log scale (max_len+1,))`` with the same convention as the
    charts. ``P(A, 1) = Σ_w q(A → w)``; ``P(A, l) = Σ_{k} Σ_{B,C} q(A → B C) P(B, k) P(C, l-k)``."""
    N = lexical.shape[0]
    table = np.zeros((max_len + 1, N))
    scale = np.full(max_len + 1, NEG_INF)
    rule_mat = binary.reshape(N, N * N).T
    for length in range(1, max_len + 1):
        if length == 1:
            values, offset = lexical.sum(axis=1), 0.0
        else:
            k = np.arange(1, length)
            comb = scale[k] + scale[length - k]
            offset = float(_finite_or_zero(comb.max()))
            weights = np.exp(comb - offset)
            pair = np.einsum("k,kb,kc->bc", weights, table[k], table[length - k])
            values = pair.reshape(N * N) @ rule_mat
        top = values.max()
        if top > 0:
            table[length] = values / top
            scale[length] = offset + np.log(top)
    return table, scale
