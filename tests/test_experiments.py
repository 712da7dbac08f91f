"""emlab.experiments: restarts, the symmetric start, init strategies, alignment, methods side by side."""

import itertools
import warnings

import numpy as np
import pytest

from emlab import em, hmm
from emlab import experiments as ex
from emlab.mixture import CategoricalMixture, GaussianMixture


@pytest.fixture(scope="module")
def known():
    """A 2-state HMM with well-separated emissions and a corpus sampled from it."""
    true = hmm.HMM([0.6, 0.4], [[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.2, 0.1, 0.0], [0.0, 0.1, 0.2, 0.7]])
    xs, ys = hmm.sample(true, 40, 30, rng=1)
    return true, xs, ys


def quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        return em.fit(*args, **kwargs)


# ---------------------------------------------------------------- alignment up to a permutation

def brute_force_alignment(true, learned, k):
    """Try every permutation: the one with most agreements."""
    return max(np.mean(np.array(p)[learned] == true) for p in itertools.permutations(range(k)))


@pytest.mark.parametrize("seed", range(5))
def test_align_states_matches_brute_force_over_all_permutations(seed):
    rng = np.random.default_rng(seed)
    k = 4
    true = rng.integers(0, k, 200)
    perm = rng.permutation(k)
    learned = perm[true].copy()
    noisy = rng.random(200) < 0.3
    learned[noisy] = rng.integers(0, k, noisy.sum())
    a = ex.align_states(true, learned, k, k)
    assert a.accuracy == pytest.approx(brute_force_alignment(true, learned, k))
    assert a.accuracy == pytest.approx(np.mean(a.relabel(learned) == true))
    assert a.confusion.sum() == 200


def test_align_states_recovers_an_exact_permutation_on_a_corpus():
    true = [np.array([0, 1, 2, 2]), np.array([1, 0])]
    learned = [np.array([2, 0, 1, 1]), np.array([0, 2])]
    a = ex.align_states(true, learned)
    assert a.accuracy == 1.0
    assert a.mapping.tolist() == [1, 2, 0]


def test_align_states_with_more_learned_states_leaves_one_unmatched():
    a = ex.align_states([0, 0, 1, 1, 1], [2, 2, 0, 0, 1], n_true=2, n_learned=3)
    assert sorted(a.mapping.tolist()) == [-1, 0, 1]
    assert a.accuracy == pytest.approx(4 / 5)


def test_match_rows_and_permute_hmm_undo_a_relabelling(known):
    true, xs, _ = known
    perm = np.array([1, 0])
    swapped = ex.permute_hmm(true, perm)
    np.testing.assert_allclose(swapped.emit, true.emit[::-1])
    np.testing.assert_allclose(swapped.trans, [[0.8, 0.2], [0.1, 0.9]])
    # relabelling states does not change the distribution of observations
    assert hmm.log_likelihood(swapped, xs) == pytest.approx(hmm.log_likelihood(true, xs))
    back, err = ex.match_rows(true.emit, swapped.emit)
    assert err == 0.0
    np.testing.assert_allclose(ex.permute_hmm(swapped, back).trans, true.trans)


def test_soft_em_recovers_the_known_model_up_to_a_permutation(known):
    true, xs, ys = known
    runs = ex.run_restarts(ex.hmm_init("random", 2, 4), xs, n=4, rng=0, progress=False, max_iter=200)
    learned = runs.best.model
    perm, err = ex.match_rows(true.emit, learned.emit)
    assert err < 0.1
    decoded = [hmm.viterbi(learned, x)[0] for x in xs]
    assert ex.align_states(ys, decoded).accuracy > 0.9


# ---------------------------------------------------------------- restarts

def test_run_restarts_sorts_runs_and_pads_traces(known):
    _, xs, _ = known
    runs = ex.run_restarts(ex.hmm_init("random", 3, 4), xs, n=5, rng=3, progress=False, max_iter=25)
    assert np.all(np.diff(runs.final) <= 0)
    assert runs.traces.shape[0] == 5
    for r, row in zip(runs.results, runs.traces, strict=True):
        n = len(r.log_likelihoods)
        np.testing.assert_array_equal(row[:n], r.log_likelihoods)
        assert np.all(row[n:] == r.log_likelihoods[-1])
        assert np.all(np.diff(r.log_likelihoods) >= -1e-9 * abs(r.log_likelihoods[0]))  # soft EM monotone
    again = ex.run_restarts(ex.hmm_init("random", 3, 4), xs, n=5, rng=3, progress=False, max_iter=25)
    np.testing.assert_array_equal(runs.final, again.final)          # same seed, same numbers
    assert 1 <= runs.n_optima() <= 5
    assert 0 < runs.share_at_best() <= 1


