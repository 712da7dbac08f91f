"""L-BFGS on the softmax logits (emlab.optimizers, notebook 08)."""

import warnings

import numpy as np
import pytest

from emlab import em, gradient, hmm, mixture, optimizers


def test_lbfgs_reaches_the_closed_form_mle_when_labels_are_determined():
    # Disjoint vocabularies: each document's component is known, L is concave in the logits and its
    # unique maximizer is the supervised MLE, computed here by hand.
    model = mixture.CategoricalMixture([0.5, 0.5], [[0.3, 0.7, 0.0, 0.0], [0.0, 0.0, 0.6, 0.4]])
    X = np.array([[3, 1, 0, 0], [2, 2, 0, 0], [0, 0, 1, 4], [4, 0, 0, 0], [0, 0, 2, 2]])
    run = optimizers.lbfgs(model, X, max_evaluations=200)
    assert run.converged
    assert np.allclose(run.model.weights, [3 / 5, 2 / 5], atol=1e-6)
    assert np.allclose(run.model.probs, [[9 / 12, 3 / 12, 0, 0], [0, 0, 3 / 9, 6 / 9]], atol=1e-6)


def test_lbfgs_ends_where_em_ends_and_the_gradient_vanishes_there():
    X, coins = mixture.two_coins_example()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        fixed = em.fit(coins, X, max_iter=1000, tol=0)
    run = optimizers.lbfgs(coins, X, max_evaluations=100)
    assert np.allclose(run.model.probs, fixed.model.probs, atol=1e-6)
    assert np.isclose(run.log_likelihood, fixed.log_likelihood, rtol=1e-10)
    numeric = gradient.finite_difference_gradient(run.model, X)      # independent of the identity
    assert np.max(np.abs(numeric["probs"])) < 1e-4
    assert np.all(numeric["weights"] == 0)                           # the coins' weights are fixed


def test_lbfgs_counts_one_e_step_per_evaluation_and_never_ends_below_its_start():
    truth = hmm.HMM.random(2, 4, rng=0)
    seqs, _ = hmm.sample(truth, 5, 20, rng=1)
    start = hmm.HMM.random(2, 4, rng=2)
    run = optimizers.lbfgs(start, seqs, max_evaluations=15)
    assert run.n_evaluations <= 16                 # scipy may overshoot maxfun by one line-search step
    assert run.evaluations[0] == 1 and np.all(np.diff(run.evaluations) >= 1)
    assert run.evaluations[-1] <= run.n_evaluations
    assert np.all(np.diff(run.log_likelihoods) > -1e-9)        # accepted iterates satisfy Wolfe: ascent
    assert np.isclose(run.log_likelihoods[0], hmm.log_likelihood(start, seqs))
    assert np.isclose(run.log_likelihood, hmm.log_likelihood(run.model, seqs))


def test_lbfgs_rejects_a_joint_categorical_and_bad_arguments():
    with_stop = hmm.HMM.random(2, 3, rng=0, stop=True)
    with pytest.raises(ValueError, match="trans"):
        optimizers.lbfgs(with_stop, [np.array([0, 1, 2])])
    X, coins = mixture.two_coins_example()
    with pytest.raises(ValueError, match="max_evaluations"):
        optimizers.lbfgs(coins, X, max_evaluations=0)
    with pytest.raises(ValueError, match="gtol"):
        optimizers.lbfgs(coins, X, gtol=-1.0)


def test_lbfgs_backs_off_a_trial_point_where_a_needed_probability_underflows_to_zero():
    # A sparse truth: the optimum drives some emissions to 0, and on this corpus one line-search trial
    # goes so far that a probability the data need underflows to 0 (log p(x) = -inf). That trial must
    # count as +inf for the minimizer (the search backs off), not raise "probability zero".
    rng = np.random.default_rng(35)
    truth = hmm.HMM.random(3, 4, rng=rng, concentration=0.2)
    seqs, _ = hmm.sample(truth, 5, 15, rng=rng)
    start = hmm.HMM.random(3, 4, rng=rng)
    run = optimizers.lbfgs(start, seqs, max_evaluations=300, gtol=1e-12, ftol=0)
    assert np.all(np.isfinite(run.log_likelihoods))
    assert np.all(np.diff(run.log_likelihoods) > -1e-9)
    assert run.log_likelihood > run.log_likelihoods[0] + 10
    assert np.isclose(run.log_likelihood, hmm.log_likelihood(run.model, seqs), rtol=1e-12)
