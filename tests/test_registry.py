"""One registry of models, checked model x method x semiring against brute-force enumeration.

torch-struct's ``test_algorithms.py`` pattern: every structured model in emlab is listed once with
a tiny random instance and an *enumerator* that lists every hidden structure of an item with its
joint probability ``p(x, y)`` and its counts, computed from the parameters alone (no chart code).
Then, for every model:

- SUM semiring: ``log p(x)`` of the E-step is ``log Σ_y p(x, y)`` (and the chain / span kernels,
  called on arrays, give the enumerated totals);
- MAX semiring: the hard E-step's objective is ``max_y log p(x, y)`` (and the kernels' maxima);
- soft: counts are ``Σ_y p(y | x) counts(y)``; hard: the counts of the argmax structure;
  stochastic: the mean counts of many draws are the posterior expectation within 5 standard
  errors, the standard errors computed exactly from the enumeration;
- EM over the registry: soft EM never lowers the log-likelihood, hard EM never lowers its
  objective, and the same seed repeats a stochastic run exactly (a different seed differs).

These replace the per-model copies of the monotonicity and same-seed tests.
"""

from __future__ import annotations

import itertools
import math
import warnings
from functools import cache

import numpy as np
import pytest

from emlab import em, hmm, ibm1, loglinear, mixture, pcfg
from emlab.chain import backtrace, chain
from emlab.semiring import MAX, SUM
from emlab.span import span

# ------------------------------------------------------------------ enumerators (the references)


def hmm_structures(m: hmm.HMM, x):
    """Every state path of ``x`` with ``p(x, y)`` and its counts, from the parameters alone."""
    K, V, T = m.K, m.V, len(x)
    for y in itertools.product(range(K), repeat=T):
        p = m.start[y[0]] * m.emit[y[0], x[0]]
        c = {"start": np.zeros(K), "trans": np.zeros((K, K)), "emit": np.zeros((K, V))}
        c["start"][y[0]] += 1
        c["emit"][y[0], x[0]] += 1
        for t in range(1, T):
            p *= m.trans[y[t - 1], y[t]] * m.emit[y[t], x[t]]
            c["trans"][y[t - 1], y[t]] += 1
            c["emit"][y[t], x[t]] += 1
        if m.stop is not None:
            p *= m.stop[y[-1]]
            c["stop"] = np.zeros(K)
            c["stop"][y[-1]] += 1
        yield p, c


def pcfg_structures(g: pcfg.PCFG, sentence):
    """Every tree of ``sentence`` with ``p(x, t)`` and its rule counts, from ``g.prob`` alone."""
    words = tuple(sentence)
    nts, N, V = g.nonterminals, g.N, g.V

    @cache
    def trees(A, i, j):
        if j == i + 1:
            p = g.prob(A, (words[i],))
            return [(p, ((A, (words[i],)),))] if p > 0 else []
        out = []
        for k in range(i + 1, j):
            for B in nts:
                for C in nts:
                    q = g.prob(A, (B, C))
                    if q > 0:
                        for lp, lr in trees(B, i, k):
                            for rp, rr in trees(C, k, j):
                                out.append((q * lp * rp, ((A, (B, C)),) + lr + rr))
        return out

    for p, rules in trees(g.start, 0, len(words)):
        c = {"binary": np.zeros((N, N, N)), "lexical": np.zeros((N, V))}
        for lhs, rhs in rules:
            if len(rhs) == 2:
                c["binary"][nts.index(lhs), nts.index(rhs[0]), nts.index(rhs[1])] += 1
            else:
                c["lexical"][nts.index(lhs), g.words.index(rhs[0])] += 1
        yield p, c


def categorical_mixture_structures(m: mixture.CategoricalMixture, x):
    for k in range(m.K):
        p = m.weights[k] * np.prod(m.probs[k] ** x)
        c = {"weights": np.eye(m.K)[k], "probs": np.outer(np.eye(m.K)[k], x)}
        yield p, c


def gaussian_mixture_structures(m: mixture.GaussianMixture, x):
    var = np.broadcast_to(m.variance, (m.K,))
    for k in range(m.K):
        d2 = float(np.sum((x - m.means[k]) ** 2))
        p = m.weights[k] * (2 * np.pi * var[k]) ** (-m.D / 2) * np.exp(-d2 / (2 * var[k]))
        e = np.eye(m.K)[k]
        yield p, {"weights": e, "means": np.outer(e, x), "sq": e * float(x @ x)}


def ibm1_structures(m: ibm1.IBM1, pair):
    """Every alignment of the target words to source positions, each with probability 1/l."""
    f, e = pair
    for a in itertools.product(range(len(e)), repeat=len(f)):
        p = float(np.prod([m.t[e[i], fj] / len(e) for fj, i in zip(f, a, strict=True)]))
        counts = np.zeros_like(m.t)
        for fj, i in zip(f, a, strict=True):
            counts[e[i], fj] += 1
        yield p, {"t": counts}


