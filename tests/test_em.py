"""emlab.em: the one EM loop (fit, steps, restarts, EMResult), driven by a mixture of categoricals."""

import warnings

import numpy as np
import pytest

from emlab import em, mixture
from emlab.mixture import CategoricalMixture


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    truth = CategoricalMixture([0.3, 0.7], [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    X, _ = truth.sample(40, size=8, rng=rng)
    return X, CategoricalMixture.random(2, 3, rng)


def quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        return em.fit(*args, **kwargs)


def test_history_lengths_and_initial_entry(problem):
    X, start = problem
    res = quiet_fit(start, X, max_iter=7, tol=0.0, keep_models=True)
    assert res.n_iter == 7 and not res.converged
    assert len(res.log_likelihoods) == len(res.objectives) == len(res.models) == 8
    assert len(res.param_changes) == 7
    assert res.models[0] is start
    assert res.log_likelihoods[0] == pytest.approx(mixture.log_likelihood(start, X), rel=1e-14)
    for model, ll in zip(res.models, res.log_likelihoods, strict=True):
        assert ll == pytest.approx(mixture.log_likelihood(model, X), rel=1e-14)
    assert res.log_likelihood == res.log_likelihoods[-1]
    assert res.objectives == res.log_likelihoods  # soft EM improves log p(x) itself
    assert res.method == "soft" and isinstance(res.model, CategoricalMixture)


def test_param_changes_are_the_largest_move_of_any_parameter(problem):
    X, start = problem
    res = quiet_fit(start, X, max_iter=5, tol=0.0, keep_models=True)
    for t, change in enumerate(res.param_changes):
        a, b = res.models[t], res.models[t + 1]
        expected = max(np.abs(a.weights - b.weights).max(), np.abs(a.probs - b.probs).max())
        assert change == expected


def test_each_iterate_is_the_m_step_of_the_previous_e_step(problem):
    X, start = problem
    it = em.steps(start, X, "soft")
    model0, estep0 = next(it)
    model1, _ = next(it)
    r = mixture.posteriors(model0, X)
    np.testing.assert_allclose(model1.weights, r.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(model1.probs, (r.T @ X) / (r.T @ X).sum(axis=1, keepdims=True), rtol=1e-12)
    assert estep0.log_likelihood == pytest.approx(mixture.log_likelihood(model0, X), rel=1e-14)


def test_converged_flag_and_objective_stopping_rule(problem):
    X, start = problem
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converging must not warn
        res = em.fit(start, X, max_iter=1000, tol=1e-6)
    assert res.converged and res.n_iter < 1000
    obj = res.objectives
    assert abs(obj[-1] - obj[-2]) / abs(obj[-2]) < 1e-6
    assert all(abs(obj[t] - obj[t - 1]) / abs(obj[t - 1]) >= 1e-6 for t in range(1, len(obj) - 1))


def test_not_converged_warns(problem):
    X, start = problem
    with pytest.warns(em.NotConvergedWarning, match="did not converge in 3 iterations"):
        res = em.fit(start, X, max_iter=3, tol=0.0)
    assert not res.converged and res.n_iter == 3


def test_max_iter_zero_only_evaluates_the_start(problem):
    X, start = problem
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = em.fit(start, X, max_iter=0)
    assert res.n_iter == 0 and len(res.log_likelihoods) == 1 and res.model is start


def test_stop_on_parameter_change(problem):
    X, start = problem
    res = em.fit(start, X, max_iter=1000, tol=1e-5, stop="params")
    assert res.converged
    assert res.param_changes[-1] < 1e-5
    assert all(c >= 1e-5 for c in res.param_changes[:-1])
    by_objective = em.fit(start, X, max_iter=1000, tol=1e-5)
    assert by_objective.n_iter != res.n_iter  # the two rules stop at different places


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="viterbi"), "method must be one of"),
    (dict(stop="gradient"), "stop must be one of"),
    (dict(max_iter=-1), "max_iter must be a non-negative integer"),
    (dict(max_iter=2.5), "max_iter must be a non-negative integer"),
    (dict(tol=-1.0), "tol must be a non-negative number"),
    (dict(tol=np.nan), "tol must be a non-negative number"),
    (dict(rng="seed"), "rng must be None, an int seed or a numpy Generator"),
])
def test_fit_rejects_bad_arguments(problem, kwargs, message):
    X, start = problem
    with pytest.raises(ValueError, match=message):
        em.fit(start, X, **kwargs)


