"""Partially bracketed inside-outside (Pereira & Schabes 1992; emlab.pcfg.Bracketed, notebook 10).

The reference is brute force, written here: every tree of a short sentence under a dense grammar is
listed, its probability multiplied out from the rule arrays, and only the trees none of whose
constituents crosses a given bracket are kept. The library's masked span recursion must give their
total (the constrained likelihood), their expected rule counts, the EM step from those counts, the
best of them (CKY) and samples from them in proportion to p(t).
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from test_fuzz_helpers import REFUSED, outcome

from emlab import em, metrics, pcfg
from emlab.trees import tree_from_uses

pytestmark = pytest.mark.filterwarnings("ignore::emlab.em.NotConvergedWarning")  # iteration caps on purpose


def _grammar(seed, nts=("S", "A")):
    return pcfg.PCFG.random(list(nts), ["a", "b"], rng=seed, start="S")


def _trees(g, words, label, i, j):
    """Every (tree, prob, constituent spans, rule list) with root ``label`` over words[i:j]."""
    A = g.nonterminals.index(label)
    if j - i == 1:
        p = g.lexical[A, g.words.index(words[i])]
        if p > 0:
            yield (label, words[i]), p, [], [(label, (words[i],))]
        return
    for k in range(i + 1, j):
        for B, C in itertools.product(g.nonterminals, repeat=2):
            q = g.binary[A, g.nonterminals.index(B), g.nonterminals.index(C)]
            if q == 0:
                continue
            for lt, lp, ls, lr in _trees(g, words, B, i, k):
                for rt, rp, rs, rr in _trees(g, words, C, k, j):
                    yield ((label, lt, rt), q * lp * rp, [(i, j)] + ls + rs,
                           [(label, (B, C))] + lr + rr)


def _crosses(a, b):
    (i, j), (k, m) = a, b
    return i < k < j < m or k < i < m < j


def _consistent(g, words, brackets):
    return [(t, p, rules) for t, p, spans, rules in _trees(g, words, g.start, 0, len(words))
            if not any(_crosses(s, b) for s in spans for b in brackets)]


def _count_arrays(g, weighted_rules):
    """Rule counts as the E-step's arrays from ``[(weight, rules of a tree)]``."""
    N, V, nt, w = g.N, g.V, g.nonterminals.index, g.words.index
    cb, cl = np.zeros((N, N, N)), np.zeros((N, V))
    for weight, rules in weighted_rules:
        for lhs, rhs in rules:
            if len(rhs) == 2:
                cb[nt(lhs), nt(rhs[0]), nt(rhs[1])] += weight
            else:
                cl[nt(lhs), w(rhs[0])] += weight
    return cb, cl


def _reference(g, sentences, brackets):
    """(constrained log-likelihood, expected counts) by enumeration."""
    ll, weighted = 0.0, []
    for words, br in zip(sentences, brackets, strict=True):
        trees = _consistent(g, words, br)
        z = sum(p for _, p, _ in trees)
        ll += math.log(z)
        weighted += [(p / z, rules) for _, p, rules in trees]
    return ll, _count_arrays(g, weighted)


