"""Toy probabilistic grammars in Chomsky normal form (notebook 04).

- The Manning & Schütze grammar (*Foundations of Statistical Natural Language Processing*, 1999,
  ch. 11, the "astronomers saw stars with ears" example). Its published figures:
  ``P("astronomers saw stars with ears") = 0.0015876``, from two parses, the more likely with
  probability ``0.0009072`` (PP attached to the object NP) and the other ``0.0006804``
  (PP attached to the VP).
- A small *known* grammar (8 nonterminals, 10 words) to sample training corpora from, so EM's
  estimates can be compared with the truth.

Rules are ``(lhs, rhs_tuple, prob)`` triples, the input of :meth:`emlab.pcfg.PCFG.from_rules`.
"""

from __future__ import annotations

__all__ = [
    "MANNING_SCHUTZE_RULES", "MANNING_SCHUTZE_SENTENCE", "MANNING_SCHUTZE_PROB",
    "MANNING_SCHUTZE_BEST_PARSE_PROB", "manning_schutze_grammar",
    "TOY_RULES", "toy_grammar",
]

#: Manning & Schütze (1999), Table 11.2 (a CNF grammar; "saw" is both a verb and a noun).
MANNING_SCHUTZE_RULES = [
    ("S", ("NP", "VP"), 1.0),
    ("PP", ("P", "NP"), 1.0),
    ("VP", ("V", "NP"), 0.7),
    ("VP", ("VP", "PP"), 0.3),
    ("P", ("with",), 1.0),
    ("V", ("saw",), 1.0),
    ("NP", ("NP", "PP"), 0.4),
    ("NP", ("astronomers",), 0.1),
    ("NP", ("ears",), 0.18),
    ("NP", ("saw",), 0.04),
    ("NP", ("stars",), 0.18),
    ("NP", ("telescopes",), 0.1),
]

MANNING_SCHUTZE_SENTENCE = ["astronomers", "saw", "stars", "with", "ears"]

#: The published figures (Manning & Schütze 1999, ch. 11): the sentence probability and the
#: probability of its more likely parse.
MANNING_SCHUTZE_PROB = 0.0015876
MANNING_SCHUTZE_BEST_PARSE_PROB = 0.0009072

#: A small grammar with PP-attachment ambiguity (both NP → NP PP and VP → VP PP), finite expected
#: sentence length (about 7 words), 8 nonterminals and 10 words.
TOY_RULES = [
    ("S", ("NP", "VP"), 1.0),
    ("NP", ("Det", "N"), 0.8),
    ("NP", ("NP", "PP"), 0.2),
    ("VP", ("V", "NP"), 0.7),
    ("VP", ("VP", "PP"), 0.3),
    ("PP", ("P", "NP"), 1.0),
    ("Det", ("the",), 0.6),
    ("Det", ("a",), 0.4),
    ("N", ("dog",), 0.3),
    ("N", ("cat",), 0.3),
    ("N", ("man",), 0.2),
    ("N", ("park",), 0.2),
    ("V", ("saw",), 0.5),
    ("V", ("chased",), 0.5),
    ("P", ("in",), 0.5),
    ("P", ("with",), 0.5),
]


def manning_schutze_grammar():
    """The Manning & Schütze ch. 11 grammar as an :class:`emlab.pcfg.PCFG` (start symbol ``S``)."""
    from ..pcfg import PCFG

    return PCFG.from_rules(MANNING_SCHUTZE_RULES, start="S")


def toy_grammar():
    """The small known grammar :data:`TOY_RULES` as an :class:`emlab.pcfg.PCFG` (start ``S``)."""
    from ..pcfg import PCFG

    return PCFG.from_rules(TOY_RULES, start="S")
