"""emlab.gradient: the identity "∇ log p(x) = expected counts − model counts" against finite
differences, and gradient ascent against EM."""

import warnings

import numpy as np
import pytest

from emlab import em, gradient, hmm, mixture


@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_identity_matches_finite_differences_mixture(seed):
    rng = np.random.default_rng(seed)
    model = mixture.CategoricalMixture.random(3, 4, rng=rng)
    X = rng.integers(0, 5, size=(6, 4))
    X[:, 1] += 1
    _, grad = gradient.log_likelihood_and_gradient(model, model.prepare(X))
    fd = gradient.finite_difference_gradient(model, X)
    for k in grad:
        np.testing.assert_allclose(grad[k], fd[k], atol=1e-6)


pytestmark = pytest.mark.filterwarnings("ignore::emlab.em.NotConvergedWarning")


def test_gradient_identity_matches_finite_differences_hmm():
    rng = np.random.default_rng(3)
    model = hmm.HMM.random(2, 3, rng=rng)
    seqs = [rng.integers(0, 3, size=6), rng.integers(0, 3, size=4)]
    _, grad = gradient.log_likelihood_and_gradient(model, model.prepare(seqs))
    fd = gradient.finite_difference_gradient(model, seqs)
    for k in grad:
        np.testing.assert_allclose(grad[k], fd[k], atol=1e-6)


def test_gradient_vanishes_at_an_em_fixed_point():
    X, start = mixture.two_coins_example()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        fitted = em.fit(start, X, max_iter=400, tol=0).model
    _, grad = gradient.log_likelihood_and_gradient(fitted, fitted.prepare(X))
    assert max(np.max(np.abs(g)) for g in grad.values()) < 1e-6
    _, grad0 = gradient.log_likelihood_and_gradient(start, start.prepare(X))
    assert np.max(np.abs(grad0["probs"])) > 1  # and it does not vanish where EM still moves


def test_gradient_ascent_reaches_the_em_optimum_monotonically():
    rng = np.random.default_rng(5)
    truth = mixture.CategoricalMixture([0.4, 0.6], [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    X, _ = truth.sample(40, 8, rng=rng)
    start = mixture.CategoricalMixture([0.5, 0.5], [[0.4, 0.3, 0.3], [0.3, 0.3, 0.4]])
    ga = gradient.gradient_ascent(start, X, max_iter=2000, tol=1e-13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        ref = em.fit(start, X, max_iter=2000, tol=1e-13)
    assert np.all(np.diff(ga.log_likelihoods) >= -1e-10)
    assert ga.log_likelihood == pytest.approx(ref.log_likelihood, abs=1e-5)
    assert ga.n_evaluations >= ga.n_iter


def test_gradient_rejects_categoricals_spanning_two_arrays():
    rng = np.random.default_rng(0)
    model = hmm.HMM.random(2, 3, rng=rng, stop=True)
    with pytest.raises(ValueError, match="'trans' does not have categoricals along its last axis"):
        gradient.log_likelihood_and_gradient(model, model.prepare([np.array([0, 1, 2])]))


def test_softmax_of_log_is_identity_and_handles_zeros():
    p = np.array([[0.2, 0.0, 0.8], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(gradient.softmax(gradient.logits({"p": p})["p"]), p)
    with pytest.raises(ValueError, match="step"):
        gradient.gradient_ascent(mixture.two_coins_example()[1], mixture.two_coins_example()[0], step=0)


def test_fixed_step_without_backtracking_can_lower_L_but_backtracking_never_does():
    rng = np.random.default_rng(5)
    truth = mixture.CategoricalMixture([0.4, 0.6], [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    X, _ = truth.sample(40, 8, rng=rng)
    start = mixture.CategoricalMixture([0.5, 0.5], [[0.4, 0.3, 0.3], [0.3, 0.3, 0.4]])
    fixed = gradient.gradient_ascent(start, X, step=50, max_iter=20, backtrack=False)
    assert np.min(np.diff(fixed.log_likelihoods)) < -1.0
    assert fixed.evaluations == list(range(1, 22))          # one E-step per iteration
    safe = gradient.gradient_ascent(start, X, step=50, max_iter=20)
    assert np.all(np.diff(safe.log_likelihoods) >= -1e-9)
    assert safe.evaluations[-1] == safe.n_evaluations and np.all(np.diff(safe.evaluations) >= 1)
