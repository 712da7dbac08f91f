"""emlab.hmm against brute-force enumeration of every state path, plus properties and bad input.

The reference here never calls the dynamic programs: it lists all K^T state paths, multiplies the
categoricals of each path (Collins' definition of p(x, y)), and reads off p(x), the posteriors, the
best path and the expected counts from that list.
"""

import itertools
import warnings

import numpy as np
import pytest

from emlab import em, hmm
from emlab.em import NotConvergedWarning


# ----------------------------------------------------------------- brute force
def joint(m, x, y):
    """p(x, y) straight from the definition, one factor at a time."""
    p = m.start[y[0]] * m.emit[y[0], x[0]]
    for t in range(1, len(x)):
        p *= m.trans[y[t - 1], y[t]] * m.emit[y[t], x[t]]
    if m.stop is not None:
        p *= m.stop[y[-1]]
    return p


def enumerate_paths(m, x):
    paths = list(itertools.product(range(m.K), repeat=len(x)))
    return paths, np.array([joint(m, x, y) for y in paths])


def brute_posteriors(m, x):
    paths, probs = enumerate_paths(m, x)
    px = probs.sum()
    T, K = len(x), m.K
    gamma = np.zeros((T, K))
    xi = np.zeros((max(T - 1, 0), K, K))
    for y, p in zip(paths, probs, strict=True):
        for t in range(T):
            gamma[t, y[t]] += p / px
        for t in range(T - 1):
            xi[t, y[t], y[t + 1]] += p / px
    return px, gamma, xi


def path_counts(m, x, y, weight=1.0, into=None):
    c = into if into is not None else {k: np.zeros_like(v) for k, v in m.params().items()}
    c["start"][y[0]] += weight
    for t in range(len(x)):
        c["emit"][y[t], x[t]] += weight
    for t in range(1, len(x)):
        c["trans"][y[t - 1], y[t]] += weight
    if m.stop is not None:
        c["stop"][y[-1]] += weight
    return c


def brute_counts(m, corpus, method):
    c = {k: np.zeros_like(v) for k, v in m.params().items()}
    for x in corpus:
        paths, probs = enumerate_paths(m, x)
        if method == "soft":
            for y, p in zip(paths, probs, strict=True):
                path_counts(m, x, y, p / probs.sum(), c)
        else:
            path_counts(m, x, paths[int(np.argmax(probs))], 1.0, c)
    return c


def brute_m_step(m, c):
    """Divide each categorical's counts by their total, by hand (rows with no counts keep theirs)."""
    def norm(counts, old):
        out = old.copy()
        for i in range(counts.shape[0]):
            if counts[i].sum() > 0:
                out[i] = counts[i] / counts[i].sum()
        return out
    start = c["start"] / c["start"].sum()
    emit = norm(c["emit"], m.emit)
    if m.stop is None:
        return start, norm(c["trans"], m.trans), emit, None
    both = norm(np.column_stack([c["trans"], c["stop"]]), np.column_stack([m.trans, m.stop]))
    return start, both[:, :-1], emit, both[:, -1]


def small_cases(n=12):
    rng = np.random.default_rng(2024)
    for i in range(n):
        K, V = int(rng.integers(1, 4)), int(rng.integers(2, 4))
        stop = bool(i % 2)
        m = hmm.HMM.random(K, V, rng, stop=stop)
        corpus = [rng.integers(0, V, size=int(rng.integers(1, 6))) for _ in range(3)]
        yield m, corpus


CASES = list(small_cases())