# ------------------------------------------------------------------ the registry


def _hmm_case(stop):
    def make(seed):
        rng = np.random.default_rng(seed)
        m = hmm.HMM.random(2, 3, rng=rng, stop=stop)
        return m, [rng.integers(0, 3, size=T) for T in (1, 2, 3, 4)]
    return make


def _loglinear_case(seed):
    rng = np.random.default_rng(seed)
    features = np.column_stack([np.eye(3), [1, 0, 1]])          # the symbol plus one shared feature
    m = loglinear.LogLinearHMM.random(2, features, rng=rng)
    return m, [rng.integers(0, 3, size=T) for T in (1, 2, 3, 4)]


def _pcfg_case(seed):
    rng = np.random.default_rng(seed)
    g = pcfg.PCFG.random(["S", "A", "B"], ["a", "b", "c"], rng=rng, start="S")
    return g, [pcfg.sample(g, 1, rng=rng, length=n)[0] for n in (1, 2, 3, 4)]


def _categorical_case(seed):
    rng = np.random.default_rng(seed)
    m = mixture.CategoricalMixture.random(3, 3, rng=rng)
    return m, rng.integers(0, 4, size=(4, 3))


def _gaussian_case(seed):
    rng = np.random.default_rng(seed)
    m = mixture.GaussianMixture(rng.dirichlet(np.ones(3)), rng.normal(size=(3, 2)), rng.uniform(0.5, 2, 3))
    return m, rng.normal(size=(4, 2))


def _ibm1_case(seed):
    rng = np.random.default_rng(seed)
    m = ibm1.IBM1(ibm1.random_table(3, 4, rng=rng))
    return m, [(rng.integers(0, 4, size=m_), np.r_[0, rng.integers(1, 3, size=l)]) for m_, l in
               ((1, 1), (2, 1), (2, 2), (3, 2))]


#: name -> (make(seed) -> (model, items), enumerate(model, item) -> [(p(x, y), counts(y))])
REGISTRY = {
    "hmm": (_hmm_case(False), hmm_structures),
    "hmm-stop": (_hmm_case(True), hmm_structures),
    "pcfg": (_pcfg_case, pcfg_structures),
    "categorical-mixture": (_categorical_case, categorical_mixture_structures),
    "gaussian-mixture": (_gaussian_case, gaussian_mixture_structures),
    "ibm1": (_ibm1_case, ibm1_structures),
    "loglinear-hmm": (_loglinear_case, hmm_structures),
}
SEEDS = [0, 1, 2]
EM_SEEDS = range(10)


def one_item(name, items, i):
    """Item ``i`` as a one-item data set of the model."""
    return items[i][None] if "mixture" in name else [items[i]]


def enumerated(enum, model, item):
    """``(log p(x), max log p(x, y), posterior mean counts, counts of the argmax, variance of the
    counts under the posterior)`` by enumeration."""
    structures = [(p, c) for p, c in enum(model, item) if p > 0]
    ps = np.array([p for p, _ in structures])
    z = ps.sum()
    mean = {k: sum(p * c[k] for p, c in structures) / z for k in structures[0][1]}
    var = {k: sum(p * (c[k] - mean[k]) ** 2 for p, c in structures) / z for k in mean}
    best = structures[int(np.argmax(ps))][1]
    top = np.sort(ps)[::-1]
    unique = len(top) == 1 or top[1] < top[0] * (1 - 1e-9)
    return math.log(z), math.log(ps.max()), mean, best if unique else None, var


