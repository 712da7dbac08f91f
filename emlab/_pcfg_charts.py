"""The numeric kernels behind :mod:`emlab.pcfg`: inside, outside, expected counts, CKY and
sampling through the inside chart (notebook 04). Pure functions over integer-coded arrays.

Shapes: ``N`` nonterminals, ``V`` words, ``binary[A, B, C] = q(A → B C)`` (N, N, N),
``lexical[A, w] = q(A → w)`` (N, V). A *batch* is ``B`` sentences of the same length ``n``,
``words`` of shape (B, n). Charts are indexed by fence posts: ``chart[b, i, j, A]`` is about the
span ``w_i … w_{j-1}`` (``0 ≤ i < j ≤ n``).

**Scaling.** A chart cell holds a vector scaled so that its largest entry is 1, and its natural
log scale separately: ``β(i, j, A) = cell[A] · exp(scale)``. Products of cells add their scales,
and the terms of a sum over split points are brought to a common scale (their largest) before they
are added, so no cell under- or overflows whatever the sentence length (a cell with probability
zero has scale ``-inf`` and zero entries). Outside values are kept *relative to the sentence and
to the cell's inside scale*, ``α̂(i, j, A) = α(i, j, A) · exp(scale(i, j)) / p(x)``, so that
``α̂ · cell`` is directly the posterior ``p(A spans (i, j) | x)``: every contribution to ``α̂`` is
in the same units and they simply add up.

**Vectorization.** For each span width ``w`` all spans of that width, in all sentences of the
batch, are computed at once: first the sum over split points of the outer products of the two
children (one batched matrix product), then one matrix product with the rule tensor reshaped to
``(N·N, N)``::

    β(i, j, A) = Σ_{B,C} q(A → B C) · [Σ_{k=i+1}^{j-1} β(i, k, B) β(k, j, C)]          (04, inside)

The outside pass runs the same products backwards, widest spans first (it is the derivative of
``p(x)`` with respect to the inside chart, ``α(i, j, A) = ∂p(x)/∂β(i, j, A)``): one matrix
product with the rule tensor, then one batched product per child side.
"""

from __future__ import annotations

import numpy as np

NEG_INF = -np.inf


def _finite_or_zero(m: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(m), m, 0.0)


class Inside:
    """The scaled inside chart of one batch, kept in layouts that make, for every width, the left
    and right children of all spans plain slices (no gathering):

    - ``by_start[b, i, w, A]`` = the cell of the span starting at ``i`` with width ``w``, log
      scale ``scale_start[b, i, w]``;
    - ``by_end_rev[b, j, n - w, A]`` = the cell of the span ending at ``j`` with width ``w`` (the
      width axis reversed, so the right children of the split points ``k = i+1 … j-1`` are one
      increasing slice), log scale ``scale_end[b, j, w]``.

    Kept per width ``w ≥ 2`` for the outside pass and the counts (``S = n - w + 1`` spans):
    ``left[w]`` (B, S, w-1, N) the left children, ``right[w]`` (B, S, w-1, N) the right
    children times the split weights, ``weights[w]`` (B, S, w-1), ``pairs[w]`` (B, S, N, N) the
    split-summed products of the children, transposed (``pairs[w][b, s, C, B]``), and ``top[w]``
    (B, S) the factor each cell was divided by (1 for an empty cell).
    """

    def __init__(self, nbatch: int, n: int, N: int):
        self.n = n
        self.by_start = np.zeros((nbatch, n + 1, n + 1, N))
        self.by_end_rev = np.zeros((nbatch, n + 1, n + 1, N))
        self.scale_start = np.full((nbatch, n + 1, n + 1), NEG_INF)
        self.scale_end = np.full((nbatch, n + 1, n + 1), NEG_INF)
        self.left: dict[int, np.ndarray] = {}
        self.right: dict[int, np.ndarray] = {}
        self.weights: dict[int, np.ndarray] = {}
        self.pairs: dict[int, np.ndarray] = {}
        self.top: dict[int, np.ndarray] = {}

    def store(self, w: int, values: np.ndarray, log_offset) -> None:
        """Write ``values · exp(log_offset)`` (B, S, N) as the cells of width ``w``."""
        n, S = self.n, self.n - w + 1
        top = values.max(axis=-1)
        alive = top > 0
        top = np.where(alive, top, 1.0)
        cell = values / top[..., None]
        log_scale = np.where(alive, log_offset + np.log(top), NEG_INF)
        self.by_start[:, :S, w] = cell
        self.by_end_rev[:, w:, n - w] = cell
        self.scale_start[:, :S, w] = log_scale
        self.scale_end[:, w:, w] = log_scale
        self.top[w] = top

    def log_prob(self, start: int) -> np.ndarray:
        """``log β(0, n, start)`` per sentence: ``log p(sentence)`` (``-inf`` without a parse)."""
        top = self.by_start[:, 0, self.n, start]
        with np.errstate(divide="ignore"):
            return np.where(top > 0, self.scale_start[:, 0, self.n] + np.log(top), NEG_INF)

    def span(self, b: int, i, j):
        """``(cells, log scales)`` of the spans ``(i, j)`` of sentence ``b`` (arrays broadcast)."""
        return self.by_start[b, i, j - i], self.scale_start[b, i, j - i]


