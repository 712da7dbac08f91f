"""emlab.hmm against published numbers, a naive loop-based Baum-Welch, hmmlearn, and a long sequence.

References used here, none of which calls emlab's dynamic programs:
- Jurafsky & Martin (SLP3, appendix A): P(3 1 3) = 0.028562; Viterbi path H C H, probability 0.0128.
- Eisner's ice-cream spreadsheet (33 days, with STOP): p(data) before and after each of ten
  re-estimations, computed by ``naive_baum_welch`` below: plain per-position Python loops over
  unscaled probabilities (33 days need no scaling: p(data) ≈ 1e-18), checked itself against path
  enumeration on short prefixes. Its values are recorded in ``EISNER_P_DATA``.
- hmmlearn's ``CategoricalHMM`` (scaling implementation): the same log-likelihood history.
- A pure-Python log-space forward pass for a 100,000-step sequence.
"""

import itertools
import math
import warnings

import numpy as np

from emlab import data, em, hmm
from emlab.em import NotConvergedWarning


def naive_forward_backward(start, trans, emit, stop, x):
    """Unscaled α, β, p(x) with explicit loops (Rabiner's / Collins' definitions)."""
    K, T = len(start), len(x)
    end = stop if stop is not None else [1.0] * K
    alpha = [[start[k] * emit[k][x[0]] for k in range(K)]]
    for t in range(1, T):
        alpha.append([sum(alpha[t - 1][i] * trans[i][j] for i in range(K)) * emit[j][x[t]] for j in range(K)])
    beta = [None] * T
    beta[T - 1] = list(end)
    for t in range(T - 2, -1, -1):
        beta[t] = [sum(trans[i][j] * emit[j][x[t + 1]] * beta[t + 1][j] for j in range(K)) for i in range(K)]
    px = sum(alpha[T - 1][k] * end[k] for k in range(K))
    return alpha, beta, px


def naive_baum_welch(start, trans, emit, stop, x, iterations):
    """Return [p(x) under θ_0, …, θ_iterations] from one-sequence Baum-Welch written with loops."""
    K, V, T = len(start), len(emit[0]), len(x)
    history = []
    for _ in range(iterations + 1):
        alpha, beta, px = naive_forward_backward(start, trans, emit, stop, x)
        history.append(px)
        gamma = [[alpha[t][k] * beta[t][k] / px for k in range(K)] for t in range(T)]
        c_trans = [[sum(alpha[t][i] * trans[i][j] * emit[j][x[t + 1]] * beta[t + 1][j] / px
                        for t in range(T - 1)) for j in range(K)] for i in range(K)]
        c_emit = [[sum(gamma[t][k] for t in range(T) if x[t] == v) for v in range(V)] for k in range(K)]
        c_stop = [gamma[T - 1][k] for k in range(K)]
        start = list(gamma[0])
        out = [sum(c_trans[i]) + (c_stop[i] if stop is not None else 0.0) for i in range(K)]
        trans = [[c_trans[i][j] / out[i] for j in range(K)] for i in range(K)]
        if stop is not None:
            stop = [c_stop[i] / out[i] for i in range(K)]
        emit = [[c_emit[k][v] / sum(c_emit[k]) for v in range(V)] for k in range(K)]
    return history


def as_lists(m):
    return (m.start.tolist(), m.trans.tolist(), m.emit.tolist(), None if m.stop is None else m.stop.tolist())


# ------------------------------------------------------------ Jurafsky & Martin
def test_jurafsky_martin_313():
    m = data.jurafsky_martin()
    x = data.JM_SEQUENCE
    np.testing.assert_allclose(np.exp(hmm.log_likelihood(m, [x])), 0.028562, rtol=1e-12)
    path, log_prob = hmm.viterbi(m, x)
    assert [data.JM_STATE_NAMES[k] for k in path] == ["H", "C", "H"]
    # 0.8·0.4 (H, 3) · 0.4·0.5 (H→C, 1) · 0.5·0.4 (C→H, 3) = 0.0128: the published figure is exact
    np.testing.assert_allclose(np.exp(log_prob), 0.0128, rtol=1e-12)
    probs = {y: np.prod([m.start[y[0]] * m.emit[y[0], x[0]]]
                        + [m.trans[y[t - 1], y[t]] * m.emit[y[t], x[t]] for t in (1, 2)])
             for y in itertools.product(range(2), repeat=3)}
    assert max(probs, key=probs.get) == tuple(path)
    np.testing.assert_allclose(sum(probs.values()), 0.028562, rtol=1e-12)


