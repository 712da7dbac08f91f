"""The one span recursion of emlab, in any semiring, its adjoint and the one top-down walk
(notebook 04). Pure functions over integer-coded arrays: :mod:`emlab.pcfg` calls them.

- :func:`span` with :data:`~emlab.semiring.SUM` is the inside algorithm, with
  :data:`~emlab.semiring.MAX` it is CKY (the same recursion, ``max`` in place of ``Σ``);
- :func:`outside_counts` is the adjoint of the SUM chart: outside values and expected rule counts;
- :func:`walk` builds trees top-down through a chart, choosing at every span the split and the
  children with the semiring's choice: the argmax on a MAX chart (CKY's best tree, no
  back-pointers needed), a draw on a SUM chart (a tree sampled from ``p(t | x)``);
- :func:`length_table` is :func:`span` on a pseudo-sentence whose one "word" every nonterminal
  emits with probability ``Σ_w q(A → w)``: ``P(A ⇒* a string of length l)``.

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
batch, are computed at once: first the ``⊕`` over split points of the outer products of the two
children (one batched semiring matrix product), then one semiring matrix product with the rule
tensor reshaped to ``(N·N, N)``::

    β(i, j, A) = ⊕_{B,C} q(A → B C) · [⊕_{k=i+1}^{j-1} β(i, k, B) β(k, j, C)]      (04, inside / CKY)

The outside pass runs the same products backwards, widest spans first (it is the derivative of
``p(x)`` with respect to the inside chart, ``α(i, j, A) = ∂p(x)/∂β(i, j, A)``): one matrix
product with the rule tensor, then one batched product per child side.

**Compiled.** With numba, :func:`span`, :func:`outside_counts` and :func:`walk` run the same
recursion as compiled loops (:func:`emlab.kernels.span_fill`, :func:`~emlab.kernels.outside_fill`,
:func:`~emlab.kernels.best_trees`), one sentence at a time, in the same order of spans and with the
same scaling; these numpy loops are the fallback (``EMLAB_NUMBA=0``) and the readable definition.
The per-width arrays of a compiled chart (``left``, ``right``, ``weights``, ``pairs``) are computed
from its cells when first read.

**A span mask** (notebook 10, partially bracketed inside-outside; Pereira & Schabes 1992).
:func:`span` takes an optional boolean ``allowed[b, i, j]``: a span that is not allowed gets the
value 0 in every cell, in every semiring. The mask multiplies the split weights of the span (the
``weights`` kept for the outside pass), so the span's cells, its ``pairs`` and its ``right``
children are all 0: the inside value then sums only over trees whose every constituent is allowed,
CKY's maximum is the best such tree, :func:`walk` never enters a masked span (its weight is 0), and
:func:`outside_counts` runs unchanged — no outside mass flows through a masked span to its
children, and its own posterior ``α̂ · cell`` is 0. With ``allowed[b, i, j]`` = "the span (i, j)
crosses none of sentence b's brackets" this is the constrained inside-outside of Pereira & Schabes:
``β(0, n, S) = Σ_{t consistent} p(x, t)``.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .semiring import MAX, SUM, TIE_RTOL, Semiring
from .validation import check_positive_int

__all__ = ["Chart", "span", "outside_counts", "walk", "length_table"]

NEG_INF = -np.inf


def _finite_or_zero(m: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(m), m, 0.0)


class Chart:
    """The scaled chart of one batch (inside or CKY, by its ``semiring``), kept in layouts that
    make, for every width, the left and right children of all spans plain slices (no gathering):

    - ``by_start[b, i, w, A]`` = the cell of the span starting at ``i`` with width ``w``, log
      scale ``scale_start[b, i, w]``, and ``tops[b, i, w]`` the factor the cell was divided by
      (1 for an empty cell);
    - ``by_end_rev[b, j, n - w, A]`` = the cell of the span ending at ``j`` with width ``w`` (the
      width axis reversed, so the right children of the split points ``k = i+1 … j-1`` are one
      increasing slice), log scale ``scale_end[b, j, w]``;
    - ``allowed``: the span mask it was computed with, or None.

    Per width ``w ≥ 2`` (``S = n - w + 1`` spans), for the numpy outside pass and walk, computed
    from those arrays when first read if the compiled recursion filled the chart:
    ``left[w]`` (B, S, w-1, N) the left children, ``right[w]`` (B, S, w-1, N) the right
    children times the split weights, ``weights[w]`` (B, S, w-1), ``pairs[w]`` (B, S, N, N) the
    ``⊕`` over splits of the products of the children, transposed (``pairs[w][b, s, C, B]``), and
    ``top[w]`` (B, S) = ``tops[:, :S, w]``.
    """

    def __init__(self, nbatch: int, n: int, N: int, semiring: Semiring = SUM, allowed=None):
        self.n, self.semiring, self.allowed = n, semiring, allowed
        self.by_start = np.zeros((nbatch, n + 1, n + 1, N))
        self.by_end_rev = np.zeros((nbatch, n + 1, n + 1, N))
        self.scale_start = np.full((nbatch, n + 1, n + 1), NEG_INF)
        self.scale_end = np.full((nbatch, n + 1, n + 1), NEG_INF)
        self.tops = np.ones((nbatch, n + 1, n + 1))
        self._widths: dict[str, dict[int, np.ndarray]] | None = None

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
        self.tops[:, :S, w] = top

    def splits(self, w: int):
        """``(left, right, weights, pairs, log offset)`` of the spans of width ``w`` (see the class
        docstring; the log offset (B, S) is the common scale of their split weights)."""
        n, S = self.n, self.n - w + 1
        comb = self.scale_start[:, :S, 1:w] + self.scale_end[:, w:, w - 1:0:-1]  # (B, S, w-1)
        m = _finite_or_zero(comb.max(axis=-1))
        weights = np.exp(comb - m[..., None])
        if self.allowed is not None:  # a masked span: every split weight 0, so its cells are 0
            starts = np.arange(S)
            weights *= self.allowed[:, starts, starts + w][..., None]
        left = self.by_start[:, :S, 1:w]  # (B, S, w-1, N), a view
        right = self.by_end_rev[:, w:, n - w + 1:n] * weights[..., None]  # weighted right children
        pair_t = self.semiring.matmul(right.transpose(0, 1, 3, 2), left)  # (B, S, N, N): [C, B]
        return left, right, weights, pair_t, m

    def _per_width(self, name: str) -> dict[int, np.ndarray]:
        if self._widths is None:
            widths: dict[str, dict[int, np.ndarray]] = {k: {} for k in ("left", "right", "weights", "pairs")}
            for w in range(2, self.n + 1):
                left, right, weights, pair_t, _ = self.splits(w)
                widths["left"][w], widths["right"][w], widths["weights"][w], widths["pairs"][w] = (
                    left, right, weights, pair_t)
            self._widths = widths
        return self._widths[name]

    left = property(lambda self: self._per_width("left"))
    right = property(lambda self: self._per_width("right"))
    weights = property(lambda self: self._per_width("weights"))
    pairs = property(lambda self: self._per_width("pairs"))

    @property
    def top(self) -> dict[int, np.ndarray]:
        return {w: self.tops[:, :self.n - w + 1, w] for w in range(1, self.n + 1)}

    def log_prob(self, start: int) -> np.ndarray:
        """``log β(0, n, start)`` per sentence: ``log p(sentence)`` (``-inf`` without a parse)."""
        top = self.by_start[:, 0, self.n, start]
        with np.errstate(divide="ignore"):
            return np.where(top > 0, self.scale_start[:, 0, self.n] + np.log(top), NEG_INF)

    def span(self, b: int, i, j):
        """``(cells, log scales)`` of the spans ``(i, j)`` of sentence ``b`` (arrays broadcast)."""
        return self.by_start[b, i, j - i], self.scale_start[b, i, j - i]


def _check_words(binary, lexical, words, allowed) -> np.ndarray:
    """``words`` (B, n) as integer codes into ``lexical``'s V columns, with ``binary`` (N, N, N),
    ``lexical`` (N, V) and ``allowed`` (B, n+1, n+1) consistent; else a ``ValueError`` naming the
    array (a negative code would silently wrap around to the last word)."""
    if np.ndim(lexical) != 2 or np.shape(binary) != (np.shape(lexical)[0],) * 3:
        raise ValueError(f"binary must be (N, N, N) and lexical (N, V) of the same N, got "
                         f"{np.shape(binary)} and {np.shape(lexical)}")
    words = np.asarray(words)
    if words.ndim != 2 or words.shape[1] == 0 or not np.issubdtype(words.dtype, np.integer):
        raise ValueError(f"words must be a (B, n) integer array of word codes, n >= 1, got shape "
                         f"{words.shape} of dtype {words.dtype}")
    V = np.shape(lexical)[1]
    if words.size and (words.min() < 0 or words.max() >= V):
        b, i = (int(x) for x in np.argwhere((words < 0) | (words >= V))[0])
        raise ValueError(f"words row {b} position {i} has code {int(words[b, i])}, outside the "
                         f"vocabulary 0..{V - 1}")
    n = words.shape[1]
    if allowed is not None and np.shape(allowed) != (words.shape[0], n + 1, n + 1):
        raise ValueError(f"allowed must have shape {(words.shape[0], n + 1, n + 1)}, got {np.shape(allowed)}")
    return words


def span(binary: np.ndarray, lexical: np.ndarray, words: np.ndarray, semiring: Semiring = SUM,
         allowed: np.ndarray | None = None) -> Chart:
    """The scaled span recursion of a batch of equal-length sentences ``words`` (B, n): the inside
    chart (``SUM``) or the CKY chart (``MAX``); see the module docstring.

    ``allowed`` (optional, boolean (B, n+1, n+1), fence posts): the spans ``(i, j)`` with
    ``allowed[b, i, j]`` false get the value 0 (the span mask of the module docstring). Only
    spans of width ≥ 2 are read: a single word is never masked.

    For the spans of width ``w`` starting at ``s = 0 … n-w`` the left children (width ``k``,
    starting at ``s``) are ``by_start[:, s, k]`` and the right children (width ``w - k``, ending
    at ``s + w``) are ``by_end_rev[:, s + w, n - w + k]``: both slices over ``k = 1 … w-1``.
    """
    words = _check_words(binary, lexical, words, allowed)
    nbatch, n = words.shape
    N = lexical.shape[0]
    chart = Chart(nbatch, n, N, semiring, allowed)
    if kernels.available():  # the same recursion, one compiled loop per sentence
        kernels.span_fill(chart, binary, lexical, words, semiring is MAX)
        return chart
    chart.store(1, lexical[:, words].transpose(1, 2, 0), 0.0)
    # rows (C, B), column A: q(A → B C); the split sums are computed transposed, as [C, B]
    rule_mat = binary.transpose(0, 2, 1).reshape(N, N * N).T
    widths: dict[str, dict[int, np.ndarray]] = {k: {} for k in ("left", "right", "weights", "pairs")}
    for w in range(2, n + 1):
        S = n - w + 1
        left, right, weights, pair_t, m = chart.splits(w)
        widths["left"][w], widths["right"][w], widths["weights"][w], widths["pairs"][w] = (
            left, right, weights, pair_t)
        cells = semiring.matmul(pair_t.reshape(nbatch * S, N * N), rule_mat)
        chart.store(w, cells.reshape(nbatch, S, N), m)
    chart._widths = widths
    return chart


def outside_counts(binary, lexical, words, ins: Chart, start: int):
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
    if kernels.available():  # the same pass, one compiled loop per sentence
        cb, cl, alpha = kernels.outside_fill(ins, binary, V, words, start)
        return cb, cl, {w: alpha[:, :n - w + 1, w] for w in range(1, n + 1)}
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
        G_t = np.ascontiguousarray(G.transpose(0, 1, 3, 2))  # (BLAS takes it contiguous: 2x faster)
        acc_start[:, :S, 1:w] += np.matmul(ins.right[w], G_t)  # (B, S, w-1, N)
        to_right = np.matmul(ins.left[w], G)  # (B, S, w-1, N)
        to_right *= ins.weights[w][..., None]
        acc_end[:, w:, n - w + 1:n] += to_right
    alpha_hat[1] = root if n == 1 else acc_start[:, :n, 1] + acc_end[:, 1:, n - 1]
    post = alpha_hat[1] * ins.by_start[:, :n, 1]  # (B, n, N): p(A over word i | x)
    cl = np.zeros((V, N))
    np.add.at(cl, words.ravel(), post.reshape(-1, N))
    return cb_t.reshape(N, N, N).transpose(0, 2, 1) * binary, cl.T, alpha_hat


def walk(chart: Chart, binary: np.ndarray, start: int, rng: np.random.Generator | None = None):
    """Trees top-down through a chart, for every sentence of its batch at once (notebook 04).

    At a span (i, j) labelled A the split ``k`` and the children ``(B, C)`` are chosen among the
    weights ``q(A → B C) · cell(i, k)[B] · cell(k, j)[C]`` (brought to a common scale) with the
    chart's semiring: on a CKY chart the argmax, which *is* the best tree's choice (its cell is
    the max of those weights), so CKY needs no back-pointers; on an inside chart a draw with
    ``rng``, which gives a tree from ``p(t | x)`` (the weights are ``∝ p(split, children | A
    spans (i, j), x)``). Spans are visited widest first: every child is narrower than its parent.

    Returns ``(binary uses (M, 7), lexical uses (L, 3))`` of int arrays: rows
    ``(b, A, B, C, i, k, j)`` (sentence b, span (i, j) split at k) and ``(b, A, i)``. Only for
    sentences with a parse.
    """
    nbatch, n, semiring = chart.scale_start.shape[0], chart.n, chart.semiring
    N = chart.by_start.shape[-1]
    if not (isinstance(start, (int, np.integer)) and 0 <= start < N) or np.shape(binary) != (N, N, N):
        raise ValueError(f"start must be a nonterminal index 0..{N - 1} and binary ({N}, {N}, {N}) for this "
                         f"chart, got start={start!r} and binary of shape {np.shape(binary)}")
    if kernels.available():  # the same choices, as one compiled loop
        u = semiring.uniforms(rng, (2 * nbatch * max(n - 1, 0),))
        return kernels.best_trees(chart, binary, start, TIE_RTOL, u)
    N = binary.shape[0]
    rules = binary.reshape(N, N * N)
    # open nodes, rows (b, s, A, width): the roots first; children join as their parents are chosen
    pending = np.column_stack([np.arange(nbatch), np.zeros(nbatch, np.intp), np.full(nbatch, start),
                               np.full(nbatch, n)])
    bins, lexs = [], []
    for w in range(n, 0, -1):
        here = pending[:, 3] == w
        b, s, A = pending[here, :3].T
        pending = pending[~here]
        if w == 1:
            lexs.append(np.column_stack([b, A, s]))
            break
        if not b.size:
            continue
        left = chart.left[w][b, s]                  # (M, w-1, N)
        right = chart.right[w][b, s]                # (M, w-1, N), with the split weights
        weights = (left[:, :, :, None] * right[:, :, None, :]).reshape(len(b), w - 1, N * N)
        weights *= rules[A][:, None, :]             # (M, w-1, N·N): split, then children (B, C)
        # choose the split from its ⊕ over the children, then the children given the split
        # (for a draw: p(k) p(B, C | k), two short cumulative sums instead of one long one)
        k = semiring.choose(semiring.total(weights, axis=-1), rng, overwrite=True)
        B, C = np.divmod(semiring.choose(weights[np.arange(len(b)), k], rng, overwrite=True), N)
        k = k + 1                                   # width of the left child
        bins.append(np.column_stack([b, A, B, C, s, s + k, s + w]))
        pending = np.concatenate([pending, np.column_stack([b, s, B, k]),
                                  np.column_stack([b, s + k, C, w - k])])
    binary_uses = np.concatenate(bins) if bins else np.zeros((0, 7), np.intp)
    lex = np.concatenate(lexs) if lexs else np.zeros((0, 3), np.intp)
    return binary_uses, lex


def length_table(binary: np.ndarray, lexical: np.ndarray, max_len: int):
    """``P(A ⇒* a string of length l)`` for l = 1 … max_len, scaled per length: returns
    ``(table (max_len+1, N), log scale (max_len+1,))`` with the charts' convention.

    It is the inside recursion of a pseudo-sentence of ``max_len`` copies of one word that ``A``
    emits with probability ``Σ_w q(A → w)``: the span (0, l) then sums over all strings of length
    ``l``, ``P(A, l) = Σ_k Σ_{B,C} q(A → B C) P(B, k) P(C, l-k)``.
    """
    max_len = check_positive_int("max_len", max_len)
    N = lexical.shape[0]
    chart = span(binary, lexical.sum(axis=1, keepdims=True), np.zeros((1, max_len), np.intp))
    table = np.zeros((max_len + 1, N))
    scale = np.full(max_len + 1, NEG_INF)
    table[1:] = chart.by_start[0, 0, 1:]
    scale[1:] = chart.scale_start[0, 0, 1:]
    return table, scale
