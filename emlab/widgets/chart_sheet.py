"""The numbers of the inside-chart explorer, from emlab's PCFG functions (notebook 04_pcfg_chart_explorer).

For a CNF grammar and one sentence ``w_0 … w_{n-1}`` (fence posts ``0..n``):

- the inside chart ``β(i, j, A) = p(A ⇒* w_i … w_{j-1})`` and the outside chart ``α(i, j, A)``
  (:func:`emlab.pcfg.inside_outside`), with ``p(x) = β(0, n, S)``;
- the labelled span posteriors ``P(A spans (i, j) | x) = α(i, j, A) β(i, j, A) / p(x)`` and the
  unlabelled ones ``P((i, j) is a constituent | x) = Σ_A α β / p(x)``;
- the expected rule counts (:func:`emlab.pcfg.expected_rule_counts`);
- the CKY tree, the most probable parse (:func:`emlab.pcfg.viterbi_parse`).

The grammar is edited as text, one rule per line (``NP -> NP PP 0.4``, ``N -> stars 0.18``), the
sentence as words separated by spaces: :func:`parse_rules` and :func:`parse_sentence` raise
``ValueError`` with a message for the reader (naming the line), and so does
:func:`inside_chart_sheet` for a sentence the grammar cannot parse. Nothing here draws or
imports ipywidgets (:mod:`emlab.widgets.chart` does).
"""

from __future__ import annotations

import math

import numpy as np

from .. import pcfg
from ..sheets import ChartSheet
from ..validation import check_instance, naming

__all__ = ["MAX_WORDS", "ChartSheet", "inside_chart_sheet", "parse_rules", "format_rules", "parse_sentence"]

#: Longest sentence the explorer shows (its chart has n(n+1)/2 cells).
MAX_WORDS = 12


def inside_chart_sheet(grammar: pcfg.PCFG, words) -> ChartSheet:
    """Every chart of the explorer for ``grammar`` and the token list ``words``.

    Raises ``TypeError`` when ``words`` is not a list of tokens (a str must be split first), and
    ``ValueError`` for a word the grammar cannot emit (the message names it), for no word or more than
    :data:`MAX_WORDS` words and for a sentence with no parse (its posteriors are undefined).
    """
    if not isinstance(grammar, pcfg.PCFG):
        raise TypeError(f"grammar must be an emlab.pcfg.PCFG, got {type(grammar).__name__}")
    if isinstance(words, str):
        raise TypeError(f"words must be a list of words, got the str {words!r}: split it first "
                        "(parse_sentence)")
    if (isinstance(words, (bytes, dict, set)) or not hasattr(words, "__iter__")
            or (isinstance(words, np.ndarray) and words.ndim == 0)):
        raise TypeError(f"words must be a list of words, got {type(words).__name__}")
    words = list(words)
    if not words:
        raise ValueError("words is empty: the sentence needs at least one word")
    if len(words) > MAX_WORDS:
        raise ValueError(f"words holds {len(words)} words; the explorer shows at most {MAX_WORDS}")
    with naming("words"):                       # a word the grammar cannot emit
        inside, outside, log_p = pcfg.inside_outside(grammar, words)
    if log_p == -math.inf:
        raise ValueError("the grammar has no parse of these words (p(x) = 0), so their span posteriors "
                         "are undefined")
    p_x = math.exp(log_p)                       # (0.0 when p(x) underflows: the posteriors do not)
    labelled = pcfg.span_posteriors(grammar, words)
    tree, tree_log_prob = pcfg.viterbi_parse(grammar, words)
    return ChartSheet(grammar=grammar, words=words, inside=inside, outside=outside, log_p=float(log_p),
                      p_x=p_x, labelled=labelled, constituent=labelled.sum(axis=2),
                      counts=pcfg.expected_rule_counts(grammar, [words]), tree=tree,
                      tree_log_prob=float(tree_log_prob))


def parse_sentence(text: str) -> list[str]:
    """``"astronomers saw stars"`` → ``["astronomers", "saw", "stars"]`` (split on white space).

    Raises ``TypeError`` when ``text`` is not a str and ``ValueError`` when it holds no word."""
    if not isinstance(text, str):
        raise TypeError(f"text must be the sentence as a str, got {type(text).__name__}")
    words = text.split()
    if not words:
        raise ValueError("the sentence is empty (text holds no word): type at least one word")
    return words


def parse_rules(text: str) -> list[tuple]:
    """One rule per line, ``LHS -> RHS… prob``: ``S -> NP VP 1.0`` or ``N -> stars 0.18``.

    Blank lines and text after ``#`` are ignored. Returns ``[(lhs, rhs_tuple, prob)]`` for
    :meth:`emlab.pcfg.PCFG.from_rules` (which checks CNF and that each left-hand side sums to 1).
    Raises ``ValueError`` naming the line that is not of that form.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be the grammar's rules as a str, got {type(text).__name__}")
    rules = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        lhs, arrow, rest = line.partition("->")
        parts = rest.split()
        if not arrow or not lhs.strip() or len(lhs.split()) != 1 or len(parts) < 2:
            raise ValueError(f"line {number} of text ({line!r}) is not of the form 'A -> B C prob' or "
                             "'A -> word prob'")
        try:
            prob = float(parts[-1])
        except ValueError:
            raise ValueError(f"line {number} of text ({line!r}) must end with a probability, "
                             f"got {parts[-1]!r}") from None
        rules.append((lhs.strip(), tuple(parts[:-1]), prob))
    if not rules:
        raise ValueError("the grammar text has no rules: type one rule per line, e.g. 'S -> NP VP 1.0'")
    return rules


def format_rules(grammar: pcfg.PCFG) -> str:
    """The grammar as :func:`parse_rules` reads it, one rule per line (``g.rules()`` order)."""
    check_instance("grammar", grammar, pcfg.PCFG, "an emlab.pcfg.PCFG")
    return "\n".join(f"{lhs} -> {' '.join(rhs)} {p:.12g}" for lhs, rhs, p in grammar.rules())
