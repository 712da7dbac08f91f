"""The course's smallest examples as plain numpy arrays (no model objects, no algorithms), so an
exercise, its checks and the grading sandbox can all read them.

- :data:`ICE_CREAM`: Jurafsky & Martin's ice-cream HMM (SLP3, appendix A) and the diary "3 1 3",
  whose probability 0.028562 they publish;
- :data:`MS_GRAMMAR`: Manning & Schütze's PCFG (ch. 11) as ``binary[A, B, C] = p(A -> B C)`` and
  ``lexical[A, w] = p(A -> w)`` arrays with "astronomers saw stars with ears" (probability 0.0015876).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ICE_CREAM", "MS_NONTERMINALS", "MS_WORDS", "MS_GRAMMAR", "MS_PROB"]


@dataclass(frozen=True)
class IceCreamArrays:
    """Jurafsky & Martin (SLP3 appendix A): states H=0, C=1; observations 1, 2, 3 coded 0, 1, 2."""

    start: np.ndarray = field(default_factory=lambda: np.array([0.8, 0.2]))
    trans: np.ndarray = field(default_factory=lambda: np.array([[0.6, 0.4], [0.5, 0.5]]))
    emit: np.ndarray = field(default_factory=lambda: np.array([[0.2, 0.4, 0.4], [0.5, 0.4, 0.1]]))
    seq: np.ndarray = field(default_factory=lambda: np.array([2, 0, 2]))   # "3 1 3"
    prob: float = 0.028562                                                # P(3 1 3), published


ICE_CREAM = IceCreamArrays()


#: Manning & Schütze ch. 11 grammar, nonterminals indexed; S is 0.
MS_NONTERMINALS = ["S", "NP", "VP", "PP", "P", "V"]
MS_WORDS = ["astronomers", "ears", "saw", "stars", "telescopes", "with"]


def _ms_grammar():
    N = {a: i for i, a in enumerate(MS_NONTERMINALS)}
    W = {w: i for i, w in enumerate(MS_WORDS)}
    binary = np.zeros((6, 6, 6))
    lexical = np.zeros((6, 6))
    for lhs, b, c, p in [("S", "NP", "VP", 1.0), ("PP", "P", "NP", 1.0), ("VP", "V", "NP", 0.7),
                         ("VP", "VP", "PP", 0.3), ("NP", "NP", "PP", 0.4)]:
        binary[N[lhs], N[b], N[c]] = p
    for lhs, w, p in [("P", "with", 1.0), ("V", "saw", 1.0), ("NP", "astronomers", 0.1),
                      ("NP", "ears", 0.18), ("NP", "saw", 0.04), ("NP", "stars", 0.18),
                      ("NP", "telescopes", 0.1)]:
        lexical[N[lhs], W[w]] = p
    sentence = np.array([W[w] for w in "astronomers saw stars with ears".split()])
    return binary, lexical, sentence


MS_GRAMMAR = _ms_grammar()   # (binary[A,B,C] = p(A -> B C), lexical[A,w] = p(A -> w), sentence)
MS_PROB = 0.0015876          # P("astronomers saw stars with ears"), published