# ---------------------------------------------------------------------- Eisner
#: p(data) under the spreadsheet's initial model and after each of ten re-estimations, as computed by
#: naive_baum_welch (an independent loop implementation; recorded here so a change to it shows).
EISNER_P_DATA = [9.12756490829e-19, 1.10414236645e-16, 2.41977212834e-16, 3.28791803876e-16,
                 3.86526661122e-16, 4.2007031689e-16, 4.37107494474e-16, 4.45189572885e-16,
                 4.48908059645e-16, 4.5059584296e-16, 4.51357282284e-16]


def test_eisner_reference_agrees_with_enumeration_on_short_prefixes():
    m = data.eisner_initial()
    x = data.eisner_data()
    for T in (1, 4, 9):
        _, _, px = naive_forward_backward(*as_lists(m), x[:T].tolist())
        brute = 0.0
        for y in itertools.product(range(2), repeat=T):
            p = m.start[y[0]] * m.emit[y[0], x[0]] * m.stop[y[-1]]
            for t in range(1, T):
                p *= m.trans[y[t - 1], y[t]] * m.emit[y[t], x[t]]
            brute += p
        np.testing.assert_allclose(px, brute, rtol=1e-12)
        np.testing.assert_allclose(hmm.log_likelihood(m, [x[:T]]), np.log(brute), rtol=1e-12)


def test_eisner_spreadsheet_ten_reestimations():
    m = data.eisner_initial()
    x = data.eisner_data()
    assert len(x) == 33 and x[0] == 1 and x[-1] == 1
    ref = naive_baum_welch(*as_lists(m), x.tolist(), iterations=10)
    np.testing.assert_allclose(ref, EISNER_P_DATA, rtol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        res = em.fit(m, [x], max_iter=10, tol=0)
    np.testing.assert_allclose(res.log_likelihoods, np.log(ref), rtol=1e-11)
    assert np.all(np.diff(res.log_likelihoods) > 0)


# --------------------------------------------------------------------- hmmlearn
def test_same_log_likelihood_history_as_hmmlearn():
    from hmmlearn.hmm import CategoricalHMM

    K, V = 3, 4
    truth = hmm.HMM.random(K, V, 17)
    rng = np.random.default_rng(3)
    corpus = [hmm.sample(truth, 1, int(n), rng=rng)[0][0] for n in rng.integers(5, 30, size=25)]
    init = hmm.HMM.random(K, V, 18)
    theirs = CategoricalHMM(n_components=K, n_features=V, init_params="", params="ste",
                            implementation="scaling", n_iter=10, tol=-np.inf)
    theirs.startprob_, theirs.transmat_, theirs.emissionprob_ = init.start, init.trans, init.emit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.fit(np.concatenate(corpus)[:, None], [len(x) for x in corpus])
        ours = em.fit(init, corpus, max_iter=10, tol=0)
    # hmmlearn records the log-likelihood computed in each E-step, i.e. of θ_0 … θ_9 (before the M-step)
    history = list(theirs.monitor_.history)
    assert len(history) == 10
    np.testing.assert_allclose(ours.log_likelihoods[:10], history, rtol=1e-8)
    # after 10 M-steps both hold θ_10
    np.testing.assert_allclose(ours.model.trans, theirs.transmat_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(ours.model.emit, theirs.emissionprob_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(ours.model.start, theirs.startprob_, rtol=1e-7, atol=1e-10)


# ------------------------------------------------------------------ long input
def test_a_100000_step_sequence_is_finite_and_exact():
    m = hmm.HMM.random(2, 3, 5, stop=True)
    x = np.random.default_rng(1).integers(0, 3, size=100_000)
    stop = True
    # reference: a log-space forward pass with Python floats, log-sum-exp by hand
    lt = [[math.log(p) for p in row] for row in m.trans]
    le = [[math.log(p) for p in row] for row in m.emit]
    a = [math.log(m.start[k]) + le[k][x[0]] for k in range(2)]
    for v in x[1:].tolist():
        s0, s1 = a[0] + lt[0][0], a[1] + lt[1][0]
        r0, r1 = a[0] + lt[0][1], a[1] + lt[1][1]
        m0, m1 = max(s0, s1), max(r0, r1)
        a = [m0 + math.log(math.exp(s0 - m0) + math.exp(s1 - m0)) + le[0][v],
             m1 + math.log(math.exp(r0 - m1) + math.exp(r1 - m1)) + le[1][v]]
    if stop:
        a = [a[k] + math.log(m.stop[k]) for k in range(2)]
    top = max(a)
    ref = top + math.log(sum(math.exp(v - top) for v in a))
    ll = hmm.log_likelihood(m, [x])
    assert np.isfinite(ll) and ll < -50_000
    np.testing.assert_allclose(ll, ref, rtol=1e-10)
    # Viterbi works in log space: finite too, and never above the marginal (on a shorter prefix, for speed)
    path, best = hmm.viterbi(m, x[:10_000])
    assert np.isfinite(best) and best <= hmm.log_likelihood(m, [x[:10_000]])
