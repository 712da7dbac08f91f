"""Probabilistic context-free grammars in Chomsky normal form: inside-outside, CKY, sampling and
EM (notebook 04).

A PCFG is a product of categoricals, one per left-hand side (notebook 01)::

    p(x, t) = Π_{rules A → β used in t} q(A → β),      Σ_β q(A → β) = 1 for every A

In Chomsky normal form every rule is binary, ``A → B C`` (two nonterminals), or lexical,
``A → w`` (one word). Internally symbols and words are integers and the grammar is two arrays:
``binary[A, B, C] = q(A → B C)`` of shape (N, N, N) and ``lexical[A, w] = q(A → w)`` of shape
(N, V); for every A, ``binary[A].sum() + lexical[A].sum() == 1``.

The dynamic programs are **one** span recursion, :func:`emlab.span.span`, in two semirings
(:mod:`emlab.semiring`), run **vectorized over spans and batched over sentences** of equal length,
with per-cell scaling so a 300-word sentence has a finite log-likelihood:

- inside (sum-product) ``β(i, j, A) = p(A ⇒* w_i … w_{j-1})``; ``p(x) = β(0, n, S)``;
- outside (its adjoint) ``α(i, j, A) = p(S ⇒* w_0 … w_{i-1} A w_j … w_{n-1})``;
- expected counts ``c(A → B C) = Σ_{i<k<j} α(i,j,A) q(A → B C) β(i,k,B) β(k,j,C) / p(x)`` and
  ``c(A → w) = Σ_{i: w_i = w} α(i,i+1,A) β(i,i+1,A) / p(x)``;
- CKY: the same recursion with max in place of sum (max-product), and the best tree read off its
  chart top-down by :func:`emlab.span.walk`, which with a draw in place of the argmax samples a
  tree from ``p(t | x)`` through the inside chart.

The M-step (``PCFG.m_step``) is :func:`emlab.categorical.normalize` applied, per left-hand side,
to the concatenation of that symbol's binary and lexical counts (notebook 04, "M-step per
left-hand side")::

    q(A → β) = c(A → β) / Σ_β' c(A → β')

The E-step of every method (``"soft"`` inside-outside, ``"hard"`` CKY, ``"stochastic"``) is
:func:`emlab.em.e_step`; this module supplies its hooks.

**Partially bracketed data** (Pereira & Schabes 1992; notebook 10). ``Bracketed(sentences,
brackets)`` gives each sentence a set of fence-post spans ``(i, j)`` (the words ``w_i … w_{j-1}``)
that its tree must not cross. Every function and hook here accepts it in place of the sentences:
the span recursion then runs with the mask "crosses no bracket" (:mod:`emlab.span`), so
``log_likelihood`` is ``Σ log p(x, t consistent with the brackets)``, the soft E-step's counts
are expectations under ``p(t | x, t consistent)``, CKY returns the best consistent tree and the
stochastic E-step samples consistent trees; ``em.fit`` on a ``Bracketed`` is EM on that
likelihood, monotone in it like any EM.

Trees are nested tuples: ``(label, word)`` for a preterminal, ``(label, left, right)`` otherwise;
:mod:`emlab.trees` reads them (its functions are re-exported here).

Layout: the :class:`PCFG` class (validation, construction, hooks) → :class:`Corpus` → the hooks'
kernels → the public functions → sampling.

Examples
--------
>>> g = PCFG.from_rules([("S", ("A", "A"), 1.0), ("A", ("a",), 0.5), ("A", ("b",), 0.5)])
>>> round(float(np.exp(log_likelihood(g, ["a", "b"]))), 6)
0.25
>>> viterbi_parse(g, ["a", "b"])[0]
('S', ('A', 'a'), ('A', 'b'))
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from typing import NamedTuple

import numpy as np

from . import categorical, em
from .semiring import MAX, SUM, Semiring, check_chart, check_semiring, draw
from .span import Chart, length_table, outside_counts, span, walk
from .threads import one_blas_thread
from .trees import bracketed, indented, tree_from_uses, tree_log_prob, tree_rules, tree_yield
from .validation import (
    as_generator,
    check_array,
    check_counts,
    check_elements,
    check_instance,
    check_positive_int,
    check_scalar,
    check_sequence,
    input_eps,
    naming,
    sum_tolerance,
)

__all__ = [
    "PCFG", "Corpus", "Bracketed", "log_likelihood", "sentence_log_likelihoods", "expected_rule_counts",
    "viterbi_parse", "inside_outside", "span_posteriors", "sample", "sample_trees",
    "tree_yield", "tree_rules", "tree_log_prob", "bracketed", "indented",
]

#: Target size in bytes of one batch's inside chart (sentences of a length are split into batches).
BATCH_BYTES = 1 << 19

#: The longest exact ``length`` :func:`sample_trees` draws (its length table is cubic in it).
MAX_LENGTH = 1000


def _name(symbol) -> str:
    return repr(symbol)


def _rule_str(lhs, rhs) -> str:
    return f"{lhs} -> {' '.join(str(s) for s in rhs)}"


class PCFG:
    """A PCFG in Chomsky normal form: ``PCFG(nonterminals, words, binary, lexical, start)``.

    Parameters
    ----------
    nonterminals : sequence of distinct hashable symbols (index ``A`` ↔ ``nonterminals[A]``).
    words : sequence of distinct hashable words (index ``w`` ↔ ``words[w]``); none may also be a
        nonterminal.
    binary : (N, N, N) ``binary[A, B, C] = q(A → B C)``.
    lexical : (N, V) ``lexical[A, w] = q(A → w)``.
    start : the start symbol, one of ``nonterminals``.

    The arrays are validated (non-negative, no NaN, and for every left-hand side the binary plus
    lexical probabilities sum to 1 within 1e-8, else a ``ValueError`` names the symbol), copied and
    made read-only. Most users build grammars with :meth:`from_rules` or :meth:`random`.

    The grammar implements the :class:`emlab.em.EMModel` protocol, so ``em.fit(g, sentences,
    method="soft" | "hard" | "stochastic")`` runs inside-outside EM and its hard and stochastic
    variants and returns a :class:`PCFG`.
    """

    def __init__(self, nonterminals, words, binary, lexical, start):
        check_sequence("nonterminals", nonterminals, "a list of nonterminal symbols")
        check_sequence("words", words, "a list of words")
        nts = tuple(nonterminals)
        ws = tuple(words)
        if not nts:
            raise ValueError("nonterminals is empty: a grammar needs at least one nonterminal")
        for kind, seq in (("nonterminals", nts), ("words", ws)):
            seen = set()
            for s in seq:
                if not isinstance(s, Hashable):
                    raise ValueError(f"{kind} holds {s!r}, which is not hashable")
                if s in seen:
                    raise ValueError(f"{kind} lists {_name(s)} twice")
                seen.add(s)
        both = set(nts) & set(ws)
        if both:
            s = sorted(both, key=str)[0]
            raise ValueError(f"symbol {_name(s)} is used both as a word and as a nonterminal: "
                             "a CNF grammar must keep them apart")
        N, V = len(nts), len(ws)
        eps = max(input_eps(binary), input_eps(lexical))      # float32 input: its resolution
        binary, lexical = check_array("binary", binary), check_array("lexical", lexical)
        if binary.shape != (N, N, N):
            raise ValueError(f"binary must have shape (N, N, N) = {(N, N, N)} for the N = {N} nonterminals, "
                             f"got {binary.shape}")
        if lexical.shape != (N, V):
            raise ValueError(f"lexical must have shape (N, V) = {(N, V)} for the {N} nonterminals and "
                             f"V = {V} words, got {lexical.shape}")
        totals = binary.reshape(N, -1).sum(axis=1) + lexical.sum(axis=1)
        for A in np.flatnonzero(np.abs(totals - 1.0) > sum_tolerance(eps, N * N + V)):
            raise ValueError(f"the probabilities of the rules with left-hand side {_name(nts[A])} sum to "
                             f"{float(totals[A]):.12g}, not 1")
        if eps:                                                # stored renormalized in float64
            binary, lexical = binary / totals[:, None, None], lexical / totals[:, None]
        if not isinstance(start, Hashable) or start not in nts:
            raise ValueError(f"unknown start symbol {_name(start)}: it is not a left-hand side of the "
                             f"grammar (nonterminals: {', '.join(map(str, nts))})")
        self.nonterminals, self.words, self.start = nts, ws, start
        self._nt = {s: i for i, s in enumerate(nts)}
        self._w = {s: i for i, s in enumerate(ws)}
        self.binary, self.lexical = _frozen(binary), _frozen(lexical)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_rules(cls, rules: Iterable, start="S") -> PCFG:
        """A grammar from rules ``(lhs, rhs, prob)``; ``rhs`` is ``(B, C)`` of two nonterminals or
        ``(word,)`` of one word (a bare string counts as one word).

        Nonterminals are the left-hand sides, in order of first appearance; words are the symbols of
        one-symbol right-hand sides. Raises ``ValueError`` naming the rule or symbol at fault for a
        rule that is not in Chomsky normal form (a unary rule to a nonterminal, a right-hand side of
        length 0 or more than 2, a binary rule over a symbol that has no rules), a duplicated rule,
        a negative / NaN / infinite probability, a left-hand side whose probabilities do not sum to
        1 (within 1e-8) and an unknown start symbol.
        """
        if isinstance(rules, (str, bytes, dict)) or not hasattr(rules, "__iter__"):
            raise TypeError(f"rules must be a list of (lhs, rhs, prob) triples, got {type(rules).__name__}")
        parsed = []
        for rule in rules:
            if not (isinstance(rule, (tuple, list)) and len(rule) == 3):
                raise ValueError(f"rule {rule!r} must be a triple (lhs, rhs_tuple, prob)")
            lhs, rhs, p = rule
            if isinstance(rhs, str):
                rhs = (rhs,)
            if not isinstance(rhs, (tuple, list)):
                raise ValueError(f"rule {rule!r}: the right-hand side must be a tuple of symbols")
            rhs = tuple(rhs)
            try:
                p = float(p)
            except (TypeError, ValueError):
                raise ValueError(f"rule {_rule_str(lhs, rhs)} has a probability that is not a number: "
                                 f"{p!r}") from None
            if math.isnan(p) or math.isinf(p) or p < 0:
                raise ValueError(f"rule {_rule_str(lhs, rhs)} has an invalid probability {p!r} "
                                 "(it must be a finite number >= 0)")
            parsed.append((lhs, rhs, p))
        if not parsed:
            raise ValueError("the grammar has no rules")
        nts = list(dict.fromkeys(lhs for lhs, _, _ in parsed))
        is_nt = set(nts)
        words: dict = {}
        seen = set()
        for lhs, rhs, _p in parsed:
            if (lhs, rhs) in seen:
                raise ValueError(f"rule {_rule_str(lhs, rhs)} is listed twice")
            seen.add((lhs, rhs))
            if len(rhs) == 1:
                if rhs[0] in is_nt:
                    raise ValueError(f"rule {_rule_str(lhs, rhs)} is not in Chomsky normal form: "
                                     f"{_name(rhs[0])} is a nonterminal (it has rules), so this is a unary "
                                     "rule; a one-symbol right-hand side must be a word")
                words.setdefault(rhs[0], None)
            elif len(rhs) == 2:
                for s in rhs:
                    if s not in is_nt:
                        raise ValueError(f"rule {_rule_str(lhs, rhs)} is not in Chomsky normal form: "
                                         f"{_name(s)} is not a nonterminal (no rule has it as left-hand "
                                         "side); a two-symbol right-hand side must be two nonterminals")
            else:
                raise ValueError(f"rule {_rule_str(lhs, rhs)} is not in Chomsky normal form: the right-hand "
                                 f"side has {len(rhs)} symbols (CNF allows A -> B C or A -> word)")
        both = is_nt & set(words)
        if both:  # pragma: no cover - caught above as a unary rule
            raise ValueError(f"symbol {_name(sorted(both, key=str)[0])} is both a word and a nonterminal")
        nt_index = {s: i for i, s in enumerate(nts)}
        w_index = {s: i for i, s in enumerate(words)}
        N, V = len(nts), len(words)
        binary, lexical = np.zeros((N, N, N)), np.zeros((N, V))
        for lhs, rhs, p in parsed:
            if len(rhs) == 2:
                binary[nt_index[lhs], nt_index[rhs[0]], nt_index[rhs[1]]] = p
            else:
                lexical[nt_index[lhs], w_index[rhs[0]]] = p
        return cls(nts, list(words), binary, lexical, start)

    @classmethod
    def random(cls, nonterminals, words, rng=None, start=None, rules=None,
               concentration: float = 1.0) -> PCFG:
        """A random initialization for EM.

        Without ``rules`` the grammar is *dense* CNF: every ``A → B C`` over ``nonterminals`` and
        every ``A → w`` over ``words``. With ``rules`` (pairs ``(lhs, rhs)`` or triples whose
        probabilities are ignored, e.g. ``g.rules()``) only those rules get probability. Each
        left-hand side's probabilities are drawn from a symmetric Dirichlet(``concentration``) with
        ``rng``. ``start`` defaults to the first nonterminal.
        """
        rng = as_generator(rng)
        concentration = check_scalar("concentration", concentration, low=0, low_open=True)
        nts, ws = list(nonterminals), list(words)
        if not nts:
            raise ValueError("nonterminals is empty")
        start = nts[0] if start is None else start
        if rules is None:
            support = [(a, (b, c)) for a in nts for b in nts for c in nts]
            support += [(a, (w,)) for a in nts for w in ws]
        else:
            support = []
            for n, r in enumerate(rules):
                if not (isinstance(r, (tuple, list)) and len(r) in (2, 3)
                        and isinstance(r[1], (tuple, list, str))):
                    raise ValueError(f"rules item {n} must be (lhs, rhs) or (lhs, rhs, prob) with rhs a "
                                     f"tuple of symbols, got {r!r}")
                support.append((r[0], tuple(r[1]) if not isinstance(r[1], str) else (r[1],)))
        by_lhs: dict = {}
        for lhs, rhs in support:
            by_lhs.setdefault(lhs, []).append(rhs)
        missing = [a for a in nts if a not in by_lhs]
        if missing:
            raise ValueError(f"nonterminal {_name(missing[0])} has no rules in the given rule set")
        out = []
        for lhs in nts:
            probs = rng.dirichlet(np.full(len(by_lhs[lhs]), float(concentration)))
            out += [(lhs, rhs, p) for rhs, p in zip(by_lhs[lhs], probs, strict=True)]
        g = cls.from_rules(out, start=start)
        # keep the requested orders (and words without rules) so indices are predictable
        extra = [w for w in ws if w not in g._w]
        order_w = [w for w in ws if w in g._w] + [w for w in g.words if w not in set(ws)] + extra
        lex = np.zeros((len(g.nonterminals), len(order_w)))
        for j, w in enumerate(order_w):
            if w in g._w:
                lex[:, j] = g.lexical[:, g._w[w]]
        perm = [g._nt[a] for a in nts]
        return cls(nts, order_w, g.binary[np.ix_(perm, perm, perm)], lex[perm], start)

    # -- queries ------------------------------------------------------------------------------
    @property
    def N(self) -> int:
        """Number of nonterminals."""
        return len(self.nonterminals)

    @property
    def V(self) -> int:
        """Number of words."""
        return len(self.words)

    def prob(self, lhs, rhs) -> float:
        """``q(lhs → rhs)``; 0.0 for a rule the grammar lacks (including unknown symbols)."""
        if isinstance(rhs, str):
            rhs = (rhs,)
        rhs = tuple(rhs)
        A = self._nt.get(lhs)
        if A is None:
            return 0.0
        if len(rhs) == 2 and rhs[0] in self._nt and rhs[1] in self._nt:
            return float(self.binary[A, self._nt[rhs[0]], self._nt[rhs[1]]])
        if len(rhs) == 1 and rhs[0] in self._w:
            return float(self.lexical[A, self._w[rhs[0]]])
        return 0.0

    def rules(self) -> list[tuple]:
        """Every rule with positive probability, as ``(lhs, rhs, prob)``, grouped by left-hand side
        (binary rules first). ``PCFG.from_rules(g.rules(), g.start)`` rebuilds the grammar (up to
        words that only had zero-probability rules)."""
        out = []
        for A, a in enumerate(self.nonterminals):
            for B, C in zip(*np.nonzero(self.binary[A]), strict=True):
                out.append((a, (self.nonterminals[B], self.nonterminals[C]), float(self.binary[A, B, C])))
            for w in np.flatnonzero(self.lexical[A]):
                out.append((a, (self.words[w],), float(self.lexical[A, w])))
        return out

    def params(self) -> dict[str, np.ndarray]:
        """``{"binary": (N, N, N), "lexical": (N, V)}`` (read-only views)."""
        return {"binary": self.binary, "lexical": self.lexical}

    def __repr__(self) -> str:
        n_rules = int(np.count_nonzero(self.binary) + np.count_nonzero(self.lexical))
        return f"PCFG(N={self.N}, V={self.V}, rules={n_rules}, start={self.start!r})"

    # -- the EMModel protocol -------------------------------------------------------------------
    def prepare(self, data) -> Corpus:
        """Encode and validate sentences once (see :class:`Corpus`)."""
        return data if isinstance(data, Corpus) and data.grammar_words == self.words else Corpus(self, data)

    def e_step(self, prepared, method: str = "soft", rng=None) -> em.EStep:
        """:func:`emlab.em.e_step` of this grammar: expected rule counts (``{"binary": (N,N,N),
        "lexical": (N,V)}``), ``log p(x)`` and the objective of ``method``."""
        return em.e_step(self, self.prepare(prepared), method, rng)

    def m_step(self, counts: dict[str, np.ndarray]) -> PCFG:
        """Normalize the counts per left-hand side over its binary and lexical rules together; a
        left-hand side whose counts are all zero keeps its previous probabilities."""
        N, V = self.N, self.V
        check_counts(counts, ("binary", "lexical"))
        cb = check_array("counts['binary']", counts["binary"], shape=(N, N, N))
        cl = check_array("counts['lexical']", counts["lexical"], shape=(N, V))
        joint = np.concatenate([cb.reshape(N, N * N), cl], axis=1)
        previous = np.concatenate([self.binary.reshape(N, N * N), self.lexical], axis=1)
        probs = categorical.normalize(joint, previous=previous)
        return PCFG(self.nonterminals, self.words, probs[:, :N * N].reshape(N, N, N), probs[:, N * N:],
                    self.start)

    # -- hooks of em.e_step ---------------------------------------------------------------------
    def batches(self, corpus: Corpus) -> list[Batch]:
        """Sentences of one length, in batches of about :data:`BATCH_BYTES` of chart."""
        return corpus.batches

    def chart(self, batch: Batch, semiring: Semiring = SUM) -> InsideChart:
        """The scaled span chart of a batch: inside (``SUM``, with ``log p(x)`` per sentence) or
        CKY (``MAX``, with ``log p(x, t*)``)."""
        chart = span(self.binary, self.lexical, batch.words, check_semiring(semiring), batch.allowed)
        return InsideChart(chart, self._nt[self.start])

    def posterior_counts(self, batch: Batch, chart: InsideChart) -> dict[str, np.ndarray]:
        """Expected rule counts: the outside pass over an inside (``SUM``) chart."""
        cb, cl, _ = outside_counts(self.binary, self.lexical, batch.words,
                                   check_chart(chart, SUM, "posterior_counts").chart, chart.start)
        return {"binary": cb, "lexical": cl}

    def best(self, batch: Batch, chart: InsideChart):
        """The best trees read off a CKY (``MAX``) chart, with ``log p(x, t*)``."""
        return walk(check_chart(chart, MAX, "best").chart, self.binary, chart.start), chart.log_evidence

    def sampled(self, batch: Batch, chart: InsideChart, rng: np.random.Generator):
        """One tree per sentence drawn from ``p(t | x)``, top-down through an inside (``SUM``) chart."""
        return walk(check_chart(chart, SUM, "sampled").chart, self.binary, chart.start, rng)

    def structure_counts(self, batch: Batch, uses) -> dict[str, np.ndarray]:
        """Rule counts of the trees given as rule uses (:func:`emlab.span.walk`)."""
        N, V = self.N, self.V
        bins, lexs = uses
        cb = np.bincount((bins[:, 1] * N + bins[:, 2]) * N + bins[:, 3], minlength=N ** 3)
        cl = np.bincount(lexs[:, 1] * V + batch.words[lexs[:, 0], lexs[:, 2]], minlength=N * V)
        return {"binary": cb.reshape(N, N, N).astype(float), "lexical": cl.reshape(N, V).astype(float)}

    def impossible_item(self, corpus: Corpus, batch: Batch, i: int) -> str:
        n = int(batch.index[i])
        if corpus.brackets is not None and corpus.brackets[n]:
            free = span(self.binary, self.lexical, batch.words[i:i + 1], SUM)
            if free.log_prob(self._nt[self.start])[0] > -np.inf:
                return (f"{corpus.describe(n)} has no parse consistent with its brackets "
                        f"{sorted(corpus.brackets[n])} (it has parses, but each crosses one of them)")
        return f"{corpus.describe(n)} has no parse (probability zero under the grammar)"


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.flags.writeable = False
    return a


# -- sentences ------------------------------------------------------------------------------------
def _as_sentences(sentences) -> list[list]:
    """A list of token lists (a single token list, or a whitespace-separated string, is one sentence)."""
    if isinstance(sentences, str):
        return [sentences.split()]
    if isinstance(sentences, np.ndarray):
        sentences = sentences.tolist()
    try:
        items = list(sentences)
    except TypeError:
        raise ValueError("sentences must be a list of token lists (or one token list)") from None
    if not items:
        raise ValueError("the corpus is empty: give at least one sentence")
    if all(not isinstance(s, (list, tuple, np.ndarray)) for s in items):
        return [items]
    out = []
    for n, s in enumerate(items):
        if isinstance(s, str):
            s = s.split()
        elif isinstance(s, np.ndarray):
            s = s.tolist()
        elif not isinstance(s, (list, tuple)):
            raise ValueError(f"sentence {n} must be a list of tokens, got {type(s).__name__}")
        out.append(list(s))
    return out


def _show(tokens, limit: int = 12) -> str:
    text = " ".join(map(str, tokens[:limit]))
    return repr(text + (" …" if len(tokens) > limit else ""))


class Batch(NamedTuple):
    """Sentences of one length: corpus positions ``index`` (B,) and word codes ``words`` (B, n);
    ``allowed`` (B, n+1, n+1) the span mask of bracketed sentences (``None``: no brackets)."""

    index: np.ndarray
    words: np.ndarray
    allowed: np.ndarray | None = None


class Bracketed:
    """Sentences with brackets their trees must respect (Pereira & Schabes 1992; notebook 10):
    ``Bracketed(sentences, brackets)``, ``brackets[n]`` an iterable of fence-post spans ``(i, j)``
    of sentence ``n`` (the words ``w_i … w_{j-1}``, ``0 ≤ i < j ≤ len``).

    A tree is *consistent* with the brackets when none of its constituents crosses one, a span
    ``(k, l)`` crossing ``(i, j)`` when they overlap without nesting (``i < k < j < l`` or
    ``k < i < l < j``). Give it wherever sentences go (``em.fit(g, Bracketed(...))``,
    :func:`log_likelihood`, :func:`expected_rule_counts`, :func:`viterbi_parse` of one
    sentence…): everything is then restricted to consistent trees. Empty brackets are no
    constraint; the brackets of a whole tree leave only the trees with that shape.

    Raises ``ValueError`` naming the sentence and the bracket for a bracket that is not a pair of
    integers, is empty or reversed (``i >= j``), leaves the sentence, or crosses another bracket
    of the same sentence (no tree could respect both), and when there are not as many bracket lists
    as sentences.
    """

    def __init__(self, sentences, brackets):
        with naming("sentences"):
            self.sentences = _as_sentences(sentences)
        try:
            given = list(brackets)
        except TypeError:
            raise ValueError("brackets must be a list (one entry per sentence) of lists of (i, j) "
                             "spans") from None
        if len(given) != len(self.sentences):
            raise ValueError(f"brackets has {len(given)} entries for {len(self.sentences)} sentences: "
                             "give one list of (i, j) spans per sentence")
        pairs = zip(self.sentences, given, strict=True)
        with naming("brackets"):
            self.brackets: list[frozenset] = [_checked_brackets(n, s, b) for n, (s, b) in enumerate(pairs)]

    @classmethod
    def from_trees(cls, trees, keep: float = 1.0, rng=None) -> Bracketed:
        """The yields of ``trees`` with their brackets (:func:`emlab.metrics.brackets`: the
        constituents of 2 to n − 1 words), each kept independently with probability ``keep``
        (drawn with ``rng``): a *partially* bracketed corpus when ``keep < 1``."""
        from .metrics import brackets as tree_brackets

        keep = check_scalar("keep", keep, low=0, high=1)
        rng = as_generator(rng)
        trees = list(trees)
        chosen = []
        for t in trees:
            spans = sorted(tree_brackets(t))
            chosen.append([b for b, u in zip(spans, rng.random(len(spans)), strict=True) if u < keep])
        return cls([tree_yield(t) for t in trees], chosen)

    def __len__(self) -> int:
        return len(self.sentences)

    def __repr__(self) -> str:
        return f"Bracketed({len(self)} sentences, {sum(map(len, self.brackets))} brackets)"


def _checked_brackets(n: int, sentence, spans) -> frozenset:
    try:
        spans = list(spans)
    except TypeError:
        raise ValueError(f"the brackets of sentence {n} must be a list of (i, j) spans, got "
                         f"{spans!r}") from None
    length, out = len(sentence), []
    for b in spans:
        ok = isinstance(b, (tuple, list, np.ndarray)) and len(b) == 2
        if ok:
            ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in b)
        if not ok:
            raise ValueError(f"bracket {b!r} of sentence {n} is not a pair (i, j) of integers")
        i, j = int(b[0]), int(b[1])
        if i >= j:
            raise ValueError(f"bracket ({i}, {j}) of sentence {n} has i >= j: a bracket (i, j) spans "
                             "the words w_i … w_{j-1}, so it needs i < j")
        if i < 0 or j > length:
            raise ValueError(f"bracket ({i}, {j}) of sentence {n} ({_show(sentence)}) leaves the sentence: "
                             f"fence posts run from 0 to {length} (or is sentences[{n}] not what you meant?)")
        for k, m in out:
            if k < i < m < j or i < k < j < m:
                raise ValueError(f"brackets ({k}, {m}) and ({i}, {j}) of sentence {n} cross (they overlap "
                                 "without nesting), so no tree is consistent with both")
        out.append((i, j))
    return frozenset(out)


def _allowed(n: int, spans) -> np.ndarray:
    """``allowed[i, j]``: the span (i, j) crosses none of the brackets ``spans`` (fence posts)."""
    k, m = np.ogrid[:n + 1, :n + 1]
    ok = np.ones((n + 1, n + 1), dtype=bool)
    for i, j in spans:
        ok &= ~(((k < i) & (i < m) & (m < j)) | ((i < k) & (k < j) & (j < m)))
    return ok


class Corpus:
    """``Corpus(grammar, sentences)``: sentences encoded as word indices and grouped by length for
    batching (``batches``: a list of :class:`Batch` ``(sentence indices, words (B, n))``,
    each holding sentences of one length).

    ``sentences`` may be a :class:`Bracketed` corpus: its batches then carry the span mask of
    their brackets (``Batch.allowed``).

    Raises ``ValueError`` for an empty corpus, an empty sentence, or a word that is not in the
    grammar's vocabulary (naming the word, the sentence and the position).
    """

    def __init__(self, g: PCFG, sentences):
        check_instance("g", g, PCFG, "a pcfg.PCFG")
        with naming("sentences"):
            self._encode(g, sentences)
        by_len: dict[int, list[int]] = {}
        for n, c in enumerate(self.codes):
            by_len.setdefault(len(c), []).append(n)
        # equal-length sentences share a batch; a batch's chart is kept to about BATCH_BYTES so
        # the charts of a width stay in cache (measured ~1.5x faster than one huge batch)
        self.batches: list[Batch] = []
        for n, ix in sorted(by_len.items()):
            size = max(1, BATCH_BYTES // ((n + 1) ** 2 * g.N * 8))
            for lo in range(0, len(ix), size):
                chunk = ix[lo:lo + size]
                allowed = None
                if self.brackets is not None and any(self.brackets[k] for k in chunk):
                    allowed = np.stack([_allowed(n, self.brackets[k]) for k in chunk])
                self.batches.append(Batch(np.array(chunk), np.stack([self.codes[k] for k in chunk]),
                                          allowed))

    def _encode(self, g: PCFG, sentences) -> None:
        """``texts`` (token lists), ``brackets`` and ``codes`` (word indices) of the sentences."""
        #: the brackets of each sentence (``None`` for plain sentences; see :class:`Bracketed`)
        self.brackets = sentences.brackets if isinstance(sentences, Bracketed) else None
        self.texts = sentences.sentences if isinstance(sentences, Bracketed) else _as_sentences(sentences)
        self.grammar_words = g.words
        self.codes = []
        for n, tokens in enumerate(self.texts):
            if not tokens:
                raise ValueError(f"sentence {n} is empty")
            codes = np.empty(len(tokens), dtype=np.intp)
            for i, tok in enumerate(tokens):
                try:
                    codes[i] = g._w[tok]
                except (KeyError, TypeError):
                    raise ValueError(f"the grammar cannot emit word {tok!r} (sentence {n}, position {i}: "
                                     f"{_show(tokens)}): it is not in the grammar's vocabulary") from None
            self.codes.append(codes)

    def __len__(self) -> int:
        return len(self.codes)

    def describe(self, n: int) -> str:
        return f"sentence {n} ({_show(self.texts[n])})"


# -- the hooks' kernels ---------------------------------------------------------------------------
class InsideChart:
    """A scaled chart (:class:`emlab.span.Chart`) with ``log_evidence``: ``log β(0, n, start)`` per
    sentence (the inside chart: ``log p(x)``; the CKY chart: ``log p(x, t*)``; ``-inf`` without
    a parse)."""

    def __init__(self, chart: Chart, start: int):
        self.chart, self.start, self.semiring = chart, start, chart.semiring
        self.log_evidence = chart.log_prob(start)


# -- the contract -------------------------------------------------------------------------------
@one_blas_thread
def sentence_log_likelihoods(g: PCFG, sentences) -> np.ndarray:
    """``log p(x)`` of every sentence (``-inf`` for a sentence without a parse); of a
    :class:`Bracketed` corpus, ``log p(x, t consistent with its brackets)``."""
    check_instance("g", g, PCFG, "a pcfg.PCFG")
    corpus = g.prepare(sentences)
    lls = np.empty(len(corpus))
    for batch in corpus.batches:
        lls[batch.index] = g.chart(batch).log_evidence
    return lls


def log_likelihood(g: PCFG, sentences) -> float:
    """``Σ_x log p(x)`` over the sentences (a list of token lists, or one token list), computed by
    the scaled inside algorithm; ``-inf`` if some sentence has no parse. Of a :class:`Bracketed`
    corpus: the constrained likelihood ``Σ_x log Σ_{t consistent} p(x, t)`` (Pereira & Schabes
    1992), the objective of EM on it."""
    check_instance("g", g, PCFG, "a pcfg.PCFG")
    return float(sentence_log_likelihoods(g, sentences).sum())


def expected_rule_counts(g: PCFG, sentences) -> dict:
    """``{(lhs, rhs): E[count of the rule]}`` summed over the sentences, for every rule of the
    grammar (inside-outside; see the module docstring); of a :class:`Bracketed` corpus, under
    ``p(t | x, t consistent)``. Raises ``ValueError`` naming a sentence that has no (consistent)
    parse."""
    check_instance("g", g, PCFG, "a pcfg.PCFG")
    counts = g.e_step(g.prepare(sentences), "soft").counts
    out = {}
    for lhs, rhs, _p in g.rules():
        A = g._nt[lhs]
        if len(rhs) == 2:
            out[(lhs, rhs)] = float(counts["binary"][A, g._nt[rhs[0]], g._nt[rhs[1]]])
        else:
            out[(lhs, rhs)] = float(counts["lexical"][A, g._w[rhs[0]]])
    return out


def _one_sentence(g: PCFG, sentence) -> Corpus:
    corpus = Corpus(g, sentence)
    if len(corpus) != 1:
        raise ValueError(f"expected one sentence (a token list), got {len(corpus)}")
    return corpus


@one_blas_thread
def viterbi_parse(g: PCFG, sentence) -> tuple:
    """The most probable tree (CKY) and ``log p(x, t*)``: ``(tree, log_prob)``, with trees as
    ``(label, word)`` / ``(label, left, right)``. A sentence without a parse gives ``(None, -inf)``.
    Given a one-sentence :class:`Bracketed`, the best tree consistent with its brackets."""
    check_instance("g", g, PCFG, "a pcfg.PCFG")
    corpus = _one_sentence(g, sentence)
    batch = corpus.batches[0]
    cky = g.chart(batch, MAX)
    best = float(cky.log_evidence[0])
    if best == -np.inf:
        return None, -np.inf
    bins, lexs = walk(cky.chart, g.binary, cky.start)
    return tree_from_uses(g.nonterminals, corpus.texts[0], bins[:, [1, 2, 3, 4, 5, 6]], lexs[:, 1:]), best


@one_blas_thread
def inside_outside(g: PCFG, sentence) -> tuple[np.ndarray, np.ndarray, float]:
    """The inside and outside charts of one sentence, for teaching and inspection:
    ``(inside, outside, log_prob)`` with ``inside[i, j, A] = β(i, j, A)`` and
    ``outside[i, j, A] = α(i, j, A)`` as plain probabilities, shape (n+1, n+1, N) (entries with
    ``j <= i`` are 0). ``Σ_A α(i, j, A) β(i, j, A) = p(x) · P(some constituent spans (i, j))`` and
    ``β(0, n, S) = p(x)``. The outside values are those the E-step uses: exact wherever they
    matter (``β > 0``); a sentence without a parse gets an all-zero outside chart. The charts are
    unscaled here, so very long sentences (or tiny rule probabilities) underflow to 0;
    :func:`log_likelihood`, :func:`span_posteriors` and the E-steps use the scaled charts and do not."""
    beta, alpha, log_p, _ = _charts(g, sentence)
    return beta, alpha, log_p


@one_blas_thread
def span_posteriors(g: PCFG, sentence) -> np.ndarray:
    """``P(A spans (i, j) | x) = α(i, j, A) β(i, j, A) / p(x)``, shape (n+1, n+1, N) (0 where
    ``j <= i``), from the scaled charts: with ``β = β̂ e^{s}`` and ``α = α̂ e^{log p(x) − s}`` the
    quotient is ``α̂ β̂``, so it stays exact when ``p(x)`` itself underflows (``p(x) ≈ 1e-900``).
    Raises ``ValueError`` for a sentence without a parse (its posteriors are undefined)."""
    _, _, log_p, post = _charts(g, sentence)
    if log_p == -np.inf:
        raise ValueError("the grammar has no parse of this sentence (p(x) = 0), so its span posteriors "
                         "are undefined")
    return post


def _charts(g: PCFG, sentence):
    """``(β, α, log p(x), α β / p(x))`` of one sentence: the charts of :func:`inside_outside`
    and the span posteriors of :func:`span_posteriors`."""
    check_instance("g", g, PCFG, "a pcfg.PCFG")
    batch = _one_sentence(g, sentence).batches[0]
    words = batch.words
    ins = g.chart(batch)
    log_p = float(ins.log_evidence[0])
    n = words.shape[1]
    beta, alpha = np.zeros((n + 1, n + 1, g.N)), np.zeros((n + 1, n + 1, g.N))
    post = np.zeros((n + 1, n + 1, g.N))
    alpha_hat = (outside_counts(g.binary, g.lexical, words, ins.chart, ins.start)[2]
                 if log_p > -np.inf else None)
    chart = ins.chart
    with np.errstate(under="ignore", over="ignore"):
        for i in range(n):
            for j in range(i + 1, n + 1):
                scale = chart.scale_start[0, i, j - i]
                if scale == -np.inf:
                    continue
                beta[i, j] = chart.by_start[0, i, j - i] * np.exp(scale)
                if alpha_hat is not None:
                    alpha[i, j] = alpha_hat[j - i][0, i] * np.exp(log_p - scale)
                    post[i, j] = alpha_hat[j - i][0, i] * chart.by_start[0, i, j - i]
    return beta, alpha, log_p, post


# -- sampling -------------------------------------------------------------------------------------
class _TooLong(Exception):
    pass


def sample_trees(g: PCFG, n: int, rng=None, length: int | None = None, max_length: int = 200,
                 max_tries: int = 10_000) -> list:
    """``n`` trees drawn from the grammar, top-down from the start symbol, with ``rng``.

    With ``length`` every tree has exactly that many words: trees are drawn from
    ``p(t | |x| = length)`` by sampling top-down through the table
    ``P(A ⇒* a string of length l)`` (an inside algorithm over lengths instead of spans). Without it,
    a draw that grows beyond ``max_length`` words is abandoned and redrawn (a guard against
    grammars whose trees are very large or infinite with positive probability); after
    ``max_tries`` abandoned draws a ``ValueError`` says so. ``length`` is at most :data:`MAX_LENGTH`
    (its table costs ``O(length³ N³)``), and ``n`` times ``length`` or ``max_length`` at most
    :data:`~emlab.validation.MAX_ELEMENTS`.
    """
    check_instance("g", g, PCFG, "a pcfg.PCFG")
    rng = as_generator(rng)
    check_positive_int("n", n)
    A0 = g._nt[g.start]
    if length is not None:
        check_positive_int("length", length, high=MAX_LENGTH)
        check_elements("n and length", n * length, "n × length words")
        table, scale = length_table(g.binary, g.lexical, int(length))
        if table[length, A0] == 0:
            raise ValueError(f"the grammar generates no sentence of length {length}")
        return [_sample_of_length(g, A0, int(length), table, scale, rng) for _ in range(n)]
    check_positive_int("max_length", max_length)
    check_positive_int("max_tries", max_tries)
    check_elements("n and max_length", n * max_length, "n × max_length words")
    rows = np.concatenate([g.binary.reshape(g.N, g.N * g.N), g.lexical], axis=1)
    trees, tries = [], 0
    while len(trees) < n:
        try:
            trees.append(_grow(g, A0, rows, rng, 2 * int(max_length) - 1))
        except _TooLong:
            tries += 1
            if tries >= max_tries:
                raise ValueError(f"{max_tries} draws grew beyond max_length={max_length} words: the "
                                 "grammar's trees are too large; raise max_length or give a length") from None
    return trees


def _grow(g: PCFG, A0: int, rows, rng, max_nodes: int):
    """One tree drawn top-down; raises ``_TooLong`` past ``max_nodes`` nodes (2n - 1 for n words).

    Iterative (an explicit stack, expanded left child first, so the draws come in pre-order): a
    tree's depth is bounded only by ``max_nodes``, never by Python's recursion limit."""
    N, nodes, preorder, stack = g.N, 0, [], [A0]
    while stack:
        A = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise _TooLong
        r = int(draw(rows[A], rng.random()))
        if r >= N * N:
            preorder.append((True, (g.nonterminals[A], g.words[r - N * N])))
        else:
            B, C = divmod(r, N)
            preorder.append((False, g.nonterminals[A]))
            stack += [C, B]
    return _from_preorder(preorder)


def _sample_of_length(g: PCFG, A0: int, length: int, table, scale, rng):
    """One tree of ``length`` words, top-down through the length table (an explicit stack, as
    :func:`_grow`)."""
    N, preorder, stack = g.N, [], [(A0, length)]
    while stack:
        A, n_words = stack.pop()
        if n_words == 1:
            preorder.append((True, (g.nonterminals[A], g.words[int(draw(g.lexical[A], rng.random()))])))
            continue
        k = np.arange(1, n_words)
        comb = scale[k] + scale[n_words - k]
        weights = np.exp(comb - comb.max())
        prob = (weights[:, None, None] * table[k][:, :, None] * table[n_words - k][:, None, :]
                * g.binary[A][None])
        kk, r = divmod(int(draw(prob.ravel(), rng.random())), N * N)
        B, C = divmod(r, N)
        preorder.append((False, g.nonterminals[A]))
        stack += [(C, n_words - int(k[kk])), (B, int(k[kk]))]
    return _from_preorder(preorder)


def _from_preorder(preorder: list):
    """The nested-tuple tree whose nodes, in pre-order, are ``preorder``: ``(True, (label, word))``
    for a preterminal, ``(False, label)`` for a binary node. Read backwards, every binary node finds
    its left and right subtrees on top of the stack."""
    built: list = []
    for leaf, item in reversed(preorder):
        if leaf:
            built.append(item)
        else:
            left = built.pop()
            built.append((item, left, built.pop()))
    return built[0]


def sample(g: PCFG, n: int, rng=None, length: int | None = None, max_length: int = 200,
           max_tries: int = 10_000) -> list[list]:
    """``n`` sentences (token lists) drawn from the grammar: the yields of :func:`sample_trees`."""
    trees = sample_trees(g, n, rng=rng, length=length, max_length=max_length, max_tries=max_tries)
    return [tree_yield(t) for t in trees]
