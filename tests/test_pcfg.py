"""emlab.pcfg against independent references: brute-force enumeration of every tree, the
Manning & Schütze published numbers, a closed form (Catalan numbers) for a 300-word sentence,
and properties every correct implementation has."""

import math
import warnings
from functools import cache

import numpy as np
import pytest

from emlab import em, pcfg
from emlab.data import grammars

# ---------------------------------------------------------------- brute force (the reference)


def enumerate_trees(g, sentence):
    """Every tree of ``sentence`` rooted at the start symbol with its probability p(x, t),
    built by recursion over spans from ``g.prob`` alone (no chart code)."""
    words = tuple(sentence)
    nts = g.nonterminals

    @cache
    def trees(A, i, j):
        if j == i + 1:
            p = g.prob(A, (words[i],))
            return [((A, words[i]), p)] if p > 0 else []
        out = []
        for k in range(i + 1, j):
            for B in nts:
                for C in nts:
                    q = g.prob(A, (B, C))
                    if q == 0:
                        continue
                    for lt, lp in trees(B, i, k):
                        for rt, rp in trees(C, k, j):
                            out.append(((A, lt, rt), q * lp * rp))
        return out

    return trees(g.start, 0, len(words))


def brute_counts(g, sentences, best_only=False):
    """Expected (or best-tree) rule counts by enumeration, as {(lhs, rhs): count}."""
    counts = {}
    for s in sentences:
        trees = enumerate_trees(g, s)
        z = sum(p for _, p in trees)
        if best_only:
            best = max(trees, key=lambda tp: tp[1])
            trees, z = [(best[0], 1.0)], 1.0
        for t, p in trees:
            for rule in pcfg.tree_rules(t):
                counts[rule] = counts.get(rule, 0.0) + p / z
    return counts


def brute_m_step(g, counts):
    """Normalize counts per left-hand side; a left-hand side without counts keeps its rules."""
    totals = {}
    for (lhs, _), c in counts.items():
        totals[lhs] = totals.get(lhs, 0.0) + c
    return {(lhs, rhs): (counts.get((lhs, rhs), 0.0) / totals[lhs] if totals.get(lhs, 0) > 0 else p)
            for lhs, rhs, p in g.rules()}


def random_grammar(rng, n_nt=3, n_words=3, sparsity=0.3):
    """A random CNF grammar built rule by rule (some rules dropped), independent of PCFG.random."""
    rng = np.random.default_rng(rng)
    nts = [f"N{i}" for i in range(n_nt)]
    words = [f"w{i}" for i in range(n_words)]
    rules = []
    for a in nts:
        rhss = [(b, c) for b in nts for c in nts] + [(w,) for w in words]
        keep = [r for r in rhss if rng.random() > sparsity]
        if not any(len(r) == 1 for r in keep):
            keep.append((words[rng.integers(n_words)],))
        probs = rng.dirichlet(np.ones(len(keep)))
        rules += [(a, r, float(p)) for r, p in zip(keep, probs, strict=True)]
    # renormalize exactly (float sums of Dirichlet draws are within 1e-15 already)
    return pcfg.PCFG.from_rules(rules, start="N0")


def random_sentences(rng, g, lengths):
    """Sentences of the given lengths that have a parse (drawn from the grammar)."""
    rng = np.random.default_rng(rng)
    return [pcfg.sample(g, 1, rng=rng, length=n)[0] for n in lengths]


SEEDS = [0, 1, 2, 3]


# ---------------------------------------------------------------- against enumeration


@pytest.mark.parametrize("seed", SEEDS)
def test_log_likelihood_matches_enumeration(seed):
    g = random_grammar(seed)
    sents = random_sentences(seed + 100, g, [1, 2, 3, 4, 4, 3])  # mixed lengths: several batches
    want = [math.log(sum(p for _, p in enumerate_trees(g, s))) for s in sents]
    got = pcfg.sentence_log_likelihoods(g, sents)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert pcfg.log_likelihood(g, sents) == pytest.approx(sum(want), rel=1e-12)
    assert pcfg.log_likelihood(g, sents[3]) == pytest.approx(want[3], rel=1e-12)  # one token list