def test_pad_traces_and_n_optima_on_hand_made_values():
    np.testing.assert_array_equal(ex.pad_traces([[1, 2, 3], [5]]), [[1, 2, 3], [5, 5, 5]])
    final = np.array([-10.0, -10.0001, -12.0, -15.0])
    runs = ex.RestartRuns(results=[], final=final, traces=np.zeros((4, 1)))
    assert runs.n_optima(tol=1e-3) == 3
    assert runs.share_at_best(tol=1e-3) == 0.5
    with pytest.raises(ValueError, match="traces\\[1\\] is empty"):
        ex.pad_traces([[1.0], []])


# ---------------------------------------------------------------- symmetric start and jitter

def test_uniform_start_is_a_fixed_point_whose_likelihood_is_the_unigram_models(known):
    _, xs, _ = known
    res = quiet_fit(hmm.HMM.uniform(3, 4), xs, max_iter=30, tol=0, keep_models=True)
    assert max(ex.state_spread(m) for m in res.models) < 1e-12
    x = np.concatenate(xs)
    freq = np.bincount(x, minlength=4) / x.size
    unigram = float(np.sum(np.bincount(x, minlength=4) * np.log(freq)))  # the best 1-state model
    assert res.log_likelihood == pytest.approx(unigram, rel=1e-10)


def test_jitter_leaves_the_symmetric_point_and_reaches_a_higher_likelihood(known):
    true, xs, _ = known
    start = ex.jitter(hmm.HMM.uniform(2, 4), scale=1e-3, rng=0)
    assert 0 < ex.state_spread(start) < 1e-2
    for p in start.params().values():
        np.testing.assert_allclose(np.sum(p, axis=-1), 1.0)
    stuck = quiet_fit(hmm.HMM.uniform(2, 4), xs, max_iter=100)
    # near the saddle the states drift apart geometrically: an unstable fixed point
    slow = quiet_fit(start, xs, max_iter=120, tol=0, keep_models=True)
    assert ex.state_spread(slow.models[-1]) > 50 * ex.state_spread(slow.models[1])
    moved = quiet_fit(ex.jitter(hmm.HMM.uniform(2, 4), scale=0.1, rng=0), xs, max_iter=500, tol=1e-9)
    assert moved.log_likelihood > stuck.log_likelihood + 100
    assert moved.log_likelihood > hmm.log_likelihood(true, xs)      # the MLE beats the truth on its sample


def test_jitter_keeps_zeros_and_scale_zero_changes_nothing():
    m = hmm.HMM([1.0, 0.0], [[0.5, 0.5], [0.0, 1.0]], [[0.2, 0.8], [1.0, 0.0]])
    j = ex.jitter(m, scale=0.5, rng=1)
    assert j.start[1] == 0 and j.trans[1, 0] == 0 and j.emit[1, 1] == 0
    np.testing.assert_allclose(ex.jitter(m, scale=0.0, rng=1).emit, m.emit)
    mix = ex.jitter(CategoricalMixture.uniform(2, 3), 1e-2, rng=0)
    assert isinstance(mix, CategoricalMixture) and ex.state_spread(mix) > 0


def test_state_spread_on_hand_made_models():
    same = hmm.HMM([0.5, 0.5], [[0.3, 0.7], [0.3, 0.7]], [[0.1, 0.9], [0.1, 0.9]])
    assert ex.state_spread(same) == pytest.approx(0.4)   # a row of trans is not constant: not symmetric
    assert ex.state_spread(hmm.HMM.uniform(3, 5)) == 0.0


# ---------------------------------------------------------------- initialization strategies

def test_init_strategies(known):
    true, xs, ys = known
    rng = np.random.default_rng(0)
    assert ex.state_spread(ex.hmm_init("uniform", 2, 4)(rng)) == 0
    init = ex.hmm_init("random", 2, 4)
    r1, r2 = init(np.random.default_rng(5)), init(np.random.default_rng(5))
    np.testing.assert_array_equal(r1.emit, r2.emit)
    informed = ex.hmm_init("informed", 2, 4, labelled=(xs[:3], ys[:3]))(rng)
    # the supervised MLE from three labelled sequences is already close to the truth
    assert np.max(np.abs(informed.emit - true.emit)) < 0.25
    fitted = quiet_fit(informed, xs, max_iter=200)
    assert ex.match_rows(true.emit, fitted.model.emit)[0].tolist() == [0, 1]  # no relabelling needed


