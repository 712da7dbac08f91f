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

__all__ = ["tree_yield", "tree_rules", "tree_log_prob", "bracketed", "indented", "tree_from_uses"]


def _check_tree(tree):
    if not (isinstance(tree, tuple) and len(tree) in (2, 3)):
        raise ValueError(f"a tree is (label, word) or (label, left, right), got {tree!r}")


def tree_yield(tree) -> list:
    """The words at the leaves of ``tree``, left to right."""
    _check_tree(tree)
    if len(tree) == 2:
        return [tree[1]]
    return tree_yield(tree[1]) + tree_yield(tree[2])


def tree_rules(tree) -> list[tuple]:
    """The rules ``(lhs, rhs)`` used in ``tree``, in pre-order."""
    _check_tree(tree)
    if len(tree) == 2:
        return [(tree[0], (tree[1],))]
    return [(tree[0], (tree[1][0], tree[2][0]))] + tree_rules(tree[1]) + tree_rules(tree[2])


def tree_log_prob(g, tree) -> float:
    """``log p(x, t) = Σ log q(rule)`` over the rules of ``tree`` (``-inf`` if one is missing)."""
    with np.errstate(divide="ignore"):
        return float(sum(np.log(g.prob(lhs, rhs)) for lhs, rhs in tree_rules(tree)))


def bracketed(tree) -> str:
    """One-line bracketed text: ``(S (NP astronomers) (VP (V saw) (NP stars)))``."""
    _check_tree(tree)
    if len(tree) == 2:
        return f"({tree[0]} {tree[1]})"
    return f"({tree[0]} {bracketed(tree[1])} {bracketed(tree[2])})"


def indented(tree, indent: str = "  ") -> str:
    """Multi-line text, one node per line, children indented under their parent::

        S
          NP astronomers
          VP
            V saw
            NP stars
    """
    lines: list[str] = []

    def walk(t, depth):
        _check_tree(t)
        if len(t) == 2:
            lines.append(f"{indent * depth}{t[0]} {t[1]}")
        else:
            lines.append(f"{indent * depth}{t[0]}")
            walk(t[1], depth + 1)
            walk(t[2], depth + 1)

    walk(tree, 0)
    return "\n".join(lines)


def tree_from_uses(nonterminals, tokens, binary_uses, lexical_uses):
    """A nested-tuple tree from rule uses: binary uses ``(A, B, C, i, k, j)`` (span (i, j) split at
    k) and lexical uses ``(A, i)``, with symbol indices into ``nonterminals`` and ``tokens`` the
    words (how :func:`emlab.span.walk` reports a tree)."""
    at_span = {(int(i), int(j)): (int(A), int(k)) for A, _B, _C, i, k, j in binary_uses}
    at_word = {int(i): int(A) for A, i in lexical_uses}

    def node(i, j):
        if j == i + 1:
            return (nonterminals[at_word[i]], tokens[i])
        A, k = at_span[(i, j)]
        return (nonterminals[A], node(i, k), node(k, j))

    return node(0, len(tokens))