def inside(binary: np.ndarray, lexical: np.ndarray, words: np.ndarray) -> Inside:
    """Scaled inside chart of a batch of equal-length sentences (see the module docstring).

    For the spans of width ``w`` starting at ``s = 0 … n-w`` the left children (width ``k``,
    starting at ``s``) are ``by_start[:, s, k]`` and the right children (width ``w - k``, ending
    at ``s + w``) are ``by_end_rev[:, s + w, n - w + k]``: both slices over ``k = 1 … w-1``.
    """
    nbatch, n = words.shape
    N = lexical.shape[0]
    ins = Inside(nbatch, n, N)
    ins.store(1, lexical[:, words].transpose(1, 2, 0), 0.0)
    # rows (C, B), column A: q(A → B C); the split sums are computed transposed, as [C, B]
    rule_mat = binary.transpose(0, 2, 1).reshape(N, N * N).T
    for w in range(2, n + 1):
        S = n - w + 1
        comb = ins.scale_start[:, :S, 1:w] + ins.scale_end[:, w:, w - 1:0:-1]  # (B, S, w-1)
        m = _finite_or_zero(comb.max(axis=-1))
        weights = np.exp(comb - m[..., None])
        left = ins.by_start[:, :S, 1:w]  # (B, S, w-1, N), a view
        right = ins.by_end_rev[:, w:, n - w + 1:n] * weights[..., None]  # weighted right children
        pair_t = np.matmul(right.transpose(0, 1, 3, 2), left)  # (B, S, N, N): [C, B]
        ins.left[w], ins.right[w], ins.weights[w], ins.pairs[w] = left, right, weights, pair_t
        ins.store(w, (pair_t.reshape(nbatch * S, N * N) @ rule_mat).reshape(nbatch, S, N), m)
    return ins


