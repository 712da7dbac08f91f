"""The claim checks of notebooks 01-04 can fail: the same emlab calls and the same conditions as
the notebooks' asserts, on the notebooks' inputs (condition holds) and on a perturbed input
(condition is false). If one of these perturbed conditions held, the notebook's assert would be
vacuous.
"""

import itertools
import math
import warnings

import numpy as np
import pytest

from emlab import bound, categorical, constrained, data, em, hmm, mixture, pcfg
from emlab.data import grammars

# ---------------------------------------------------------------- 01: zero counts (KKT), λ = N

def _zero_count_claim(counts, j):
    """01 §5b: at a zero-count outcome the slope is −N (the KKT multiplier) and θ_j = 0."""
    c = np.asarray(counts, dtype=float)
    theta, _ = constrained.constrained_max(c)
    slope = constrained.boundary_slope(c, j, eps=1e-7)
    return abs(slope + c.sum()) < 1e-4 and theta[j] == 0


def test_01_zero_count_claim_holds_and_fails_when_the_count_is_positive():
    assert _zero_count_claim([3.0, 0.0, 1.0], 1)
    assert not _zero_count_claim([3.0, 0.5, 1.0], 1)      # a positive count: interior, slope 0


def test_01_multiplier_claim_fails_for_the_wrong_total():
    c = np.array([5.0, 3.0, 2.0])
    slope = constrained.constraint_sensitivity(c, eps=1e-3)
    assert abs(slope - c.sum()) < 1e-4 * c.sum()
    c_other = np.array([5.0, 3.0, 3.0])                     # the notebook's condition, other counts
    assert not abs(constrained.constraint_sensitivity(c_other, eps=1e-3) - c.sum()) < 1e-4 * c.sum()


# ---------------------------------------------------------------- 02: gap = KL, GEM needs strictness

def _coin_a(a):
    return mixture.CategoricalMixture([0.5, 0.5], [[a, 1 - a], [0.5, 0.5]], learn_weights=False)


def _gap_is_kl(theta_t, theta_for_posteriors):
    X, _ = mixture.two_coins_example()
    grid = np.round(np.linspace(0.01, 0.99, 99), 2)
    b = bound.bound_on_path(_coin_a, X, grid, theta_t)
    post_t = _coin_a(theta_for_posteriors).posteriors(X)
    kl = [np.sum(post_t * np.log(post_t / _coin_a(a).posteriors(X))) for a in grid]
    return np.allclose(b.gap, kl, atol=1e-10)


def test_02_gap_equals_kl_only_with_the_posteriors_of_theta_t():
    assert _gap_is_kl(0.6, 0.6)
    assert not _gap_is_kl(0.6, 0.62)