CASES = [
    (["a", "b", "a", "b", "b"], [(0, 2)]),
    (["a", "b", "a", "b", "b"], [(1, 4), (2, 4)]),
    (["b", "a", "a", "b", "a"], [(1, 3), (3, 5)]),
    (["a", "a", "b", "b"], [(0, 4), (1, 2)]),        # whole sentence and a single word: no constraint
    (["b", "a", "b"], []),
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("words, brackets", CASES)
def test_constrained_likelihood_and_counts_match_enumeration(seed, words, brackets):
    g = _grammar(seed)
    data = pcfg.Bracketed([words], [brackets])
    ll, (cb, cl) = _reference(g, [words], [brackets])
    assert math.isclose(pcfg.log_likelihood(g, data), ll, rel_tol=1e-11)
    est = g.e_step(g.prepare(data), "soft")
    np.testing.assert_allclose(est.counts["binary"], cb, atol=1e-11)
    np.testing.assert_allclose(est.counts["lexical"], cl, atol=1e-11)
    assert math.isclose(est.log_likelihood, ll, rel_tol=1e-11)
    # the dict form counts the same
    for (lhs, rhs), c in pcfg.expected_rule_counts(g, data).items():
        ref = (cb[g.nonterminals.index(lhs), g.nonterminals.index(rhs[0]), g.nonterminals.index(rhs[1])]
               if len(rhs) == 2 else cl[g.nonterminals.index(lhs), g.words.index(rhs[0])])
        assert math.isclose(c, ref, rel_tol=1e-10, abs_tol=1e-12)


def test_a_batch_of_equal_length_sentences_with_different_brackets():
    g = _grammar(2)
    sentences = [["a", "b", "a", "b"], ["b", "b", "a", "a"], ["a", "a", "a", "b"], ["b", "a", "b", "a"]]
    brackets = [[(0, 2)], [(1, 3)], [], [(2, 4), (0, 2)]]
    data = pcfg.Bracketed(sentences, brackets)
    assert len(g.prepare(data).batches) == 1               # one batch: the masks differ per sentence
    ll, (cb, cl) = _reference(g, sentences, brackets)
    est = g.e_step(g.prepare(data), "soft")
    assert math.isclose(est.log_likelihood, ll, rel_tol=1e-11)
    np.testing.assert_allclose(est.counts["binary"], cb, atol=1e-11)
    np.testing.assert_allclose(est.counts["lexical"], cl, atol=1e-11)
    per_sentence = pcfg.sentence_log_likelihoods(g, data)
    for s, b, got in zip(sentences, brackets, per_sentence, strict=True):
        assert math.isclose(got, _reference(g, [s], [b])[0], rel_tol=1e-11)


def test_one_em_step_is_the_normalized_enumerated_counts():
    g = _grammar(3)
    sentences = [["a", "b", "a", "b", "b"], ["b", "a", "a"]]
    brackets = [[(1, 4)], [(0, 2)]]
    _, (cb, cl) = _reference(g, sentences, brackets)
    N = g.N
    joint = np.concatenate([cb.reshape(N, -1), cl], axis=1)
    joint /= joint.sum(axis=1, keepdims=True)
    step = em.fit(g, pcfg.Bracketed(sentences, brackets), max_iter=1, tol=0).model
    np.testing.assert_allclose(step.binary, joint[:, :N * N].reshape(N, N, N), atol=1e-12)
    np.testing.assert_allclose(step.lexical, joint[:, N * N:], atol=1e-12)


def test_em_on_bracketed_data_climbs_the_constrained_likelihood():
    g = _grammar(4)
    sentences = [["a", "b", "a", "b", "b"], ["b", "a", "a", "b"], ["a", "a", "b"]]
    brackets = [[(1, 4)], [(0, 2), (2, 4)], [(1, 3)]]
    res = em.fit(g, pcfg.Bracketed(sentences, brackets), max_iter=30, tol=0)
    # the reported objective is the enumerated constrained likelihood of the iterates ...
    assert math.isclose(res.log_likelihoods[0], _reference(g, sentences, brackets)[0], rel_tol=1e-11)
    assert math.isclose(res.log_likelihood, _reference(res.model, sentences, brackets)[0], rel_tol=1e-10)
    # ... and EM never decreases it (Pereira & Schabes: it is still EM)
    assert np.all(np.diff(res.log_likelihoods) > -1e-9 * abs(res.log_likelihoods[0]))
    assert res.log_likelihoods[-1] > res.log_likelihoods[0] + 0.5


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("words, brackets", CASES[:3])
def test_cky_is_the_best_consistent_tree(seed, words, brackets):
    g = _grammar(seed)
    trees = _consistent(g, words, brackets)
    best_p = max(p for _, p, _ in trees)
    tree, logp = pcfg.viterbi_parse(g, pcfg.Bracketed([words], [brackets]))
    assert math.isclose(logp, math.log(best_p), rel_tol=1e-11)
    # the tree returned is one of the consistent trees of that probability (ties are possible)
    assert any(t == tree and math.isclose(p, best_p, rel_tol=1e-11) for t, p, _ in trees)
    # and the hard E-step's objective is that tree's log probability
    est = g.e_step(g.prepare(pcfg.Bracketed([words], [brackets])), "hard")
    assert math.isclose(est.objective, math.log(best_p), rel_tol=1e-11)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_bracket_crossing_the_best_tree_moves_cky(seed):
    g = _grammar(seed)
    words = ["a", "b", "b", "a", "b"]
    free, _ = pcfg.viterbi_parse(g, words)
    i, j = min(metrics.brackets(free), key=lambda s: s[1] - s[0])
    # a bracket crossing (i, j): shift it by one word (inside the sentence)
    cross = (i + 1, j + 1) if j < len(words) else (i - 1, j - 1)
    tree, logp = pcfg.viterbi_parse(g, pcfg.Bracketed([words], [[cross]]))
    assert _crosses((i, j), cross) and tree != free
    assert not any(_crosses(s, cross) for s in metrics.brackets(tree))
    trees = _consistent(g, words, [cross])
    assert math.isclose(logp, math.log(max(p for _, p, _ in trees)), rel_tol=1e-11)


def test_sampled_trees_are_consistent_and_distributed_as_p_of_t():
    g = _grammar(6)
    words, brackets = ["a", "b", "a", "b"], [(1, 3)]
    M = 4000
    data = pcfg.Bracketed([words] * M, [brackets] * M)
    corpus = g.prepare(data)
    rng = np.random.default_rng(7)
    drawn = []
    for batch in g.batches(corpus):
        bins, lexs = g.sampled(batch, g.chart(batch), rng)
        for b in range(len(batch.index)):
            rows_b, rows_l = bins[bins[:, 0] == b], lexs[lexs[:, 0] == b]
            drawn.append(tree_from_uses(g.nonterminals, words, rows_b[:, 1:], rows_l[:, 1:]))
    assert len(drawn) == M
    trees = _consistent(g, words, brackets)
    z = sum(p for _, p, _ in trees)
    expected = {pcfg.bracketed(t): M * p / z for t, p, _ in trees}
    observed = {}
    for t in drawn:
        key = pcfg.bracketed(t)
        assert key in expected, f"sampled tree {key} crosses a bracket"
        observed[key] = observed.get(key, 0) + 1
    # chi-square over the trees expected >= 5 times, the rest pooled
    keys = sorted(expected, key=expected.get, reverse=True)
    big = [k for k in keys if expected[k] >= 5]
    rest = [k for k in keys if expected[k] < 5]
    obs = [observed.get(k, 0) for k in big] + [sum(observed.get(k, 0) for k in rest)]
    exp = [expected[k] for k in big] + [sum(expected[k] for k in rest)]
    assert len(big) > 10
    assert stats.chisquare(obs, exp).pvalue > 1e-3


def test_full_bracketing_is_supervised_counting():
    # one nonterminal: the shape of a tree fixes its labels, so all its brackets leave that tree only
    g = _grammar(8, nts=("S",))
    gold = [("S", ("S", ("S", "a"), ("S", "b")), ("S", ("S", "b"), ("S", ("S", "a"), ("S", "a")))),
            ("S", ("S", "b"), ("S", ("S", ("S", "a"), ("S", "b")), ("S", "b")))]
    data = pcfg.Bracketed.from_trees(gold)
    assert data.sentences == [pcfg.tree_yield(t) for t in gold]
    assert data.brackets == [metrics.brackets(t) for t in gold]
    est = g.e_step(g.prepare(data), "soft")
    assert math.isclose(est.log_likelihood, sum(pcfg.tree_log_prob(g, t) for t in gold), rel_tol=1e-12)
    counted = _count_arrays(g, [(1.0, [(lhs, rhs) for lhs, rhs in pcfg.tree_rules(t)]) for t in gold])
    np.testing.assert_allclose(est.counts["binary"], counted[0], atol=1e-12)
    np.testing.assert_allclose(est.counts["lexical"], counted[1], atol=1e-12)
    # so one EM step is the treebank's relative frequencies: 9 words, 7 binary nodes, 4 a's
    step = em.fit(g, data, max_iter=1, tol=0).model
    assert math.isclose(step.prob("S", ("S", "S")), 7 / 16, rel_tol=1e-12)
    assert math.isclose(step.prob("S", ("a",)), 4 / 16, rel_tol=1e-12)


def test_full_bracketing_with_labels_leaves_only_the_labelings_of_the_shape():
    g = _grammar(9)
    tree = ("S", ("A", ("S", "a"), ("A", "b")), ("S", ("A", "b"), ("S", "a")))
    data = pcfg.Bracketed.from_trees([tree])
    words = pcfg.tree_yield(tree)
    shape = metrics.brackets(tree)
    same_shape = [p for t, p, spans, _ in _trees(g, words, "S", 0, 4)
                  if {s for s in spans if 1 < s[1] - s[0] < 4} == shape]
    assert len(same_shape) == 2 ** 6                   # every labeling of the 7 nodes but the root
    assert math.isclose(pcfg.log_likelihood(g, data), math.log(sum(same_shape)), rel_tol=1e-12)


def test_keep_draws_a_subset_of_each_trees_brackets():
    gold = pcfg.sample_trees(_grammar(10), 20, rng=1, length=6)
    full = pcfg.Bracketed.from_trees(gold)
    half = pcfg.Bracketed.from_trees(gold, keep=0.5, rng=3)
    assert all(h <= f for h, f in zip(half.brackets, full.brackets, strict=True))
    kept, total = sum(map(len, half.brackets)), sum(map(len, full.brackets))
    assert 0.3 * total < kept < 0.7 * total
    assert pcfg.Bracketed.from_trees(gold, keep=0.5, rng=3).brackets == half.brackets
    assert all(not b for b in pcfg.Bracketed.from_trees(gold, keep=0.0).brackets)


def test_empty_brackets_are_the_unconstrained_model():
    g = _grammar(11)
    sentences = [["a", "b", "a", "b", "b"], ["b", "a", "a"], ["a", "b"]]
    data = pcfg.Bracketed(sentences, [[], [], []])
    assert pcfg.log_likelihood(g, data) == pcfg.log_likelihood(g, sentences)
    for method in ("soft", "hard"):
        a, b = g.e_step(g.prepare(data), method), g.e_step(g.prepare(sentences), method)
        assert a.objective == b.objective
        for k in a.counts:
            np.testing.assert_array_equal(a.counts[k], b.counts[k])
    r1 = em.fit(g, data, max_iter=5, tol=0)
    r2 = em.fit(g, sentences, max_iter=5, tol=0)
    assert r1.log_likelihoods == r2.log_likelihoods


def test_brackets_that_leave_no_tree_are_refused_by_name():
    g = pcfg.PCFG.from_rules([("S", ("A", "T"), 1.0), ("T", ("B", "C"), 1.0), ("A", ("a",), 1.0),
                              ("B", ("b",), 1.0), ("C", ("c",), 1.0)])
    words = ["a", "b", "c"]
    assert pcfg.log_likelihood(g, pcfg.Bracketed([words], [[(1, 3)]])) == 0.0
    blocked = pcfg.Bracketed([["a", "b", "c"], words], [[], [(0, 2)]])
    assert pcfg.log_likelihood(g, blocked) == -np.inf
    with pytest.raises(ValueError, match=r"sentence 1 .*no parse consistent with its brackets \[\(0, 2\)\]"):
        em.fit(g, blocked)
    with pytest.raises(ValueError, match="sentence 1 .*consistent with its brackets"):
        pcfg.expected_rule_counts(g, blocked)
    assert pcfg.viterbi_parse(g, pcfg.Bracketed([words], [[(0, 2)]])) == (None, -np.inf)
    # a sentence the grammar cannot parse at all keeps the grammar's message
    with pytest.raises(ValueError, match=r"sentence 0 .*no parse \(probability zero under the grammar\)"):
        em.fit(g, pcfg.Bracketed([["b", "a", "c"]], [[(0, 2)]]))


@pytest.mark.parametrize("brackets, message", [
    ([[(0, 9)]], r"bracket \(0, 9\) of sentence 0 .*leaves the sentence"),
    ([[(-1, 2)]], r"bracket \(-1, 2\) of sentence 0 .*leaves the sentence"),
    ([[(2, 2)]], r"bracket \(2, 2\) of sentence 0 has i >= j"),
    ([[(3, 1)]], r"bracket \(3, 1\) of sentence 0 has i >= j"),
    ([[(0, 2), (1, 3)]], r"brackets \(0, 2\) and \(1, 3\) of sentence 0 cross"),
    ([[(0, 1.5)]], r"bracket \(0, 1.5\) of sentence 0 is not a pair"),
    ([[(0, 1, 2)]], r"bracket \(0, 1, 2\) of sentence 0 is not a pair"),
    ([["ab"]], r"bracket 'ab' of sentence 0 is not a pair"),
    ([[(True, 2)]], r"is not a pair \(i, j\) of integers"),
    ([[(0, 2)], []], r"brackets has 2 entries for 1 sentences"),
    ([5], r"brackets of sentence 0 must be a list"),
    (7, r"brackets must be a list"),
])
def test_invalid_brackets_are_refused_by_name(brackets, message):
    with pytest.raises(ValueError, match=message):
        pcfg.Bracketed([["a", "b", "a", "b"]], brackets)


def test_nested_and_repeated_brackets_are_accepted():
    data = pcfg.Bracketed([["a", "b", "a", "b"]], [[(0, 3), (0, 2), (0, 2)]])
    assert data.brackets == [frozenset({(0, 3), (0, 2)})]
    with pytest.raises(ValueError, match="keep"):
        pcfg.Bracketed.from_trees([("S", "a")], keep=1.5)


def test_inside_outside_charts_of_a_bracketed_sentence():
    """Crossing spans have inside value 0, and on every other span the outside pass of the masked
    chart gives P(the span is a constituent | x, t consistent), counted over the consistent trees."""
    g = _grammar(12)
    words, brackets = ["a", "b", "b", "a", "b"], [(1, 4)]
    beta, alpha, log_p = pcfg.inside_outside(g, pcfg.Bracketed([words], [brackets]))
    trees = [(p, spans) for _, p, spans, _ in _trees(g, words, g.start, 0, len(words))
             if not any(_crosses(s, b) for s in spans for b in brackets)]
    z = sum(p for p, _ in trees)
    assert math.isclose(log_p, math.log(z), rel_tol=1e-12)
    n = len(words)
    for i in range(n):
        for j in range(i + 2, n + 1):
            if _crosses((i, j), brackets[0]):
                assert not beta[i, j].any()
                continue
            constituent = sum(p for p, spans in trees if (i, j) in spans) / z
            assert math.isclose(float(alpha[i, j] @ beta[i, j]) / z, constituent, rel_tol=1e-9, abs_tol=1e-14)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(-2, 7), st.integers(-2, 7)), max_size=4),
                min_size=1, max_size=3))
def test_any_brackets_are_refused_cleanly_or_bound_the_likelihood(brackets):
    """Whatever brackets a user types: a clean ValueError naming a bracket, or a constrained
    likelihood that is a log probability no larger than the unconstrained one."""
    g = _grammar(13)
    sentences = [["a", "b", "a", "b", "b"], ["b", "a", "a"], ["a", "b", "b", "a"]][:len(brackets)]
    data = outcome(lambda: pcfg.Bracketed(sentences, brackets), "bracket")
    if data is REFUSED:
        return
    for s, b, got, free in zip(sentences, brackets, pcfg.sentence_log_likelihoods(g, data),
                               pcfg.sentence_log_likelihoods(g, sentences), strict=True):
        assert got <= free + 1e-12
        assert math.isclose(got, _reference(g, [s], [b])[0], rel_tol=1e-10)
