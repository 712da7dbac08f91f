"""Malformed and unusual inputs found by a probe of the library (one test per finding).

The library rule: a bad input gets a ``ValueError`` / ``TypeError`` naming the argument and what to
fix (never NaN, a hang, a leaked numpy ``RuntimeWarning``, or an ``IndexError`` / ``KeyError`` /
``AttributeError`` from deep inside); a correct but unusual input (float32, a single sequence, tiny
or huge probabilities, very deep trees) works and gives the right numbers.
"""

from __future__ import annotations

import math
import warnings

import matplotlib
import numpy as np
import pytest

from emlab import (
    chain,
    em,
    free_energy,
    gradient,
    hmm,
    ibm1,
    metrics,
    mixture,
    online,
    optimizers,
    pcfg,
    priors,
    semiring,
    span,
    trees,
)

matplotlib.use("Agg")

HMM2 = hmm.HMM([0.6, 0.4], [[0.7, 0.3], [0.2, 0.8]], [[0.5, 0.4, 0.1], [0.1, 0.3, 0.6]])
SSG = pcfg.PCFG.from_rules([("S", ("S", "S"), 0.3), ("S", ("a",), 0.4), ("S", ("b",), 0.3)])


@pytest.fixture(autouse=True)
def _runtime_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        yield


# ------------------------------------------------------------------ A. wrong numbers

def test_gmm_posteriors_sum_to_one_when_the_joint_is_huge():
    """f1: a point equidistant from both means but 1e9 away: log p(x, z) ~ -5e17, where
    log-sum-exp loses the log 2 of the tie; the posteriors must still be (1/2, 1/2)."""
    g = mixture.GaussianMixture([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.0]], variance=1.0)
    np.testing.assert_allclose(mixture.posteriors(g, [[0.0, 1e9]]), [[0.5, 0.5]])
    counts = g.e_step(g.prepare([[0.0, 1e9], [0.0, 0.0]])).counts
    assert counts["weights"].sum() == pytest.approx(2.0)


def test_gmm_huge_variance_has_a_finite_log_likelihood():
    """f2: variance 1e308 overflowed 2π σ² (log p = -inf and a RuntimeWarning)."""
    g = mixture.GaussianMixture([1.0], [[0.0]], variance=1e308)
    want = -0.5 * (math.log(2 * math.pi) + math.log(1e308))
    assert mixture.log_likelihood(g, [[0.0]]) == pytest.approx(want, rel=1e-12)
    floored = mixture.GaussianMixture([1.0], [[0.0]], variance=1e308, min_variance=1e308)
    res = em.fit(floored, [[0.0], [1.0]], max_iter=2)
    assert np.all(np.isfinite(res.log_likelihoods))


def test_pcfg_sample_is_cut_only_by_max_length():
    """f3: the recursive sampler caught RecursionError as 'too long', so trees deeper than ~1000
    were silently redrawn: lengths are geometric with mean 1000, P(length > 1000) ≈ 0.37."""
    g = pcfg.PCFG.from_rules([("S", ("A", "S"), 0.999), ("S", ("a",), 0.001), ("A", ("a",), 1.0)])
    lengths = np.array([len(s) for s in pcfg.sample(g, 100, rng=0, max_length=100_000)])
    assert lengths.max() > 2000
    assert 0.2 < np.mean(lengths > 1000) < 0.55


def test_tree_functions_read_a_tree_deeper_than_the_recursion_limit():
    """f4 (the reading side): a 3,000-word left-branching tree is read without RecursionError."""
    n = 3000
    tree = ("S", "a")
    for _ in range(n - 1):
        tree = ("S", tree, ("A", "a"))
    assert trees.tree_yield(tree) == ["a"] * n
    assert len(trees.tree_rules(tree)) == 2 * n - 1
    assert trees.bracketed(tree).count("(") == 2 * n - 1
    assert len(trees.indented(tree).splitlines()) == 2 * n - 1
    assert trees.tree_spans(tree)[0] == ("S", 0, n)
    assert len(metrics.brackets(tree)) == n - 2
    assert metrics.bracket_scores(tree, tree).f1 == 1.0
    assert trees.tree_log_prob(SSG, ("S", ("S", "a"), ("S", "b"))) == pytest.approx(math.log(0.3 * 0.4 * 0.3))


