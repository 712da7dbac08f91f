"""IBM Model 1 against brute-force enumeration of every alignment (notebook 11)."""

import itertools
import warnings

import numpy as np
import pytest

from emlab import em, ibm1, optimizers


def brute_force(t, f, e):
    """log p(f | e), expected counts and the best alignment by summing over all l^m alignments."""
    l = len(e)
    total, counts, best, best_p = 0.0, np.zeros_like(t), None, -1.0
    for a in itertools.product(range(l), repeat=len(f)):
        p = np.prod([t[e[i], fj] / l for fj, i in zip(f, a, strict=True)])
        total += p
        for fj, i in zip(f, a, strict=True):
            counts[e[i], fj] += p
        if p > best_p:
            best, best_p = a, p
    return np.log(total), counts / total, np.array(best), np.log(best_p)


@pytest.fixture
def tiny():
    rng = np.random.default_rng(3)
    t = rng.dirichlet(np.ones(4), size=3)
    pairs = [(np.array([0, 3, 1]), np.array([0, 1, 2])), (np.array([2, 2]), np.array([0, 2, 2, 1])),
             (np.array([1]), np.array([0]))]
    return t, pairs


def test_log_likelihood_and_counts_match_enumeration(tiny):
    t, pairs = tiny
    model = ibm1.IBM1(t)
    refs = [brute_force(t, f, e) for f, e in pairs]
    assert ibm1.log_likelihood(model, pairs) == pytest.approx(sum(r[0] for r in refs), rel=1e-12)
    est = model.e_step(model.prepare(pairs), "soft")
    np.testing.assert_allclose(est.counts["t"], sum(r[1] for r in refs), rtol=1e-12, atol=1e-14)
    assert est.counts["t"].sum() == pytest.approx(sum(len(f) for f, _ in pairs))   # one count per target word


def test_hard_e_step_is_the_best_alignment(tiny):
    t, pairs = tiny
    model = ibm1.IBM1(t)
    prepared = model.prepare(pairs)
    est = model.e_step(prepared, "hard")
    refs = [brute_force(t, f, e) for f, e in pairs]
    assert est.objective == pytest.approx(sum(r[3] for r in refs), rel=1e-12)
    expected = np.zeros_like(t)
    for (f, e), r in zip(pairs, refs, strict=True):
        for fj, i in zip(f, r[2], strict=True):
            expected[e[i], fj] += 1
    np.testing.assert_array_equal(est.counts["t"], expected)


def test_sampled_alignments_follow_the_posterior(tiny):
    t, pairs = tiny
    model = ibm1.IBM1(t)
    prepared = model.prepare(pairs)
    rng = np.random.default_rng(0)
    n = 4000
    mean = sum(model.e_step(prepared, "stochastic", rng).counts["t"] for _ in range(n)) / n
    soft = sum(brute_force(t, f, e)[1] for f, e in pairs)
    assert np.max(np.abs(mean - soft)) < 0.05        # binomial s.d. ≤ 0.5/sqrt(4000) ≈ 0.008 per count


def test_posteriors_match_enumeration(tiny):
    t, pairs = tiny
    f, e = pairs[1]
    model = ibm1.IBM1(t)
    P = ibm1.alignment_posteriors(model, f, e)
    l = len(e)
    ref = np.zeros((len(f), l))
    for a in itertools.product(range(l), repeat=len(f)):
        p = np.prod([t[e[i], fj] for fj, i in zip(f, a, strict=True)])
        for j, i in enumerate(a):
            ref[j, i] += p
    np.testing.assert_allclose(P, ref / ref.sum(axis=1, keepdims=True), rtol=1e-12)


def test_uniform_start_counts_are_cooccurrence_counts():
    """With t uniform every alignment is equally likely, so c(e, f) = C(e, f) / l for sources of length l."""
    t = ibm1.random_table(5, 6, rng=0)
    pairs, _ = ibm1.sample_corpus(t, 30, source_length=(3, 3), rng=1)   # NULL + 3 words: l = 4
    model = ibm1.IBM1.uniform(5, 6)
    counts = model.e_step(model.prepare(pairs), "soft").counts["t"]
    manual = np.zeros((5, 6))
    for f, e in pairs:
        for fj in f:
            for ei in e:
                manual[ei, fj] += 1
    np.testing.assert_allclose(counts, manual / 4, rtol=1e-12)
    np.testing.assert_allclose(ibm1.cooccurrence_counts(pairs, 5, 6), manual)