# ------------------------------------------------------------------ model x method x semiring


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("method", em.METHODS)
@pytest.mark.parametrize("name", REGISTRY)
def test_e_step_matches_enumeration(name, method, seed):
    make, enum = REGISTRY[name]
    model, items = make(seed)
    for i in range(len(items)):
        data = one_item(name, items, i)
        item = items[i]
        log_z, log_best, mean, best, var = enumerated(enum, model, item)
        if method == "stochastic":                       # many independent draws of the same item
            R = 3000
            many = np.repeat(data, R, axis=0) if "mixture" in name else data * R
            step = model.e_step(model.prepare(many), method, rng=seed)
            assert step.log_likelihood == pytest.approx(R * log_z, rel=1e-9)
            for k in mean:                               # the mean of R draws: 5 standard errors
                got = step.counts[k] / R
                np.testing.assert_array_less(np.abs(got - mean[k]), 5 * np.sqrt(var[k] / R) + 1e-9)
            continue
        step = model.e_step(model.prepare(data), method, rng=seed)
        assert step.log_likelihood == pytest.approx(log_z, rel=1e-9, abs=1e-12)       # SUM
        if method == "soft":
            assert step.objective == pytest.approx(log_z, rel=1e-9, abs=1e-12)
            for k in mean:
                np.testing.assert_allclose(step.counts[k], mean[k], rtol=1e-8, atol=1e-10)
        else:                                                                         # MAX
            assert step.objective == pytest.approx(log_best, rel=1e-9, abs=1e-12)
            if best is not None:
                for k in best:
                    np.testing.assert_allclose(step.counts[k], best[k], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", REGISTRY)
def test_e_step_sums_over_items(name):
    """Counts and log-likelihoods add over the items of a corpus (batching changes nothing)."""
    make, _ = REGISTRY[name]
    model, items = make(7)
    whole = model.e_step(model.prepare(items), "soft")
    parts = [model.e_step(model.prepare(one_item(name, items, i)), "soft") for i in range(len(items))]
    assert whole.log_likelihood == pytest.approx(sum(p.log_likelihood for p in parts), rel=1e-12)
    for k in whole.counts:
        np.testing.assert_allclose(whole.counts[k], sum(p.counts[k] for p in parts), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ the kernels, on arrays


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("semiring", [SUM, MAX], ids=["SUM", "MAX"])
def test_chain_kernel_matches_enumeration(semiring, seed):
    """chain(init, M, B) over every path: the total (SUM) or the best (MAX) of
    ``init[y_1] B_1[y_1] Π M[y_t, y_{t-1}] B_t[y_t]``; the MAX back-trace is the best path."""
    rng = np.random.default_rng(seed)
    K, T, N = 3, 4, 2
    init, M, B = rng.random(K), rng.random((K, K)), rng.random((T, K, N)) * 1e-3   # not probabilities
    table, scale = chain(init, M, B, semiring)
    for n in range(N):
        scores = {}
        for y in itertools.product(range(K), repeat=T):
            p = init[y[0]] * B[0, y[0], n]
            for t in range(1, T):
                p *= M[y[t], y[t - 1]] * B[t, y[t], n]
            scores[y] = p
        total = np.log(scale[:, n]).sum()
        if semiring is SUM:
            assert total == pytest.approx(math.log(sum(scores.values())), rel=1e-12)
        else:
            assert total == pytest.approx(math.log(max(scores.values())), rel=1e-12)
            path = backtrace(table, M.T, None, MAX)[n]
            assert tuple(path) == max(scores, key=scores.get)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("semiring", [SUM, MAX], ids=["SUM", "MAX"])
def test_span_kernel_matches_enumeration(semiring, seed):
    """span(binary, lexical, words): the total (SUM, inside) or the best (MAX, CKY) over every
    binary tree of the words, for every label of the root."""
    rng = np.random.default_rng(seed)
    N, V, n = 2, 3, 4
    binary, lexical = rng.random((N, N, N)), rng.random((N, V))        # any non-negative weights
    words = rng.integers(0, V, size=(2, n))
    chart = span(binary, lexical, words, semiring)
    plus = sum if semiring is SUM else max
    for b in range(words.shape[0]):
        @cache
        def value(A, i, j, b=b):
            if j == i + 1:
                return lexical[A, words[b, i]]
            return plus(binary[A, B, C] * value(B, i, k) * value(C, k, j)
                        for k in range(i + 1, j) for B in range(N) for C in range(N))
        for A in range(N):
            assert chart.log_prob(A)[b] == pytest.approx(math.log(value(A, 0, n)), rel=1e-12)


# ------------------------------------------------------------------ EM over the registry


def fit_quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        return em.fit(*args, **kwargs)


@pytest.mark.parametrize("seed", EM_SEEDS)
@pytest.mark.parametrize("name", REGISTRY)
def test_soft_em_never_lowers_the_log_likelihood_and_hard_em_never_lowers_its_objective(name, seed):
    make, _ = REGISTRY[name]
    model, items = make(seed)
    for method, watched in (("soft", "log_likelihoods"), ("hard", "objectives")):
        with warnings.catch_warnings():
            warnings.simplefilter("error", em.LikelihoodDecreaseWarning)
            res = fit_quiet(model, items, method=method, max_iter=15, tol=0)
        values = np.array(getattr(res, watched))
        assert np.all(np.diff(values) >= -1e-9 * np.maximum(np.abs(values[:-1]), 1.0))
        if method == "hard":     # the best structure's probability is at most the marginal
            assert np.all(np.array(res.objectives) <= np.array(res.log_likelihoods) + 1e-9)


@pytest.mark.parametrize("name", REGISTRY)
def test_same_seed_repeats_a_stochastic_run_and_another_seed_differs(name):
    make, _ = REGISTRY[name]
    model, items = make(3)
    data = np.repeat(items, 10, axis=0) if "mixture" in name else items * 10
    a = fit_quiet(model, data, method="stochastic", max_iter=6, tol=0, rng=11)
    b = fit_quiet(model, data, method="stochastic", max_iter=6, tol=0, rng=11)
    c = fit_quiet(model, data, method="stochastic", max_iter=6, tol=0, rng=12)
    assert a.log_likelihoods == b.log_likelihoods
    for k, v in a.model.params().items():
        np.testing.assert_array_equal(v, b.model.params()[k])
    assert a.log_likelihoods != c.log_likelihoods