def test_pcfg_samples_unchanged_by_the_iterative_sampler():
    """The explicit stack draws in the recursion's order: the same seed gives the same trees."""
    assert pcfg.sample_trees(SSG, 3, rng=1) == [("S", "a"), ("S", "b"), ("S", ("S", "b"), ("S", "a"))]


def test_online_treats_a_single_sequence_as_one_item():
    """f5: online.incremental split one sequence (one sentence) into length-1 items."""
    seq = [0, 1, 2, 2, 1]
    res = online.incremental(HMM2, seq, n_passes=1)
    assert res.log_likelihoods[0] == pytest.approx(hmm.log_likelihood(HMM2, seq))
    whole = em.fit(HMM2, [seq], max_iter=1).model
    np.testing.assert_allclose(res.model.trans, whole.trans)
    sentence = ["a", "b", "a"]
    res = online.incremental(SSG, sentence, n_passes=1)
    assert res.log_likelihoods[0] == pytest.approx(pcfg.log_likelihood(SSG, sentence))
    step = online.stepwise(HMM2, seq, n_passes=1, alpha=0.0, prior_weight=0.0, rng=0)
    np.testing.assert_allclose(step.model.trans, whole.trans)      # one mini-batch = batch EM


def test_chart_sheet_with_tiny_rule_probabilities_has_no_nan():
    """f7: p(x) ~ 1e-900 underflows; the span posteriors come from the scaled charts."""
    from emlab.widgets import chart_sheet

    g = pcfg.PCFG.from_rules([("S", ("S", "S"), 1 - 1e-300), ("S", ("a",), 1e-300)])
    s = chart_sheet.inside_chart_sheet(g, ["a", "a", "a"])
    assert not np.isnan(s.labelled).any()
    assert s.constituent[0, 3] == pytest.approx(1.0)
    assert s.constituent[0, 2] == pytest.approx(0.5)      # two trees of equal probability
    inside, outside, log_p = pcfg.inside_outside(SSG, ["a", "b", "a"])
    np.testing.assert_allclose(pcfg.span_posteriors(SSG, ["a", "b", "a"]),
                               outside * inside / np.exp(log_p), atol=1e-15)


def test_align_states_refuses_per_sequence_lists_of_different_lengths():
    """f11: equal totals but different per-sequence lengths silently paired the wrong positions."""
    with pytest.raises(ValueError, match="sequence 0"):
        metrics.align_states([[0, 1], [1]], [[0], [1, 1]])
    with pytest.raises(ValueError, match="sequence 0"):
        metrics.confusion_matrix([[0, 1], [1]], [[0], [1, 1]])
    assert metrics.align_states([[0, 1], [1]], [[1, 0], [0]]).accuracy == 1.0


def test_expected_log_joint_refuses_nan_counts():
    counts = {"start": [np.nan, 1], "trans": np.ones((2, 2)), "emit": np.ones((2, 3))}
    with pytest.raises(ValueError, match=r"counts\['start'\].*NaN"):
        free_energy.expected_log_joint(HMM2, counts)


def test_tree_functions_refuse_a_unary_node():
    t = ("S", ("A", ("B", "b")), ("C", "c"))
    for read in (trees.tree_yield, trees.tree_rules, trees.bracketed, trees.indented):
        with pytest.raises(ValueError, match="unary node"):
            read(t)