@pytest.mark.parametrize("seed", SEEDS)
def test_every_expected_rule_count_matches_enumeration(seed):
    g = random_grammar(seed)
    sents = random_sentences(seed + 200, g, [1, 3, 4, 4, 2])
    want = brute_counts(g, sents)
    got = pcfg.expected_rule_counts(g, sents)
    assert set(got) == {(lhs, rhs) for lhs, rhs, _ in g.rules()}
    for rule, c in got.items():
        assert c == pytest.approx(want.get(rule, 0.0), abs=1e-12), rule


@pytest.mark.parametrize("seed", SEEDS)
def test_viterbi_tree_and_score_match_enumeration(seed):
    g = random_grammar(seed)
    for s in random_sentences(seed + 300, g, [1, 2, 3, 4, 4]):
        best_tree, best_p = max(enumerate_trees(g, s), key=lambda tp: tp[1])
        tree, log_p = pcfg.viterbi_parse(g, s)
        assert tree == best_tree
        assert log_p == pytest.approx(math.log(best_p), rel=1e-12)
        assert pcfg.tree_log_prob(g, tree) == pytest.approx(log_p, rel=1e-12)
        assert pcfg.tree_yield(tree) == s


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("method", ["soft", "hard"])
def test_one_em_step_matches_enumeration(seed, method):
    g = random_grammar(seed)
    sents = random_sentences(seed + 400, g, [2, 3, 4, 4])
    want = brute_m_step(g, brute_counts(g, sents, best_only=(method == "hard")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        res = em.fit(g, sents, method=method, max_iter=1)
    assert isinstance(res.model, pcfg.PCFG)
    for (lhs, rhs), p in want.items():
        assert res.model.prob(lhs, rhs) == pytest.approx(p, abs=1e-12), (lhs, rhs)
    # index 0 of the history is the initial grammar's log-likelihood
    assert res.log_likelihoods[0] == pytest.approx(pcfg.log_likelihood(g, sents), rel=1e-12)
    if method == "hard":
        best = sum(math.log(max(p for _, p in enumerate_trees(g, s))) for s in sents)
        assert res.objectives[0] == pytest.approx(best, rel=1e-12)


def test_span_posteriors_from_inside_outside_match_enumeration():
    g = random_grammar(5)
    s = random_sentences(6, g, [4])[0]
    trees = enumerate_trees(g, s)
    z = sum(p for _, p in trees)
    beta, alpha, log_p = pcfg.inside_outside(g, s)
    assert log_p == pytest.approx(math.log(z), rel=1e-12)

    def spans(t, i):
        if len(t) == 2:
            return {(i, i + 1, t[0])}, i + 1
        left, k = spans(t[1], i)
        right, j = spans(t[2], k)
        return left | right | {(i, j, t[0])}, j

    for i in range(4):
        for j in range(i + 1, 5):
            for A, a in enumerate(g.nonterminals):
                want = sum(p for t, p in trees if (i, j, a) in spans(t, 0)[0]) / z
                assert alpha[i, j, A] * beta[i, j, A] / z == pytest.approx(want, abs=1e-12)


# ---------------------------------------------------------------- published numbers


def test_manning_schutze_numbers():
    g = grammars.manning_schutze_grammar()
    s = grammars.MANNING_SCHUTZE_SENTENCE
    assert math.exp(pcfg.log_likelihood(g, s)) == pytest.approx(grammars.MANNING_SCHUTZE_PROB, rel=1e-12)
    trees = enumerate_trees(g, s)
    assert len(trees) == 2
    assert sum(p for _, p in trees) == pytest.approx(0.0015876, rel=1e-12)
    tree, log_p = pcfg.viterbi_parse(g, s)
    assert math.exp(log_p) == pytest.approx(grammars.MANNING_SCHUTZE_BEST_PARSE_PROB, rel=1e-12)
    assert pcfg.bracketed(tree) == ("(S (NP astronomers) (VP (V saw) (NP (NP stars) (PP (P with) "
                                    "(NP ears)))))")
    counts = pcfg.expected_rule_counts(g, s)
    assert counts[("VP", ("VP", "PP"))] == pytest.approx(0.0006804 / 0.0015876, rel=1e-12)
    assert counts[("NP", ("NP", "PP"))] == pytest.approx(0.0009072 / 0.0015876, rel=1e-12)


def test_text_rendering():
    tree = ("S", ("NP", "astronomers"), ("VP", ("V", "saw"), ("NP", "stars")))
    assert pcfg.bracketed(tree) == "(S (NP astronomers) (VP (V saw) (NP stars)))"
    assert pcfg.indented(tree).splitlines() == ["S", "  NP astronomers", "  VP", "    V saw", "    NP stars"]


# ---------------------------------------------------------------- a 300-word sentence


def test_300_word_sentence_is_finite_and_exact():
    """S -> S S (p) | a (1-p): every binary tree over n words has probability (1-p)^n p^(n-1), and
    there are Catalan(n-1) of them, so log p(a^n) has a closed form."""
    p, n = 0.01, 300
    g = pcfg.PCFG.from_rules([("S", ("S", "S"), p), ("S", ("a",), 1 - p)])
    s = ["a"] * n
    m = n - 1
    log_catalan = math.lgamma(2 * m + 1) - math.lgamma(m + 1) - math.lgamma(m + 2)
    log_tree = n * math.log(1 - p) + m * math.log(p)
    ll = pcfg.log_likelihood(g, s)
    assert np.isfinite(ll) and ll < -900  # p(x) ~ 1e-424: an unscaled chart would hold 0
    assert ll == pytest.approx(log_catalan + log_tree, rel=1e-10)
    counts = pcfg.expected_rule_counts(g, s)
    assert counts[("S", ("S", "S"))] == pytest.approx(n - 1, rel=1e-10)
    assert counts[("S", ("a",))] == pytest.approx(n, rel=1e-10)
    assert pcfg.viterbi_parse(g, s)[1] == pytest.approx(log_tree, rel=1e-12)


def test_long_sentence_from_a_denser_grammar_is_finite():
    g = random_grammar(7, n_nt=4, n_words=5, sparsity=0.0)
    s = pcfg.sample(g, 1, rng=0, length=120)[0]
    assert len(s) == 120
    ll = pcfg.log_likelihood(g, s)
    assert np.isfinite(ll)
    counts = pcfg.expected_rule_counts(g, s)
    lexical = sum(c for (lhs, rhs), c in counts.items() if len(rhs) == 1)
    assert lexical == pytest.approx(120, rel=1e-9)


# ---------------------------------------------------------------- properties


def toy_corpus(n=40, seed=0):
    return pcfg.sample(grammars.toy_grammar(), n, rng=seed)


def test_expected_counts_sum_to_the_number_of_rules_used():
    g = random_grammar(11)
    sents = random_sentences(12, g, [1, 2, 5, 6, 6, 9])
    counts = pcfg.expected_rule_counts(g, sents)
    binary = sum(c for (_, rhs), c in counts.items() if len(rhs) == 2)
    lexical = sum(c for (_, rhs), c in counts.items() if len(rhs) == 1)
    assert binary == pytest.approx(sum(len(s) - 1 for s in sents), rel=1e-10)
    assert lexical == pytest.approx(sum(len(s) for s in sents), rel=1e-10)


def test_posterior_tree_sampler_matches_parse_posteriors():
    """Trees sampled through the inside chart follow p(t | x): on the M&S sentence the VP
    attachment has posterior 0.0006804 / 0.0015876 = 3/7."""
    g = grammars.manning_schutze_grammar()
    n = 1000
    est = g.e_step(g.prepare([grammars.MANNING_SCHUTZE_SENTENCE] * n), "stochastic", rng=0)
    vp = g.nonterminals.index("VP")
    pp = g.nonterminals.index("PP")
    freq = est.counts["binary"][vp, vp, pp] / n
    assert abs(freq - 3 / 7) < 4 * math.sqrt(3 / 7 * 4 / 7 / n)
    # every sampled tree is a parse: all words counted once, n - 1 binary rules per sentence
    assert est.counts["lexical"].sum() == 5 * n
    assert est.counts["binary"].sum() == 4 * n


def test_sampling_exact_lengths_and_valid_trees():
    g = grammars.toy_grammar()
    trees = pcfg.sample_trees(g, 30, rng=2, length=8)
    for t in trees:
        s = pcfg.tree_yield(t)
        assert len(s) == 8
        assert pcfg.tree_log_prob(g, t) <= pcfg.log_likelihood(g, s) + 1e-12
    free = pcfg.sample(g, 30, rng=2)
    assert all(np.isfinite(pcfg.log_likelihood(g, s)) for s in free)
    assert pcfg.sample(g, 5, rng=9) == pcfg.sample(g, 5, rng=9)
    with pytest.raises(ValueError, match="no sentence of length 9"):
        pcfg.sample(g, 1, rng=0, length=9)  # toy sentences have 5 + 3m words
    endless = pcfg.PCFG.from_rules([("S", ("S", "S"), 1.0), ("T", ("a",), 1.0)])  # S never stops
    with pytest.raises(ValueError, match="50 draws grew beyond max_length=20"):
        pcfg.sample(endless, 1, rng=0, max_length=20, max_tries=50)


def test_length_conditioned_sampler_follows_the_conditional():
    """p(t | |x| = 3) on a grammar with two tree shapes of different probabilities."""
    g = pcfg.PCFG.from_rules([("S", ("S", "T"), 0.3), ("S", ("T", "S"), 0.1), ("S", ("a",), 0.6),
                              ("T", ("b",), 1.0)])
    trees = pcfg.sample_trees(g, 1000, rng=4, length=3)
    shapes = [pcfg.bracketed(t) for t in trees]
    # length-3 trees: S->S T twice (0.3^2), S->T S twice (0.1^2), or one of each order (0.3*0.1 twice)
    weights = {"(S (S (S a) (T b)) (T b))": 0.09, "(S (T b) (S (T b) (S a)))": 0.01,
               "(S (S (T b) (S a)) (T b))": 0.03, "(S (T b) (S (S a) (T b)))": 0.03}
    assert set(shapes) <= set(weights)
    total = sum(weights.values())
    for shape, w in weights.items():
        p = w / total
        assert abs(shapes.count(shape) / 1000 - p) < 4 * math.sqrt(p * (1 - p) / 1000), shape


def test_rules_prob_and_random_initializations():
    g = grammars.manning_schutze_grammar()
    assert g.prob("VP", ("VP", "PP")) == 0.3
    assert g.prob("VP", ("PP", "VP")) == 0.0
    assert g.prob("NP", ("dogs",)) == 0.0
    assert g.prob("Nope", ("NP", "VP")) == 0.0
    again = pcfg.PCFG.from_rules(g.rules(), start="S")
    assert sorted(again.rules()) == sorted(g.rules())
    dense = pcfg.PCFG.random(["S", "A"], ["x", "y", "z"], rng=0, start="S")
    assert len(dense.rules()) == 2 * (4 + 3)
    assert dense.nonterminals == ("S", "A") and dense.words == ("x", "y", "z")
    sparse = pcfg.PCFG.random(g.nonterminals, g.words, rng=0, start="S", rules=g.rules())
    assert {(lhs, rhs) for lhs, rhs, _ in sparse.rules()} == {(lhs, rhs) for lhs, rhs, _ in g.rules()}
    assert sparse.prob("VP", ("VP", "PP")) != 0.3
    same = pcfg.PCFG.random(g.nonterminals, g.words, rng=0, start="S", rules=g.rules())
    np.testing.assert_array_equal(same.binary, sparse.binary)


def test_m_step_keeps_a_left_hand_side_without_counts():
    g = grammars.manning_schutze_grammar()
    counts = {"binary": np.zeros((g.N, g.N, g.N)), "lexical": np.zeros((g.N, g.V))}
    np_ = g.nonterminals.index("NP")
    counts["lexical"][np_, g.words.index("stars")] = 3.0
    counts["lexical"][np_, g.words.index("ears")] = 1.0
    new = g.m_step(counts)
    assert new.prob("NP", ("stars",)) == pytest.approx(0.75)
    assert new.prob("NP", ("NP", "PP")) == 0.0
    assert new.prob("VP", ("VP", "PP")) == 0.3  # no VP counts: kept


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("rules, match", [
    ([("S", ("A",), 1.0), ("A", ("a",), 1.0)], r"S -> A is not in Chomsky normal form.*unary"),
    ([("S", ("A", "B", "A"), 1.0), ("A", ("a",), 1.0), ("B", ("b",), 1.0)], r"S -> A B A .*3 symbols"),
    ([("S", (), 1.0)], r"not in Chomsky normal form"),
    ([("S", ("A", "b"), 1.0), ("A", ("a",), 1.0)], r"S -> A b .*'b' is not a nonterminal"),
    ([("S", ("a",), 0.5), ("S", ("b",), 0.4)], r"left-hand side 'S' sum to 0.9"),
    ([("S", ("a",), 1.5), ("S", ("b",), -0.5)], r"S -> b has an invalid probability -0.5"),
    ([("S", ("a",), float("nan"))], r"S -> a has an invalid probability nan"),
    ([("S", ("a",), 0.5), ("S", ("a",), 0.5)], r"S -> a is listed twice"),
    ([("S", ("a",), "half")], r"S -> a has a probability that is not a number"),
    ([("S", "a")], r"must be a triple"),
    ([], r"no rules"),
])
def test_malformed_grammars_are_rejected_naming_the_rule(rules, match):
    with pytest.raises(ValueError, match=match):
        pcfg.PCFG.from_rules(rules, start="S")


def test_per_lhs_sum_tolerance_is_1e_minus_8():
    pcfg.PCFG.from_rules([("S", ("a",), 0.5 + 5e-9), ("S", ("b",), 0.5)])
    with pytest.raises(ValueError, match="'S' sum to"):
        pcfg.PCFG.from_rules([("S", ("a",), 0.5 + 5e-8), ("S", ("b",), 0.5)])


def test_unknown_start_symbol_and_ambiguous_symbols():
    with pytest.raises(ValueError, match="unknown start symbol 'ROOT'"):
        pcfg.PCFG.from_rules([("S", ("a",), 1.0)], start="ROOT")
    with pytest.raises(ValueError, match="'a' is used both as a word and as a nonterminal"):
        pcfg.PCFG(["S", "a"], ["a"], np.zeros((2, 2, 2)), [[1.0], [1.0]], "S")
    with pytest.raises(ValueError, match="binary must have shape"):
        pcfg.PCFG(["S"], ["a"], np.zeros((2, 2, 2)), [[1.0]], "S")


def test_bad_sentences_are_rejected_naming_word_and_sentence():
    g = grammars.manning_schutze_grammar()
    with pytest.raises(ValueError, match=r"cannot emit word 'dogs' \(sentence 1, position 1"):
        pcfg.log_likelihood(g, [["stars", "saw", "ears"], ["astronomers", "dogs"]])
    with pytest.raises(ValueError, match="corpus is empty"):
        pcfg.log_likelihood(g, [])
    with pytest.raises(ValueError, match="sentence 1 is empty"):
        pcfg.log_likelihood(g, [["stars"], []])
    with pytest.raises(ValueError, match="cannot emit word"):
        em.fit(g, [["astronomers", "saw", "planets"]], max_iter=1)


def test_a_sentence_without_a_parse():
    g = grammars.manning_schutze_grammar()
    bad = ["saw", "with", "stars"]  # every word is known, but no tree yields it
    assert pcfg.log_likelihood(g, bad) == -np.inf
    assert pcfg.log_likelihood(g, [grammars.MANNING_SCHUTZE_SENTENCE, bad]) == -np.inf
    assert pcfg.viterbi_parse(g, bad) == (None, -np.inf)
    with pytest.raises(ValueError, match=r"sentence 1 \('saw with stars'\) has no parse"):
        pcfg.expected_rule_counts(g, [grammars.MANNING_SCHUTZE_SENTENCE, bad])
    for method in ("soft", "hard", "stochastic"):
        with pytest.raises(ValueError, match="sentence 0 .* has no parse"):
            g.e_step(g.prepare([bad]), method, rng=0)


def test_batching_does_not_change_results(monkeypatch):
    """Sentences are grouped by length and split into cache-sized batches; any split gives the
    same log-likelihoods and counts as one sentence at a time."""
    g = random_grammar(21)
    sents = random_sentences(22, g, [3, 4, 4, 4, 4, 4, 2, 4])
    one_by_one = [pcfg.log_likelihood(g, s) for s in sents]
    counts_one = [pcfg.expected_rule_counts(g, s) for s in sents]
    monkeypatch.setattr(pcfg, "BATCH_BYTES", 1)  # one sentence per batch
    tiny = pcfg.Corpus(g, sents)
    assert len(tiny.batches) == len(sents)
    monkeypatch.setattr(pcfg, "BATCH_BYTES", 2 * 25 * g.N * 8)  # two 4-word sentences per batch
    assert [len(b.index) for b in pcfg.Corpus(g, sents).batches] == [1, 1, 2, 2, 2]  # lengths 2, 3, 4 x 6
    np.testing.assert_allclose(pcfg.sentence_log_likelihoods(g, sents), one_by_one, rtol=1e-13)
    together = pcfg.expected_rule_counts(g, sents)
    for rule, c in together.items():
        assert c == pytest.approx(sum(d[rule] for d in counts_one), abs=1e-12)