def test_mixture_informed_init_is_the_smoothed_supervised_mle():
    X = np.array([[3, 1, 0], [2, 2, 0], [0, 1, 5]])
    z = np.array([0, 0, 1])
    m = ex.mixture_init("informed", 2, 3, labelled=(X, z), smoothing=1.0)(np.random.default_rng(0))
    np.testing.assert_allclose(m.weights, [3 / 5, 2 / 5])
    np.testing.assert_allclose(m.probs, [[6 / 11, 4 / 11, 1 / 11], [1 / 9, 2 / 9, 6 / 9]])
    assert ex.state_spread(ex.mixture_init("uniform", 3, 4)(np.random.default_rng(0))) == 0


@pytest.mark.parametrize("call, message", [
    (lambda: ex.hmm_init("clever", 2, 3), "kind must be one of"),
    (lambda: ex.hmm_init("informed", 2, 3), "needs labelled"),
    (lambda: ex.hmm_init("random", 0, 3), "K must be a positive integer"),
    (lambda: ex.mixture_init("informed", 2, 3, labelled=(np.ones((2, 3)), [0, 2])), "component 2"),
    (lambda: ex.jitter(hmm.HMM.uniform(2, 2), scale=-1), "scale must be"),
    (lambda: ex.jitter(GaussianMixture([0.5, 0.5], [[0.0], [1.0]])), "product of categoricals"),
    (lambda: ex.align_states([0, 1], [0]), "true has 2 labels but learned has 1"),
    (lambda: ex.align_states([0, -1], [0, 1]), "non-negative integer"),
    (lambda: ex.match_rows(np.eye(2), np.eye(3)), "does not match"),
    (lambda: ex.permute_hmm(hmm.HMM.uniform(2, 2), [0, 0]), "permutation"),
    (lambda: ex.compare_methods(hmm.HMM.uniform(2, 2), [[0, 1]], methods=("soft", "best")), "method must be"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- hard, soft, stochastic side by side

def test_compare_methods_runs_each_method_from_the_same_start(known):
    _, xs, _ = known
    start = hmm.HMM.random(2, 4, rng=2)
    runs = ex.compare_methods(start, xs, max_iter=20, rng=0)
    assert [r.method for r in runs] == ["hard", "soft", "stochastic"]
    for r in runs:
        assert r.seconds > 0 and r.n_iter == r.result.n_iter
        assert r.result.log_likelihoods[0] == pytest.approx(hmm.log_likelihood(start, xs))
        assert r.best_log_likelihood >= r.log_likelihood
    soft = runs[1]
    assert soft.objective == soft.log_likelihood
    assert runs[2].n_iter == 20                      # stochastic EM runs its full budget
    direct = quiet_fit(start, xs, method="soft", max_iter=20, tol=1e-6)
    assert soft.log_likelihood == direct.log_likelihood


def test_likelihood_drops_finds_the_hand_made_decrease():
    class R:  # a stand-in for an EMResult: L goes down at t = 2 while the objective goes up
        log_likelihoods = [-10.0, -9.0, -9.5, -9.4]
        objectives = [-12.0, -11.0, -10.0, -10.5]
    assert ex.likelihood_drops(R()).tolist() == [2]


def test_init_widget_draws_where_em_lands(known):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from emlab.widgets import draw_init_run, init_widget

    true, xs, ys = known
    res = draw_init_run(xs, "uniform", 3, 2, 4, true=true, max_iter=20)
    assert ex.state_spread(res.model) == 0                  # uniform never moves, whatever the seed
    ax = plt.gcf().axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), res.log_likelihoods)
    assert ax.lines[1].get_ydata()[0] == pytest.approx(res.log_likelihood)   # the fixed-point line
    plt.close("all")
    w = init_widget(xs, 2, 4, true=true, labelled=(xs[:2], ys[:2]), max_iter=5)
    assert list(w.children[0].options) == list(ex.INIT_STRATEGIES)
    plt.close("all")
