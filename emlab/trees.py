"""Trees as nested tuples, the structures of :mod:`emlab.pcfg` (notebook 04).

A tree is ``(label, word)`` for a preterminal and ``(label, left, right)`` otherwise, e.g.
``("S", ("NP", "astronomers"), ("VP", ("V", "saw"), ("NP", "stars")))``. These functions read
trees; they know nothing of grammars except :func:`tree_log_prob`, which asks one for ``prob``.

>>> t = ("S", ("NP", "astronomers"), ("VP", ("V", "saw"), ("NP", "stars")))
>>> tree_yield(t)
['astronomers', 'saw', 'stars']
>>> bracketed(t)
'(S (NP astronomers) (VP (V saw) (NP stars)))'
>>> tree_rules(t)[:2]
[('S', ('NP', 'VP')), ('NP', ('astronomers',))]
"""

from __future__ import annotations

import numpy as np

from .validation import check_sequence

__all__ = ["tree_yield", "tree_rules", "tree_spans", "tree_log_prob", "bracketed", "indented",
           "tree_from_uses"]


def _check_tree(tree):
    if not (isinstance(tree, tuple) and len(tree) in (2, 3)):
        raise ValueError(f"a tree is (label, word) or (label, left, right), got {tree!r}")
    if len(tree) == 2 and isinstance(tree[1], tuple):
        raise ValueError(f"a tree is (label, word) or (label, left, right), got the unary node {tree!r}: "
                         "a CNF tree has no node with one child subtree")


def _preorder(tree):
    """Every node of ``tree`` in pre-order (parent, then its left subtree, then its right), each
    checked. An explicit stack, not recursion, so a tree of any depth is read (a 2,000-word
    sentence can have a 2,000-deep tree)."""
    stack = [tree]
    while stack:
        t = stack.pop()
        _check_tree(t)
        yield t
        if len(t) == 3:
            stack += [t[2], t[1]]


def tree_yield(tree) -> list:
    """The words at the leaves of ``tree``, left to right (the preterminals in pre-order)."""
    return [t[1] for t in _preorder(tree) if len(t) == 2]


def tree_rules(tree) -> list[tuple]:
    """The rules ``(lhs, rhs)`` used in ``tree``, in pre-order."""
    nodes = list(_preorder(tree))                # every node checked before a child's label is read
    return [(t[0], (t[1],)) if len(t) == 2 else (t[0], (t[1][0], t[2][0])) for t in nodes]


def tree_spans(tree) -> list[tuple]:
    """The labelled spans ``(label, i, j)`` of every node of ``tree``, in pre-order: the node covers
    words ``i .. j-1`` (fence posts), so a preterminal over word ``i`` is ``(label, i, i + 1)``.

    >>> tree_spans(("S", ("NP", "astronomers"), ("VP", ("V", "saw"), ("NP", "stars"))))[:3]
    [('S', 0, 3), ('NP', 0, 1), ('VP', 1, 3)]
    """
    nodes = list(_preorder(tree))
    size: dict[int, int] = {}
    for t in reversed(nodes):                   # children before their parents
        size[id(t)] = 1 if len(t) == 2 else size[id(t[1])] + size[id(t[2])]
    out, stack = [], [(tree, 0)]
    while stack:
        t, i = stack.pop()
        out.append((t[0], i, i + size[id(t)]))
        if len(t) == 3:
            stack += [(t[2], i + size[id(t[1])]), (t[1], i)]
    return out


def tree_log_prob(g, tree) -> float:
    """``log p(x, t) = Σ log q(rule)`` over the rules of ``tree`` (``-inf`` if one is missing)."""
    if not callable(getattr(g, "prob", None)):
        raise TypeError(f"g must be a pcfg.PCFG (with .prob(lhs, rhs)), got {type(g).__name__}")
    with np.errstate(divide="ignore"):
        return float(sum(np.log(g.prob(lhs, rhs)) for lhs, rhs in tree_rules(tree)))


_CLOSE = object()          # on bracketed()'s stack: close the bracket of a binary node