def outside_counts(binary, lexical, words, ins: Inside, start: int):
    """Outside pass and expected rule counts of a batch whose sentences all have a parse.

    With the relative outside values ``α̂`` of the module docstring and ``g = α̂ / top`` for the
    spans of width ``w`` (B, S, N), going from the root (``α̂(0, n, S) = 1 / cell[S]``) down:

    - ``G[b, s, B, C] = Σ_A g[A] q(A → B C)``, one matrix product with the rule tensor;
    - the left child of split k receives ``Σ_C G[B, C] · cell_right_k[C] · weight_k`` and the
      right child ``Σ_B G[B, C] · cell_left_k[B] · weight_k``: two batched matrix products;
    - ``c(A → B C) += Σ_{b,s} g[A] · pairs[w][B, C] · q(A → B C)``.

    This is, in scaled form, ::

        α(i, k, B) += Σ_{A,C} α(i, j, A) q(A → B C) β(k, j, C)
        α(k, j, C) += Σ_{A,B} α(i, j, A) q(A → B C) β(i, k, B)                 (04, outside)
        c(A → B C)  = Σ_{i<k<j} α(i, j, A) q(A → B C) β(i, k, B) β(k, j, C) / p(x)
        c(A → w)    = Σ_{i: w_i = w} α(i, i+1, A) β(i, i+1, A) / p(x)          (04, counts)

    Returns ``(binary counts (N,N,N), lexical counts (N,V), alpha_hat)`` where ``alpha_hat[w]``
    (B, S, N) holds ``α̂`` of the spans of width ``w``. (Outside mass that could only reach
    entries whose inside probability is 0 through spans no subtree covers is skipped; such
    entries have posterior 0, so nothing that uses ``α̂ · cell`` changes.)
    """
    nbatch, n = words.shape
    N, V = lexical.shape
    acc_start = np.zeros((nbatch, n + 1, n + 1, N))  # α̂ received as a left child: (start, width)
    acc_end = np.zeros((nbatch, n + 1, n + 1, N))  # as a right child: (end, n - width)
    alpha_hat: dict[int, np.ndarray] = {}
    root = np.zeros((nbatch, 1, N))
    root[:, 0, start] = 1.0 / ins.by_start[:, 0, n, start]
    rule_mat = binary.reshape(N, N * N)  # (N, N²)
    cb_t = np.zeros((N, N * N))  # [A, (C, B)]
    for w in range(n, 1, -1):
        S = n - w + 1
        a = root if w == n else acc_start[:, :S, w] + acc_end[:, w:, n - w]
        alpha_hat[w] = a
        g = (a / ins.top[w][..., None]).reshape(nbatch * S, N)
        cb_t += g.T @ ins.pairs[w].reshape(nbatch * S, N * N)
        G = (g @ rule_mat).reshape(nbatch, S, N, N)  # [B, C]
        acc_start[:, :S, 1:w] += np.matmul(ins.right[w], G.transpose(0, 1, 3, 2))  # (B, S, w-1, N)
        to_right = np.matmul(ins.left[w], G)  # (B, S, w-1, N)
        to_right *= ins.weights[w][..., None]
        acc_end[:, w:, n - w + 1:n] += to_right
    alpha_hat[1] = root if n == 1 else acc_start[:, :n, 1] + acc_end[:, 1:, n - 1]
    post = alpha_hat[1] * ins.by_start[:, :n, 1]  # (B, n, N): p(A over word i | x)
    cl = np.zeros((V, N))
    np.add.at(cl, words.ravel(), post.reshape(-1, N))
    return cb_t.reshape(N, N, N).transpose(0, 2, 1) * binary, cl.T, alpha_hat


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

        def back_pointer(i, j, A, b=b):
            return (int(split[b, i, j, A]), *divmod(int(rule[b, i, j, A]), N))

        results.append((best, *walk_tree(n, start, back_pointer)))
    return results


def walk_tree(n: int, start: int, choose):
    """Build a tree top-down over spans of an ``n``-word sentence: at each span (i, j) with
    label A and ``j > i + 1``, ``choose(i, j, A)`` gives the split ``k`` and the children
    ``(B, C)``. CKY follows its back-pointers this way, the sampler draws from the posterior.
    Returns ``(binary uses, lexical uses)``: lists of ``(A, B, C, i, k, j)`` and ``(A, i)``."""
    bins, lexs = [], []
    stack = [(0, n, start)]
    while stack:
        i, j, A = stack.pop()
        if j == i + 1:
            lexs.append((A, i))
            continue
        k, B, C = choose(i, j, A)
        bins.append((A, B, C, i, k, j))
        stack.append((k, j, C))
        stack.append((i, k, B))
    return bins, lexs


def _draw(weights: np.ndarray, rng: np.random.Generator) -> int:
    """Index drawn with probability proportional to the flat non-negative ``weights``."""
    cum = np.cumsum(weights.ravel())
    return int(min(np.searchsorted(cum, rng.random() * cum[-1], side="right"), cum.size - 1))


def sample_from_inside(binary, ins: Inside, b: int, start: int, rng: np.random.Generator):
    """A tree of sentence ``b`` drawn from the posterior p(t | x), top-down through the inside
    chart: at the span (i, j) labelled A, choose the split k and children (B, C) with probability
    ``q(A → B C) β(i, k, B) β(k, j, C) / β(i, j, A)``. Returns (binary uses, lexical uses) as in
    :func:`cky_trees`."""
    N = binary.shape[0]

    def draw_split(i, j, A):
        K = np.arange(i + 1, j)
        left, left_scale = ins.span(b, i, K)
        right, right_scale = ins.span(b, K, j)
        comb = left_scale + right_scale
        weights = np.exp(comb - comb.max())
        prob = weights[:, None, None] * left[:, :, None] * right[:, None, :] * binary[A][None]
        kk, r = divmod(_draw(prob, rng), N * N)
        return (int(K[kk]), *divmod(r, N))

    return walk_tree(ins.n, start, draw_split)


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
