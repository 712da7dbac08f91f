"""Parse trees drawn with matplotlib (notebook 04: the CKY Viterbi parse).

Trees are the nested tuples of :mod:`emlab.pcfg`: ``(label, word)`` or ``(label, left, right)``.
Text renderings live in :func:`emlab.pcfg.bracketed` and :func:`emlab.pcfg.indented`.
"""

from __future__ import annotations

import numpy as np

from ..validation import check_numbers, check_scalar, check_sequence
from .axes import _text, single_axes

__all__ = ["tree_layout", "draw_tree", "plot_span_posteriors"]


def tree_layout(tree) -> tuple[list, list]:
    """Positions for drawing: ``(nodes, edges)``.

    ``nodes`` is a list of ``(x, y, text, kind)`` with ``kind`` in ``{"nonterminal", "word"}``;
    words sit at x = 0, 1, 2, … on the bottom row, a preterminal right above its word and every
    other node centred over its children, one row per depth. ``edges`` is a list of
    ``((x0, y0), (x1, y1))`` from parent to child.
    """
    nodes, edges = [], []
    try:
        depth = _depth(tree)  # validates the tree
    except RecursionError:
        raise ValueError("tree is nested too deeply to draw") from None
    next_leaf = [0]

    def place(t, level):
        if not (isinstance(t, tuple) and len(t) in (2, 3)):
            raise ValueError(f"a tree is (label, word) or (label, left, right), got {t!r}")
        y = -level
        if len(t) == 2:
            x = float(next_leaf[0])
            next_leaf[0] += 1
            nodes.append((x, y, str(t[0]), "nonterminal"))
            nodes.append((x, -depth, str(t[1]), "word"))
            edges.append(((x, y), (x, -depth)))
            return x
        xl = place(t[1], level + 1)
        xr = place(t[2], level + 1)
        x = (xl + xr) / 2
        nodes.append((x, y, str(t[0]), "nonterminal"))
        edges.append(((x, y), (xl, y - 1)))
        edges.append(((x, y), (xr, y - 1)))
        return x

    place(tree, 0)
    return nodes, edges


def _depth(tree) -> int:
    """Number of nonterminal levels below (and including) the root, plus one for the words."""
    leaf_ok = len(tree) != 2 or not isinstance(tree[1], tuple) if isinstance(tree, tuple) else False
    if not (isinstance(tree, tuple) and len(tree) in (2, 3) and leaf_ok):
        raise ValueError(f"a tree is (label, word) or (label, left, right), got {tree!r}")
    if len(tree) == 2:
        return 1
    return 1 + max(_depth(tree[1]), _depth(tree[2]))


def draw_tree(tree, ax=None, title: str | None = None, fontsize: int = 11):
    """Draw ``tree`` top-down: nonterminals in boxes, words in italics along the bottom row, on ``ax``
    (a matplotlib ``Axes``, or None for a new figure), with ``title`` (a str or None) and text of
    ``fontsize`` points (a number in (0, 100]).

    Returns the matplotlib ``Axes``.
    """
    nodes, edges = tree_layout(tree)
    title = _text("title", title)
    fontsize = check_scalar("fontsize", fontsize, low=0, high=100, low_open=True)
    n_words = sum(1 for node in nodes if node[3] == "word")
    ax = single_axes(ax, (max(4.0, 1.1 * n_words), 0.7 * (_depth(tree) + 1)))
    for (x0, y0), (x1, y1) in edges:
        ax.plot([x0, x1], [y0, y1], color="0.55", lw=1.2, zorder=1)
    for x, y, text, kind in nodes:
        if kind == "word":
            ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, style="italic", zorder=2,
                    bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="none"))
        else:
            ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, weight="bold", zorder=2,
                    bbox=dict(boxstyle="round,pad=0.3", fc="#e8f0fb", ec="#4a72b0"))
    xs = [node[0] for node in nodes]
    ys = [node[1] for node in nodes]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def plot_span_posteriors(constituent, words, ax=None):
    """The chart of ``P(span (i, j) is a constituent | x) = Σ_A α(i,j,A) β(i,j,A) / p(x)`` (notebook 04):
    row = first word of the span, column = last word, one number per cell.

    ``constituent`` is an ``(n + 1, n + 1)`` array indexed by fenceposts ``i < j``, or the
    ``(n + 1, n + 1, N)`` posteriors per nonterminal of :func:`emlab.pcfg.span_posteriors`, which are
    summed over ``A``. ``words`` is the sentence (a list of ``n`` words); ``ax`` a matplotlib ``Axes``
    or None for a new figure.
    """
    check_sequence("words", words, "a list of the sentence's words")
    n = len(words)
    if n == 0:
        raise ValueError("words is empty: give the sentence the chart was computed for")
    constituent = check_numbers("constituent", constituent, nonnegative=True)
    if constituent.ndim == 3 and constituent.shape[:2] == (n + 1, n + 1):
        constituent = constituent.sum(axis=2)          # P(A spans (i, j) | x), summed over A
    if constituent.shape != (n + 1, n + 1):
        raise ValueError(f"constituent must have shape ({n + 1}, {n + 1}) (or ({n + 1}, {n + 1}, N) per "
                         f"nonterminal) for {n} words, got {constituent.shape}")
    ax = single_axes(ax, (5.2, 4.2))
    upper = np.triu(np.ones((n + 1, n + 1), dtype=bool), 1)
    shown = np.where(upper, constituent, np.nan)[:n, 1:]
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(i, n):
            ax.text(j, i, f"{shown[i, j]:.2f}", ha="center", va="center", fontsize=9,
                    color="white" if shown[i, j] > 0.6 else "black")
    ax.set_xticks(range(n), [f"…{w}" for w in words], rotation=30)
    ax.set_yticks(range(n), [f"{w}…" for w in words])
    ax.set_xlabel("span ends with")
    ax.set_ylabel("span starts with")
    ax.set_title("P(span is a constituent | x) = Σ_A αβ / p(x)")
    ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return ax