def test_em_is_monotone_and_every_start_reaches_the_same_likelihood():
    t = ibm1.random_table(5, 6, rng=0, concentration=0.3)
    pairs, _ = ibm1.sample_corpus(t, 60, rng=1)
    finals = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", em.LikelihoodDecreaseWarning)
        for s in range(5):
            res = em.fit(ibm1.IBM1.random(5, 6, rng=s), pairs, max_iter=3000, tol=1e-13)
            assert np.all(np.diff(res.log_likelihoods) >= -1e-9 * abs(res.log_likelihoods[0]))
            finals.append(res.log_likelihood)
    assert max(finals) - min(finals) < 1e-4


def test_lbfgs_runs_on_the_same_model():
    t = ibm1.random_table(4, 5, rng=2)
    pairs, _ = ibm1.sample_corpus(t, 40, rng=3)
    em_ll = em.fit(ibm1.IBM1.uniform(4, 5), pairs, max_iter=3000, tol=1e-13).log_likelihood
    lb = optimizers.lbfgs(ibm1.IBM1.random(4, 5, rng=0), pairs, max_evaluations=400, gtol=1e-10)
    # concave in t: nothing beats EM's value (beyond EM's own convergence slack), and L-BFGS gets close
    assert em_ll - 1e-2 < lb.log_likelihood < em_ll + 1e-6


def test_sample_corpus_has_null_first_and_valid_alignments():
    t = ibm1.random_table(4, 3, rng=0)
    pairs, aligns = ibm1.sample_corpus(t, 20, source_length=(1, 2), target_length=(1, 3), rng=5)
    for (f, e), a in zip(pairs, aligns, strict=True):
        assert e[0] == 0 and np.all(e[1:] >= 1) and 2 <= len(e) <= 3 and 1 <= len(f) <= 3
        assert len(a) == len(f) and np.all((a >= 0) & (a < len(e)))


def test_bad_input_is_refused_by_name():
    model = ibm1.IBM1.uniform(3, 2)
    with pytest.raises(ValueError, match="t row 0 sums"):
        ibm1.IBM1([[0.5, 0.6]])
    with pytest.raises(ValueError, match="empty"):
        model.prepare([])
    with pytest.raises(ValueError, match=r"pairs\[0\] target f"):
        model.prepare([([5], [0])])
    with pytest.raises(ValueError, match=r"pairs\[1\] source e"):
        model.prepare([([0], [0]), ([1], [3])])
    with pytest.raises(ValueError, match=r"pairs\[0\] source e is empty"):
        model.prepare([([0], [])])
    zero = ibm1.IBM1([[1.0, 0.0], [1.0, 0.0], [0.5, 0.5]])
    assert ibm1.log_likelihood(zero, [([1], [0, 1])]) == -np.inf
    with pytest.raises(ValueError, match="sentence pair 0"):
        zero.e_step(zero.prepare([([1], [0, 1])]), "soft")


def test_hard_and_stochastic_em_run_through_em_fit():
    t = ibm1.random_table(4, 5, rng=4, concentration=0.5)
    pairs, _ = ibm1.sample_corpus(t, 30, rng=6)
    start = ibm1.IBM1.random(4, 5, rng=1)
    hard = em.fit(start, pairs, method="hard", max_iter=50)
    assert np.all(np.diff(hard.objectives) >= -1e-9 * abs(hard.objectives[0]))     # max_a log p(f, a | e)
    assert all(o <= ll + 1e-9 for o, ll in zip(hard.objectives, hard.log_likelihoods, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        runs = [em.fit(start, pairs, method="stochastic", max_iter=10, tol=0, rng=s) for s in (3, 3, 4)]
    assert runs[0].log_likelihoods == runs[1].log_likelihoods != runs[2].log_likelihoods


def test_sample_corpus_refuses_bad_lengths():
    t = ibm1.random_table(3, 3, rng=0)
    with pytest.raises(ValueError, match="source_length"):
        ibm1.sample_corpus(t, 5, source_length=(3, 2))
    with pytest.raises(ValueError, match="t has 1 source words"):
        ibm1.sample_corpus([[1.0, 0.0, 0.0]], 5)