class WorseningMixture(CategoricalMixture):
    """A deliberately broken model: its M-step moves every categorical *away* from the
    normalized expected counts (towards the inverse counts), so the likelihood drops."""

    def m_step(self, counts):
        inverse = 1.0 / (counts["probs"] + 1.0)
        probs = inverse / inverse.sum(axis=1, keepdims=True)
        return WorseningMixture(self.weights, probs)


@pytest.mark.parametrize("method", ["soft", "hard"])
def test_likelihood_decrease_warning_fires_for_a_broken_m_step(method):
    X = np.array([[9, 1], [8, 2], [10, 0]])
    start = WorseningMixture([1.0], [[0.9, 0.1]])
    with pytest.warns(em.LikelihoodDecreaseWarning, match=f"{method} EM's .* decreased"):
        res = quiet_fit(start, X, method=method, max_iter=2, tol=0.0)
    assert res.log_likelihoods[1] < res.log_likelihoods[0]


def test_correct_em_never_warns_about_decrease(problem):
    X, start = problem
    with warnings.catch_warnings():
        warnings.simplefilter("error", em.LikelihoodDecreaseWarning)
        for method in ("soft", "hard", "stochastic"):
            quiet_fit(start, X, method=method, max_iter=30, rng=1)


def test_stochastic_em_is_not_watched_for_decreases():
    # stochastic EM may go down; it must not raise the bug detector
    X, start = np.array([[3, 2], [2, 3], [4, 1], [1, 4]]), CategoricalMixture.random(2, 2, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", em.LikelihoodDecreaseWarning)
        res = quiet_fit(start, X, method="stochastic", max_iter=40, tol=0.0, rng=3)
    assert np.any(np.diff(res.log_likelihoods) < 0)  # it did go down somewhere, silently


def init(rng):
    return CategoricalMixture.random(2, 3, rng)


def test_restarts_are_reproducible_and_sorted_best_first(problem):
    X, _ = problem
    a = em.restarts(init, X, n=6, rng=42, progress=False, max_iter=20)
    b = em.restarts(init, X, n=6, rng=42, progress=False, max_iter=20)
    assert len(a) == 6
    assert [r.log_likelihoods for r in a] == [r.log_likelihoods for r in b]
    finals = [r.log_likelihood for r in a]
    assert finals == sorted(finals, reverse=True)


def test_restarts_use_independent_child_generators(problem):
    X, _ = problem
    five = em.restarts(init, X, n=5, rng=7, progress=False, method="stochastic", max_iter=5)
    three = em.restarts(init, X, n=3, rng=7, progress=False, method="stochastic", max_iter=5)
    # run i does not depend on how many runs there are: the 3 runs are among the 5
    histories5 = [r.log_likelihoods for r in five]
    assert all(r.log_likelihoods in histories5 for r in three)
    # every run starts somewhere else
    starts = {round(r.log_likelihoods[0], 10) for r in five}
    assert len(starts) == 5
    # and each child is what numpy's spawn gives: run 0 = fit from init(child 0) with child 0
    child = np.random.default_rng(7).spawn(5)[0]
    direct = quiet_fit(init(child), X, method="stochastic", max_iter=5, rng=child)
    assert direct.log_likelihoods in histories5


def test_restarts_rejects_bad_n(problem):
    X, _ = problem
    with pytest.raises(ValueError, match="n must be a positive integer"):
        em.restarts(init, X, n=0, progress=False)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(tol=None), TypeError, "tol must be a number"),
    (dict(tol="1e-6"), TypeError, "tol must be a number"),
    (dict(max_iter=True), ValueError, "max_iter must be a non-negative integer"),
    (dict(method=None), ValueError, "method must be one of"),
])
def test_fit_names_arguments_of_the_wrong_type(problem, kwargs, error, message):
    X, start = problem
    with pytest.raises(error, match=message):
        em.fit(start, X, **kwargs)


def test_e_step_refuses_an_impossible_item_once_naming_it():
    # component 0 never shows symbol 1, component 1 never symbol 0: item 1 has both
    model = CategoricalMixture([0.5, 0.5], [[1.0, 0.0], [0.0, 1.0]])
    for method in em.METHODS:
        with pytest.raises(ValueError, match="item 1 has probability zero .* expected counts are undefined"):
            em.e_step(model, model.prepare([[2, 0], [1, 1]]), method, rng=0)