@pytest.mark.parametrize("m,corpus", CASES)
def test_log_likelihood_posteriors_and_viterbi_match_enumeration(m, corpus):
    total = 0.0
    for x in corpus:
        paths, probs = enumerate_paths(m, x)
        px, gamma_ref, xi_ref = brute_posteriors(m, x)
        total += np.log(px)
        gamma, xi = hmm.posteriors(m, x)
        np.testing.assert_allclose(gamma, gamma_ref, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(xi, xi_ref, rtol=1e-10, atol=1e-13)
        path, score = hmm.viterbi(m, x)
        best = int(np.argmax(probs))
        assert tuple(path) == paths[best]
        np.testing.assert_allclose(score, np.log(probs[best]), rtol=1e-12)
        # unscaled tables: p(x) = Σ_k α_t(k) β_t(k) at every t
        alpha, beta = hmm.forward_table(m, x), hmm.backward_table(m, x)
        np.testing.assert_allclose((alpha * beta).sum(axis=1), px, rtol=1e-12)
        # scaled forward: alpha_hat · exp(cumsum log_c) = α
        ahat, log_c = hmm.forward(m, x)
        np.testing.assert_allclose(ahat * np.exp(np.cumsum(log_c))[:, None], alpha, rtol=1e-10, atol=1e-300)
        np.testing.assert_allclose(ahat * hmm.backward(m, x), gamma_ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(hmm.log_likelihood(m, corpus), total, rtol=1e-12)


@pytest.mark.parametrize("method", ["soft", "hard"])
@pytest.mark.parametrize("m,corpus", CASES)
def test_one_em_step_matches_enumeration(m, corpus, method):
    step = m.e_step(m.prepare(corpus), method, None)
    ref = brute_counts(m, corpus, method)
    assert step.counts.keys() == ref.keys()
    for k in ref:
        np.testing.assert_allclose(step.counts[k], ref[k], rtol=1e-10, atol=1e-12, err_msg=k)
    if method == "hard":
        best = sum(np.log(enumerate_paths(m, x)[1].max()) for x in corpus)
        np.testing.assert_allclose(step.objective, best, rtol=1e-12)
    new = m.m_step(step.counts)
    start, trans, emit, stop = brute_m_step(m, ref)
    np.testing.assert_allclose(new.start, start, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(new.trans, trans, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(new.emit, emit, rtol=1e-10, atol=1e-13)
    if stop is not None:
        np.testing.assert_allclose(new.stop, stop, rtol=1e-10, atol=1e-13)


def sparse_model(rng, K, V, stop):
    """A random model with exact zeros (as hard EM produces), rows still summing to one."""
    def rows(n, width):
        p = rng.dirichlet(np.ones(width), size=n) * (rng.random((n, width)) < 0.6)
        p[np.arange(n), rng.integers(0, width, n)] += 0.1                  # at least one entry > 0
        return p / p.sum(axis=1, keepdims=True)
    both = rows(K, K + int(stop))
    return hmm.HMM(rows(1, K)[0], both[:, :K], rows(K, V), both[:, K] if stop else None)


def test_models_with_zeros_match_enumeration_including_impossible_sequences():
    rng = np.random.default_rng(99)
    impossible = 0
    for i in range(30):
        m = sparse_model(rng, int(rng.integers(1, 4)), 3, stop=bool(i % 2))
        x = rng.integers(0, 3, size=int(rng.integers(1, 5)))
        paths, probs = enumerate_paths(m, x)
        ll = hmm.log_likelihood(m, [x])
        path, score = hmm.viterbi(m, x)
        if probs.sum() == 0:
            impossible += 1
            assert ll == -np.inf and score == -np.inf
            with pytest.raises(ValueError, match="probability zero"):
                hmm.expected_counts(m, [x])
            continue
        np.testing.assert_allclose(ll, np.log(probs.sum()), rtol=1e-12)
        np.testing.assert_allclose(score, np.log(probs.max()), rtol=1e-12)
        assert joint(m, x, path) == pytest.approx(probs.max(), rel=1e-12)
        for method in ("soft", "hard"):
            ref = brute_counts(m, [x], method)
            got = hmm.expected_counts(m, [x], method)
            for k in ref:
                np.testing.assert_allclose(got[k], ref[k], rtol=1e-10, atol=1e-12, err_msg=k)
    assert 0 < impossible < 30                                     # both branches were exercised


# ------------------------------------------------------------------ properties
def synthetic(stop, n=30, length=12, seed=0):
    truth = hmm.HMM.random(3, 5, seed, stop=stop)
    return hmm.sample(truth, n, length, rng=seed + 1)[0]


@pytest.mark.parametrize("stop", [False, True])
@pytest.mark.parametrize("method", ["soft", "hard", "stochastic"])
def test_expected_counts_sum_to_tokens_and_transitions(stop, method):
    corpus = synthetic(stop)
    m = hmm.HMM.random(3, 5, 7, stop=stop)
    c = hmm.expected_counts(m, corpus, method, rng=1)
    n_tok = sum(len(x) for x in corpus)
    np.testing.assert_allclose(c["emit"].sum(), n_tok, rtol=1e-12)
    np.testing.assert_allclose(c["trans"].sum(), n_tok - len(corpus), rtol=1e-12)
    np.testing.assert_allclose(c["start"].sum(), len(corpus), rtol=1e-12)
    if stop:
        np.testing.assert_allclose(c["stop"].sum(), len(corpus), rtol=1e-12)
    # the counts of each symbol, summed over states, are that symbol's frequency
    np.testing.assert_allclose(c["emit"].sum(axis=0), np.bincount(np.concatenate(corpus), minlength=5))


def test_posteriors_sum_to_one_and_xi_marginalizes_to_gamma():
    m = hmm.HMM.random(4, 6, 3, stop=True)
    x = hmm.sample(m, 1, 40, rng=4)[0][0]
    gamma, xi = hmm.posteriors(m, x)
    np.testing.assert_allclose(gamma.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_allclose(xi.sum(axis=2), gamma[:-1], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(xi.sum(axis=1), gamma[1:], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("stop", [False, True])
def test_uniform_initialization_is_a_fixed_point(stop):
    corpus = synthetic(stop, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        res = em.fit(hmm.HMM.uniform(3, 5, stop=stop), corpus, max_iter=5, tol=0, keep_models=True)
    for model in res.models:
        for name, p in model.params().items():             # every state stays identical
            np.testing.assert_allclose(p, np.broadcast_to(p[:1], p.shape), rtol=1e-12, err_msg=name)
    # after the first step (emissions become the unigram frequencies) nothing moves
    freq = np.bincount(np.concatenate(corpus), minlength=5) / sum(len(x) for x in corpus)
    np.testing.assert_allclose(res.models[1].emit[0], freq, rtol=1e-12)
    assert max(res.param_changes[1:]) < 1e-12


def test_ffbs_samples_paths_from_the_posterior():
    m = hmm.HMM.random(2, 3, 21, stop=True)
    x = np.array([0, 2, 1])
    paths, probs = enumerate_paths(m, x)
    n = 20000
    counts = hmm.expected_counts(m, [x] * n, "stochastic", rng=5)
    ref = brute_counts(m, [x], "soft")
    for k in ("start", "stop", "emit", "trans"):               # sampled counts / n → expected counts
        np.testing.assert_allclose(counts[k] / n, ref[k], atol=0.02, err_msg=k)


@pytest.mark.parametrize("stop", [False, True])
def test_sample_draws_sequences_with_the_model_probabilities(stop):
    m = hmm.HMM.random(2, 2, 31, stop=stop)
    xs, ys = hmm.sample(m, 20000, 2 if not stop else 50, rng=3)
    assert all(len(x) == len(y) for x, y in zip(xs, ys, strict=True))
    if not stop:
        assert {len(x) for x in xs} == {2}
    seqs = [(0,), (1,), (0, 1), (1, 1)] if stop else [(0, 0), (0, 1), (1, 0), (1, 1)]
    for s in seqs:
        freq = np.mean([tuple(x) == s for x in xs])
        np.testing.assert_allclose(freq, np.exp(hmm.log_likelihood(m, [np.array(s)])), atol=0.012)
    if stop:   # state of each step emitted and moved as the model says: first-state frequencies
        np.testing.assert_allclose(np.bincount([y[0] for y in ys]) / len(ys), m.start, atol=0.012)


def test_sample_with_stop_draws_lengths_with_the_model_mean():
    m = hmm.HMM.random(3, 4, 0, stop=True)
    xs, _ = hmm.sample(m, 4000, rng=1)                          # no cap: the model decides when to stop
    lengths = np.array([len(x) for x in xs])
    expected = m.start @ np.linalg.inv(np.eye(3) - m.trans) @ np.ones(3)   # E[T] of an absorbing chain
    np.testing.assert_allclose(lengths.mean(), expected, atol=4 * lengths.std() / np.sqrt(len(xs)))


def test_sample_with_stop_caps_length():
    m = hmm.HMM([1.0], [[0.99]], [[0.5, 0.5]], stop=[0.01])
    xs, _ = hmm.sample(m, 50, 7, rng=0)
    assert max(len(x) for x in xs) == 7


def test_informed_is_the_smoothed_supervised_mle():
    xs = [np.array([0, 1, 1]), np.array([2, 0])]
    ys = [np.array([0, 0, 1]), np.array([1, 1])]
    m = hmm.HMM.informed(xs, ys, K=2, V=3, smoothing=0.5, stop=True)
    # by hand: start counts (1, 1) + .5; [trans | stop] counts (1, 1 | 0) and (0, 1 | 2), plus 0.5 each;
    # emit counts (1, 1, 0) and (1, 1, 1), plus 0.5 each
    np.testing.assert_allclose(m.start, [0.5, 0.5])
    np.testing.assert_allclose(np.column_stack([m.trans, m.stop]), [[1.5, 1.5, 0.5], [0.5, 1.5, 2.5]]
                               / np.array([[3.5], [4.5]]))
    np.testing.assert_allclose(m.emit, np.array([[1.5, 1.5, 0.5], [1.5, 1.5, 1.5]]) / [[3.5], [4.5]])


def test_models_are_immutable_values():
    m = hmm.HMM.uniform(2, 2)
    with pytest.raises(ValueError):
        m.trans[0, 0] = 1.0


# ------------------------------------------------------------------ bad input
GOOD = dict(start=[0.5, 0.5], trans=[[0.9, 0.1], [0.2, 0.8]], emit=[[0.5, 0.5], [0.1, 0.9]])


@pytest.mark.parametrize("change,message", [
    (dict(start=[0.5, 0.6]), r"start sums to 1\.1, not 1"),
    (dict(start=[[0.5, 0.5]]), r"start must be 1-dimensional"),
    (dict(start=[]), r"start must have at least one state"),
    (dict(trans=[[0.9, 0.1]]), r"trans must have shape \(2, 2\)"),
    (dict(trans=[[0.9, 0.1], [0.3, 0.8]]), r"trans row 1 sums to 1\.1, not 1"),
    (dict(trans=[[1.1, -0.1], [0.2, 0.8]]), r"trans has a negative entry .* index \(0, 1\)"),
    (dict(emit=[[0.5, np.nan], [0.1, 0.9]]), r"emit contains NaN at index \(0, 1\)"),
    (dict(emit=[[0.5, 0.5]]), r"emit must have shape \(2, V\)"),
    (dict(emit=[[0.5, 0.5], [0.1, 0.8]]), r"emit row 1 sums to 0\.9"),
    (dict(emit=[[0.5, np.inf], [0.1, 0.9]]), r"emit contains an infinite value"),
    (dict(stop=[0.1, 0.1]), r"trans row 0 plus stop sums to 1\.1"),
    (dict(stop=[0.1]), r"stop must have shape \(2,\)"),
])
def test_invalid_parameters_raise_naming_the_array_and_row(change, message):
    with pytest.raises(ValueError, match=message):
        hmm.HMM(**{**GOOD, **change})


def test_rows_must_sum_to_one_within_1e_8():
    hmm.HMM([0.5, 0.5 + 5e-9], GOOD["trans"], GOOD["emit"])                 # inside the tolerance
    hmm.HMM(GOOD["start"], [[0.9, 0.1 - 5e-9], [0.2, 0.8]], GOOD["emit"])
    with pytest.raises(ValueError, match="trans row 0 sums to"):
        hmm.HMM(GOOD["start"], [[0.9, 0.1 - 5e-8], [0.2, 0.8]], GOOD["emit"])


def test_a_prepared_corpus_is_reused_and_revalidated_for_another_vocabulary():
    m = hmm.HMM(**GOOD)
    corpus = m.prepare([np.array([0, 1, 1]), np.array([1, 0])])
    assert m.prepare(corpus) is corpus
    np.testing.assert_allclose(hmm.log_likelihood(m, corpus), hmm.log_likelihood(m, [[0, 1, 1], [1, 0]]))
    one_symbol = hmm.HMM([1.0], [[1.0]], [[1.0]])
    with pytest.raises(ValueError, match="sequence 0 position 1 has symbol 1"):
        one_symbol.prepare(corpus)


def test_bad_corpora_raise_naming_sequence_and_position():
    m = hmm.HMM(**GOOD)
    with pytest.raises(ValueError, match=r"sequence 1 position 2 has symbol 2, outside the vocabulary"):
        hmm.log_likelihood(m, [[0, 1], [1, 0, 2]])
    with pytest.raises(ValueError, match="corpus is empty"):
        hmm.log_likelihood(m, [])
    with pytest.raises(ValueError, match="sequence 0 is empty"):
        em.fit(m, [[]])
    with pytest.raises(ValueError, match=r"sequence position 0 has symbol -1"):
        hmm.viterbi(m, [-1, 0])
    with pytest.raises(ValueError, match="integer symbols"):
        hmm.posteriors(m, [0.5, 1])
    with pytest.raises(ValueError, match="method must be one of"):
        m.e_step(m.prepare([[0, 1]]), "fuzzy", None)
    with pytest.raises(ValueError, match="length is required"):
        hmm.sample(m, 3)
    with pytest.raises(ValueError, match="K must be a positive integer"):
        hmm.HMM.random(0, 3)
    with pytest.raises(ValueError, match="sequence 1 has 2 symbols but 1 states"):
        hmm.HMM.informed([[0], [0, 1]], [[0], [1]], 2, 2)
    with pytest.raises(ValueError, match="states of sequence 0 position 0 has symbol 5"):
        hmm.HMM.informed([[0]], [[5]], 2, 2)


def test_zero_probability_sequence_gives_minus_inf_and_the_e_step_refuses():
    # state 0 only emits 0, state 1 only emits 1, and 0 never moves to 1
    m = hmm.HMM([1.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]])
    corpus = [[0, 0], [0, 1, 0], [0]]
    assert hmm.log_likelihood(m, corpus) == -np.inf
    assert hmm.log_likelihood(m, [[0, 0], [0]]) == 0.0
    path, score = hmm.viterbi(m, [0, 1])
    assert score == -np.inf
    with pytest.raises(ValueError, match="sequence 1 has probability zero"):
        m.e_step(m.prepare(corpus), "soft", None)
    with pytest.raises(ValueError, match="sequence 1 has probability zero"):
        em.fit(m, corpus, method="hard")
    with pytest.raises(ValueError, match="probability zero"):
        hmm.posteriors(m, [0, 1])
    # with STOP: a state that can never stop makes every sequence ending there impossible
    ms = hmm.HMM([1.0], [[1.0]], [[1.0]], stop=[0.0])
    assert hmm.log_likelihood(ms, [[0, 0]]) == -np.inf


def test_all_zero_count_rows_keep_previous_parameters():
    # state 1 is never visited, so its rows keep their values instead of becoming NaN
    m = hmm.HMM([1.0, 0.0], [[1.0, 0.0], [0.3, 0.7]], [[0.5, 0.5], [0.2, 0.8]])
    new = m.m_step(hmm.expected_counts(m, [[0, 1, 1]]))
    np.testing.assert_array_equal(new.trans[1], [0.3, 0.7])
    np.testing.assert_array_equal(new.emit[1], [0.2, 0.8])
    np.testing.assert_allclose(new.emit[0], [1 / 3, 2 / 3])


# ---------------------------------------------------------------- bad input, found by trying


def test_sample_refuses_a_reachable_state_that_cannot_reach_stop():
    # state 1 is reachable from state 0 but only loops on itself: a draw without a cap never ends
    m = hmm.HMM([1.0, 0.0], [[0.5, 0.4], [0.0, 1.0]], [[0.5, 0.5], [0.5, 0.5]], stop=[0.1, 0.0])
    with pytest.raises(ValueError, match="state 1 can be reached from start but can never reach STOP"):
        hmm.sample(m, 3, rng=0)
    xs, ys = hmm.sample(m, 3, length=5, rng=0)                  # with a cap it is fine
    assert all(len(x) <= 5 for x in xs)
    # an unreachable stuck state does not matter
    ok = hmm.HMM([1.0, 0.0], [[0.5, 0.0], [0.0, 1.0]], [[0.5, 0.5], [0.5, 0.5]], stop=[0.5, 0.0])
    assert all(set(y.tolist()) == {0} for y in hmm.sample(ok, 20, rng=1)[1])


def test_backward_of_an_impossible_sequence_is_refused_like_posteriors_and_the_tables_stay_exact():
    m = hmm.HMM([1.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                          # no RuntimeWarning either
        with pytest.raises(ValueError, match="probability zero"):
            hmm.backward(m, [0, 1])
        # β_1 = 1; β_0(i) = Σ_j q(j|i) e(1|j): 0 for state 0 (it stays and emits 0), 1 for state 1
        np.testing.assert_array_equal(hmm.backward_table(m, [0, 1]), [[0.0, 1.0], [1.0, 1.0]])
        np.testing.assert_array_equal(hmm.forward_table(m, [0, 1]), [[1.0, 0.0], [0.0, 0.0]])
        # x = 0 1 0: β_1 = [1, 0] (only state 0 emits the last 0), then nothing explains "1 then 0"
        np.testing.assert_array_equal(hmm.backward_table(m, [0, 1, 0]), [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])


@pytest.mark.parametrize("value, error", [(0, ValueError), (-1, ValueError), (np.nan, ValueError),
                                          (None, TypeError), ("1", TypeError)])
def test_random_names_a_bad_concentration(value, error):
    with pytest.raises(error, match="concentration must be"):
        hmm.HMM.random(2, 2, rng=0, concentration=value)


def test_informed_names_a_negative_smoothing():
    with pytest.raises(ValueError, match=r"smoothing must be in \[0, inf\]"):
        hmm.HMM.informed([[0]], [[0]], 2, 2, smoothing=-1)


def test_denormal_emissions_give_the_true_finite_log_likelihood():
    tiny = 5e-324                                               # the smallest positive double
    m = hmm.HMM([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]], [[1 - tiny, tiny], [1 - tiny, tiny]])
    # every path emits symbol 1 twice with probability tiny each: p(x) = tiny² · 1, by hand
    expected = 2 * np.log(tiny)
    assert hmm.log_likelihood(m, [1, 1, 0]) == pytest.approx(expected, rel=1e-12)
    gamma, _ = hmm.posteriors(m, [1, 1, 0])
    np.testing.assert_allclose(gamma, 0.5, rtol=1e-12)
    assert hmm.viterbi(m, [1, 1, 0])[1] == pytest.approx(expected + 3 * np.log(0.5), rel=1e-12)


def test_a_ragged_item_is_named():
    m = hmm.HMM.uniform(2, 2)
    with pytest.raises(ValueError, match="sequence 1 must be a 1-D sequence .* ragged"):
        hmm.log_likelihood(m, [[0, 1], [[0, 1], [1]]])