def bracketed(tree) -> str:
    """One-line bracketed text: ``(S (NP astronomers) (VP (V saw) (NP stars)))``."""
    out, stack = [], [tree]
    while stack:
        t = stack.pop()
        if t is _CLOSE:
            out.append(")")
            continue
        _check_tree(t)
        out.append(("" if not out else " ") + (f"({t[0]} {t[1]})" if len(t) == 2 else f"({t[0]}"))
        if len(t) == 3:
            stack += [_CLOSE, t[2], t[1]]
    return "".join(out)


def indented(tree, indent: str = "  ") -> str:
    """Multi-line text, one node per line, children indented under their parent::

        S
          NP astronomers
          VP
            V saw
            NP stars
    """
    if not isinstance(indent, str):
        raise TypeError(f"indent must be a str, got {type(indent).__name__}")
    lines: list[str] = []
    stack = [(tree, 0)]
    while stack:
        t, depth = stack.pop()
        _check_tree(t)
        if len(t) == 2:
            lines.append(f"{indent * depth}{t[0]} {t[1]}")
        else:
            lines.append(f"{indent * depth}{t[0]}")
            stack += [(t[2], depth + 1), (t[1], depth + 1)]
    return "\n".join(lines)


def _uses(name: str, uses, width: int, n_symbols: int) -> np.ndarray:
    """Rule uses as an ``(m, width)`` integer array whose first column indexes ``n_symbols`` symbols."""
    if uses is None or isinstance(uses, (str, bytes)) or np.ndim(uses) == 0:
        raise TypeError(f"{name} must be an (m, {width}) array of integer rule uses, "
                        f"got {type(uses).__name__}")
    arr = np.asarray(uses)
    if arr.size == 0:
        return np.zeros((0, width), dtype=np.intp)
    if arr.ndim != 2 or arr.shape[1] != width or arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an (m, {width}) array of integer rule uses, got shape {arr.shape} "
                         f"of dtype {arr.dtype}")
    if arr.min() < 0 or arr[:, 0].max() >= n_symbols:
        raise ValueError(f"{name} refers to a symbol or position outside the {n_symbols} nonterminals")
    return arr


def tree_from_uses(nonterminals, tokens, binary_uses, lexical_uses):
    """A nested-tuple tree from rule uses: binary uses ``(A, B, C, i, k, j)`` (span (i, j) split at
    k) and lexical uses ``(A, i)``, with symbol indices into ``nonterminals`` and ``tokens`` the
    words (how :func:`emlab.span.walk` reports a tree). Built bottom-up with an explicit stack (no
    recursion limit); a span the uses leave without a rule, or a split outside its span, is a
    ``ValueError`` naming the span."""
    check_sequence("nonterminals", nonterminals, "a list of nonterminal symbols")
    check_sequence("tokens", tokens, "a list of words")
    for name, labels in (("nonterminals", nonterminals), ("tokens", tokens)):
        bad = [i for i, x in enumerate(labels) if isinstance(x, (float, np.floating)) and np.isnan(x)]
        if bad:
            raise ValueError(f"{name}[{bad[0]}] is NaN: a label must equal itself (give a symbol or a word)")
    binary_uses = _uses("binary_uses", binary_uses, 6, len(nonterminals))
    lexical_uses = _uses("lexical_uses", lexical_uses, 2, len(nonterminals))
    at_span = {(int(i), int(j)): (int(A), int(k)) for A, _B, _C, i, k, j in binary_uses}
    at_word = {int(i): int(A) for A, i in lexical_uses}
    n = len(tokens)
    if n == 0:
        raise ValueError("tokens is empty: a tree has at least one word")
    done: dict = {}
    stack = [(0, n, False)]
    while stack:
        i, j, children_done = stack.pop()
        if j == i + 1:
            if i not in at_word:
                raise ValueError(f"lexical_uses has no rule for word {i} ({tokens[i]!r})")
            done[i, j] = (nonterminals[at_word[i]], tokens[i])
            continue
        if (i, j) not in at_span:
            raise ValueError(f"binary_uses has no rule for span ({i}, {j})")
        A, k = at_span[i, j]
        if not i < k < j:
            raise ValueError(f"binary_uses splits span ({i}, {j}) at {k}, outside it")
        if children_done:
            done[i, j] = (nonterminals[A], done.pop((i, k)), done.pop((k, j)))
        else:
            stack += [(i, j, True), (k, j, False), (i, k, False)]
    return done[0, n]
