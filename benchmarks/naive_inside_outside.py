"""The reference for ``pcfg_inside_outside.py``: textbook inside-outside in plain Python.

Three nested loops (spans, split points, rules) over lists of floats, exactly as in the
pseudo-code of Manning & Schütze (1999, ch. 11) and Collins' notes: no numpy, no scaling (fine
for the short sentences of the benchmark), the outside pass *pushing* probability from each
parent down to its two children. It shares no code with :mod:`emlab.pcfg`, so agreement of the
two is a check of both.
"""

from __future__ import annotations

import math


def grammar_lists(g):
    """``(binary_rules, lexical, start)`` from an :class:`emlab.pcfg.PCFG`: the binary rules as a
    list of ``(A, B, C, q)`` with ``q > 0`` and the lexical probabilities as nested lists."""
    N = len(g.nonterminals)
    binary = [(A, B, C, float(g.binary[A, B, C]))
              for A in range(N) for B in range(N) for C in range(N) if g.binary[A, B, C] > 0]
    lexical = [[float(x) for x in row] for row in g.lexical]
    return binary, lexical, g.nonterminals.index(g.start)


def inside_outside(binary, lexical, start, sentence):
    """``(log p(x), binary_counts, lexical_counts)`` of one sentence of word indices.

    ``binary_counts`` maps ``(A, B, C)`` to the expected count of ``A -> B C``;
    ``lexical_counts`` is a nested list ``[A][w]``.
    """
    n, N, V = len(sentence), len(lexical), len(lexical[0])
    beta = [[[0.0] * N for _ in range(n + 1)] for _ in range(n + 1)]
    for i, w in enumerate(sentence):
        for A in range(N):
            beta[i][i + 1][A] = lexical[A][w]
    for width in range(2, n + 1):
        for i in range(n - width + 1):
            j = i + width
            cell = beta[i][j]
            for k in range(i + 1, j):
                left, right = beta[i][k], beta[k][j]
                for A, B, C, q in binary:
                    cell[A] += q * left[B] * right[C]
    z = beta[0][n][start]
    alpha = [[[0.0] * N for _ in range(n + 1)] for _ in range(n + 1)]
    alpha[0][n][start] = 1.0
    counts = {}
    for width in range(n, 1, -1):
        for i in range(n - width + 1):
            j = i + width
            parent = alpha[i][j]
            for k in range(i + 1, j):
                left, right = beta[i][k], beta[k][j]
                out_left, out_right = alpha[i][k], alpha[k][j]
                for A, B, C, q in binary:
                    a = parent[A] * q
                    out_left[B] += a * right[C]
                    out_right[C] += a * left[B]
                    counts[(A, B, C)] = counts.get((A, B, C), 0.0) + a * left[B] * right[C] / z
    lex_counts = [[0.0] * V for _ in range(N)]
    for i, w in enumerate(sentence):
        for A in range(N):
            lex_counts[A][w] += alpha[i][i + 1][A] * beta[i][i + 1][A] / z
    return math.log(z), counts, lex_counts


def e_step(binary, lexical, start, sentences):
    """Sum of :func:`inside_outside` over sentences: ``(log-likelihood, binary counts, lexical counts)``."""
    total, counts = 0.0, {}
    lex = [[0.0] * len(lexical[0]) for _ in lexical]
    for s in sentences:
        ll, c, lc = inside_outside(binary, lexical, start, s)
        total += ll
        for key, v in c.items():
            counts[key] = counts.get(key, 0.0) + v
        for A, row in enumerate(lc):
            for w, v in enumerate(row):
                lex[A][w] += v
    return total, counts, lex