def test_span_refuses_word_codes_outside_the_vocabulary():
    """f11: a negative code wrapped around to the last word (numpy's negative indexing)."""
    with pytest.raises(ValueError, match="words row 0 position 1 has code -1"):
        span.span(SSG.binary, SSG.lexical, np.array([[0, -1]]))
    with pytest.raises(ValueError, match="code 7"):
        span.span(SSG.binary, SSG.lexical, np.array([[7]]))


# ------------------------------------------------------------------ B. crashes

def test_float32_parameters_are_accepted_and_stored_normalized():
    """f10: float32 rows sum to 1 only to float32 precision (0.99999998)."""
    m = hmm.HMM(np.float32([0.3, 0.7]), np.float32([[0.1, 0.9], [0.3, 0.7]]),
                np.float32([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]))
    assert m.trans.dtype == np.float64
    np.testing.assert_allclose(m.trans.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    stop = hmm.HMM([0.5, 0.5], np.float32([[0.1, 0.8], [0.3, 0.6]]), [[1.0], [1.0]],
                   stop=np.float32([0.1, 0.1]))
    np.testing.assert_allclose(stop.trans.sum(axis=1) + stop.stop, 1.0, rtol=0, atol=1e-15)
    mix = mixture.CategoricalMixture(np.float32([0.3, 0.7]), np.float32([[0.1, 0.9], [0.3, 0.7]]))
    np.testing.assert_allclose(mix.probs.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    t = ibm1.IBM1(np.float32([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]))
    np.testing.assert_allclose(t.t.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    g = pcfg.PCFG(["S"], ["a"], np.float32([[[0.3]]]), np.float32([[0.7]]), "S")
    assert g.binary.sum() + g.lexical.sum() == pytest.approx(1.0, abs=1e-15)
    em.fit(m, [[0, 1, 2]], max_iter=2)
    with pytest.raises(ValueError, match="trans row 0 sums to 0.9"):     # still a real error
        hmm.HMM([0.5, 0.5], np.float32([[0.1, 0.8], [0.3, 0.7]]), [[1.0], [1.0]])


@pytest.mark.parametrize("run", [
    lambda gm: online.stepwise(gm, [[0.0], [0.2], [1.1], [3.0]], rng=0),
    lambda gm: online.incremental(gm, [[0.0], [0.2], [1.1], [3.0]]),
    lambda gm: em.fit(priors.MAP(gm, 2.0), [[0.0], [1.0]], max_iter=2),
    lambda gm: optimizers.lbfgs(gm, [[0.0], [1.0]]),
    lambda gm: gradient.gradient_ascent(gm, [[0.0], [1.0]], max_iter=2),
    lambda gm: gradient.finite_difference_gradient(gm, [[0.0], [1.0]]),
], ids=["stepwise", "incremental", "MAP", "lbfgs", "gradient_ascent", "finite_difference"])
def test_gaussian_mixture_is_refused_where_categoricals_are_needed(run):
    """f6/f12: KeyError 'variance' / 'sq' from deep inside."""
    gm = mixture.GaussianMixture([0.5, 0.5], [[0.0], [1.0]])
    with pytest.raises(TypeError, match="products of categoricals.*GaussianMixture"):
        run(gm)


@pytest.mark.parametrize("K, V, diary", [(3, 3, [0, 1, 2]), (2, 5, [0, 4, 2]), (4, 6, [5, 0, 3, 1])])
def test_spreadsheet_names_any_number_of_states_and_symbols(K, V, diary):
    """f8: the default names (Eisner's 2 states, 3 ice-cream counts) were indexed past their end."""
    from emlab.widgets.spreadsheet import Spreadsheet, sheet_tables_html

    sheet = Spreadsheet(hmm.HMM.random(K, V, rng=0), diary, n_iter=2)
    assert len(sheet.state_names) == K and len(sheet.symbol_names) == V
    tables = sheet_tables_html(sheet.sheet)
    assert f"e({V}|" in tables["iterations"]
    for name in ("trellis", "iterations", "decodings"):
        matplotlib.pyplot.close(sheet.figure(name))
    with pytest.raises(ValueError, match="state_names has 1 names"):
        Spreadsheet(hmm.HMM.random(K, V, rng=0), diary, state_names=["x"])


@pytest.mark.parametrize("call, error, match", [
    (lambda: em.fit(None, [[0, 1]]), TypeError, "model must be an emlab model"),
    (lambda: em.restarts(None, [[0, 1]], n=1, progress=False), TypeError, "init must be"),
    (lambda: em.restarts(lambda r: None, [[0, 1]], n=1, progress=False), TypeError, "model must be"),
    (lambda: online.incremental(None, [[0, 1]]), TypeError, "model must be"),
    (lambda: optimizers.lbfgs(None, [[0, 1]]), TypeError, "model must be"),
    (lambda: mixture.log_likelihood(None, [[1, 2]]), TypeError, "model must be a mixture"),
    (lambda: mixture.posteriors(HMM2, [[1, 2]]), TypeError, "model must be a mixture"),
    (lambda: hmm.log_likelihood(None, [0]), TypeError, "m must be an hmm.HMM"),
    (lambda: hmm.viterbi(SSG, [0]), TypeError, "m must be an hmm.HMM"),
    (lambda: pcfg.log_likelihood(HMM2, ["a"]), TypeError, "g must be a pcfg.PCFG"),
    (lambda: pcfg.inside_outside(None, ["a"]), TypeError, "g must be a pcfg.PCFG"),
    (lambda: ibm1.log_likelihood(HMM2, [([0], [0])]), TypeError, "model must be an ibm1.IBM1"),
    (lambda: HMM2.m_step({"start": [1, 1]}), ValueError, "counts has no 'trans'"),
    (lambda: SSG.m_step({}), ValueError, "counts has no 'binary'"),
    (lambda: mixture.CategoricalMixture([1.0], [[1.0]]).m_step({}), ValueError, "counts has no 'weights'"),
    (lambda: mixture.GaussianMixture([1.0], [[1.0]]).m_step({"weights": [1.0], "means": [[1.0]]}),
     ValueError, "counts has no 'sq'"),
    (lambda: mixture.GaussianMixture([1.0], [[1.0]]).m_step({"weights": [np.nan], "means": [[1.0]],
                                                              "sq": [1.0]}),
     ValueError, "NaN"),
    (lambda: ibm1.IBM1.uniform(2, 2).m_step([]), TypeError, "counts must be a dict"),
    (lambda: chain.backtrace(np.full((2, 2, 1), 0.5), np.eye(2), None, semiring.SUM), ValueError, "rng"),
    (lambda: ibm1.log_likelihood(ibm1.IBM1.uniform(3, 3), ibm1.IBM1.uniform(5, 5).prepare([([4], [4])])),
     ValueError, "larger vocabulary"),
    (lambda: pcfg.PCFG.random(["S"], ["a"], rules=[("S",)]), ValueError, "rules item 0"),
    (lambda: metrics.align_states([0, 1], [0, 1]).relabel([5]), ValueError, "learned holds state 5"),
    (lambda: trees.tree_from_uses(["S"], ["a", "a"], [], [(0, 0)]), ValueError, r"span \(0, 2\)"),
    (lambda: span.length_table(np.zeros((1, 1, 1)), np.ones((1, 1)), 0), ValueError, "max_len"),
    (lambda: span.walk(span.span(np.zeros((1, 1, 1)), np.ones((1, 1)), np.array([[0]])),
                       np.zeros((1, 1, 1)), 5), ValueError, "start must be"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_arguments_are_named(call, error, match):
    """f12: AttributeError / KeyError / IndexError from deep inside, each now a named error."""
    with pytest.raises(error, match=match):
        call()


def test_set_parameter_refuses_a_fractional_row():
    from emlab.widgets import sheet

    with pytest.raises(ValueError, match="row must be a whole number"):
        sheet.set_parameter(hmm.HMM.uniform(2, 3), "emit", 0.5, 0, 0.3)


def test_chain_backtrace_draws_with_an_int_seed():
    path = chain.backtrace(np.full((2, 2, 1), 0.5), np.eye(2), None, semiring.SUM, rng=0)
    assert path.shape == (1, 2) and path[0, 0] == path[0, 1]


# -- overflow near the float limit: a clear error or the right answer, never a leaked RuntimeWarning
def test_counts_summing_beyond_the_float_range_are_refused_by_name():
    from emlab import constrained

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="counts sum beyond the largest float"):
            constrained.constrained_max([1e308, 1e308])


def test_a_prior_too_strong_to_keep_the_log_prior_finite_is_refused():
    from emlab import hmm, priors

    m = hmm.HMM.random(2, 3, rng=0)
    with pytest.raises(ValueError, match=r"alpha\['start'\] has an entry 1e\+308 above 1e\+100"):
        priors.MAP(m, 1e308)
    assert priors.MAP(m, 1e100).alpha["trans"].max() == 1e100     # the bound itself is accepted


def test_one_row_draw_near_the_float_limit_draws_in_proportion():
    from emlab import semiring

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draws = [int(semiring.draw(np.array([1e308, 0.0, 1e308]), u)) for u in (0.1, 0.49, 0.51, 0.9)]
    assert draws == [0, 0, 2, 2]
    # ordinary weights take the unscaled sums, so the same uniforms give the same draws as before
    assert int(semiring.draw(np.array([0.2, 0.3, 0.5]), 0.45)) == 1


def test_hmm_sample_refuses_a_model_that_stops_too_rarely_instead_of_filling_memory():
    """With STOP and no length cap the chain stops with probability 1e-12 per step: the draw would
    run ~10^12 steps. It is refused by name after MAX_ELEMENTS // n_sequences steps."""
    m = hmm.HMM([1.0], [[1 - 1e-12]], [[1.0]], [1e-12])
    with pytest.raises(ValueError, match="length"):
        hmm.sample(m, 2000, rng=0)
    xs, _ = hmm.sample(m, 2000, length=7, rng=0)       # with a cap it is cut there
    assert {len(x) for x in xs} == {7}


@pytest.mark.parametrize("call", [
    lambda: hmm.HMM.random(20_000, 20_000),
    lambda: hmm.sample(HMM2, 10**6, length=10**6),
    lambda: ibm1.random_table(10**5, 10**5),
    lambda: mixture.CategoricalMixture.uniform(10**5, 10**5),
    lambda: metrics.confusion_matrix([0, 1], [1, 0], n_true=10**5, n_learned=10**5),
    lambda: pcfg.sample(SSG, 10**6, length=1000),
], ids=["hmm-K-V", "hmm-sample", "ibm1-table", "mixture", "confusion", "pcfg-sample"])
def test_sizes_whose_arrays_cannot_fit_are_refused_by_name_before_allocating(call):
    """Each size is allowed alone, their product is not (more than MAX_ELEMENTS entries): a ValueError
    naming the sizes, not numpy's MemoryError or a machine swapping (some of these would fit in
    this machine's memory and then simply be built)."""
    with pytest.raises(ValueError, match=r"ask for an array of .* entries"):
        call()


def test_data_handed_to_a_model_is_named_even_when_the_message_says_the_word_later():
    """naming('data') used to accept any message containing 'data' ('... rescale the data') as
    already naming the argument; the report must begin with the caller's name."""
    gm = mixture.GaussianMixture([0.5, 0.5], [[0.0, 0.0], [3.0, 3.0]], 1.0)
    with pytest.raises(ValueError, match=r"^data: X point 0 has a coordinate beyond"):
        em.fit(gm, np.array([[1e200, 0.0]]), max_iter=1)