def test_02_tiny_gem_step_claim_fails_for_a_real_em_step():
    X, _ = mixture.two_coins_example()
    truth = mixture.CategoricalMixture.random(3, 8, rng=1)
    docs, _ = truth.sample(200, 20, rng=2)
    start = mixture.CategoricalMixture.random(3, 8, rng=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        L_star = em.fit(start, docs, max_iter=2000, tol=1e-15).log_likelihood

        def far_after_60(alpha):
            r = em.fit(bound.PartialMStep(start, alpha), docs, max_iter=60, tol=0)
            return L_star - r.log_likelihoods[60] > 0.3 * (L_star - r.log_likelihoods[0])

        assert far_after_60(0.01)
        assert not far_after_60(1.0)


# ---------------------------------------------------------------- 03: STOP normalizers, Viterbi

def _joint(m, x, y):
    p = m.start[y[0]] * m.emit[y[0], x[0]]
    for i in range(1, len(x)):
        p *= m.trans[y[i - 1], y[i]] * m.emit[y[i], x[i]]
    return p * (m.stop[y[-1]] if m.stop is not None else 1.0)


def _no_flip_beats(m, x, path):
    lp = np.log(_joint(m, x, path))
    with np.errstate(divide="ignore"):
        flipped = [np.log(_joint(m, x, np.where(np.arange(len(x)) == i, 1 - path, path)))
                   for i in range(len(x))]
    return max(flipped) < lp


def test_03_viterbi_local_check_fails_on_a_perturbed_path():
    m0, x = data.eisner_initial(), data.eisner_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        final = em.fit(m0, [x], max_iter=10, tol=0).model
    best, lp = hmm.viterbi(final, x)
    assert np.isclose(lp, np.log(_joint(final, x, best)), rtol=1e-12)
    assert _no_flip_beats(final, x, best)
    perturbed = best.copy()
    perturbed[5] = 1 - perturbed[5]
    assert not _no_flip_beats(final, x, perturbed)


def _continuation_sums(m, seq):
    return [sum(np.exp(hmm.forward(m, np.r_[seq[:i], v])[1][-1]) for v in range(m.V))
            for i in range(1, len(seq))]


def test_03_normalizers_sum_below_one_only_with_stop():
    m0, x = data.eisner_initial(), data.eisner_data()
    short = x[:6]
    alpha_hat, _ = hmm.forward(m0, short)
    c_sum = _continuation_sums(m0, short)
    assert np.allclose(c_sum, 1 - alpha_hat[:-1] @ m0.stop) and max(c_sum) < 1
    no_stop = hmm.HMM(m0.start, categorical.normalize(m0.trans), m0.emit)
    assert not max(_continuation_sums(no_stop, short)) < 1          # without STOP they are p(x_i | x_<i)


# ---------------------------------------------------------------- 04: one EM step vs enumeration

def _all_trees(g, words, A=None, i=0, j=None):
    A, j = (g.start if A is None else A), (len(words) if j is None else j)
    if j == i + 1:
        q = g.prob(A, (words[i],))
        return [((A, words[i]), q)] if q > 0 else []
    out = []
    for k in range(i + 1, j):
        for B, C in itertools.product(g.nonterminals, repeat=2):
            q = g.prob(A, (B, C))
            if q > 0:
                out += [((A, lt, rt), q * lp * rp) for lt, lp in _all_trees(g, words, B, i, k)
                        for rt, rp in _all_trees(g, words, C, k, j)]
    return out


def _em_step_matches_enumeration(g, g_enumerated, corpus):
    brute = {}
    for words in corpus:
        trees = _all_trees(g_enumerated, words)
        p_words = sum(p for _, p in trees)
        for t, p in trees:
            for rule in pcfg.tree_rules(t):
                brute[rule] = brute.get(rule, 0.0) + p / p_words
    g1 = em.fit(g, corpus, method="soft", max_iter=1).model
    for A in g.nonterminals:
        rules_A = [rhs for lhs, rhs, _ in g.rules() if lhs == A]
        by_hand = categorical.normalize([brute.get((A, rhs), 0.0) for rhs in rules_A])
        if not all(math.isclose(g1.prob(A, rhs), q, rel_tol=1e-10, abs_tol=1e-14)
                   for rhs, q in zip(rules_A, by_hand, strict=True)):
            return False
    return True


@pytest.fixture
def ms_grammar():
    return grammars.manning_schutze_grammar()


def test_04_em_step_check_fails_when_enumerating_another_grammar(ms_grammar):
    g = ms_grammar
    corpus = [grammars.MANNING_SCHUTZE_SENTENCE, ["astronomers", "saw", "telescopes"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        assert _em_step_matches_enumeration(g, g, corpus)
        rules = [(lhs, rhs, q) for lhs, rhs, q in g.rules()]
        swapped = {("NP", ("NP", "PP")): 0.2, ("NP", ("astronomers",)): 0.3}   # same rules, other weights
        perturbed = pcfg.PCFG.from_rules([(lhs, rhs, swapped.get((lhs, rhs), q)) for lhs, rhs, q in rules])
        assert not _em_step_matches_enumeration(g, perturbed, corpus)
