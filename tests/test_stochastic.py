"""MCEM and SAEM (emlab.stochastic, notebook 07): with a growing Monte Carlo sample or decreasing
steps the iterates settle on soft EM's fixed point; with one sample per iteration they do not."""

import warnings

import numpy as np
import pytest

from emlab import em, hmm, mixture, stochastic


def _soft_fixed_point(model, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        return em.fit(model, data, max_iter=2000, tol=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_saem_reaches_the_soft_em_fixed_point_on_two_coins(seed):
    X, coins = mixture.two_coins_example()
    target = np.sort(_soft_fixed_point(coins, X).model.probs[:, 0])   # θ_A ≈ 0.80, θ_B ≈ 0.52 (or swapped)
    run = stochastic.saem(coins, X, max_iter=3000, exponent=0.7, rng=seed)
    assert np.allclose(np.sort(run.model.probs[:, 0]), target, atol=0.01)


def test_saem_fluctuations_shrink_while_stochastic_em_keeps_jumping():
    X, coins = mixture.two_coins_example()
    saem = stochastic.saem(coins, X, max_iter=2000, rng=0, keep_models=True)
    sem = stochastic.mcem(coins, X, max_iter=2000, n_samples=1, rng=0, keep_models=True)
    heads = lambda run, a, b: np.array([m.probs[0, 0] for m in run.models[a:b]])  # noqa: E731
    # stochastic EM: as much spread late as early (a stationary Markov chain) ...
    assert np.std(heads(sem, 1500, 2001)) > 0.5 * np.std(heads(sem, 500, 1000))
    assert np.std(heads(sem, 1500, 2001)) > 0.02
    # ... SAEM: the spread collapses
    assert np.std(heads(saem, 1500, 2001)) < 0.2 * np.std(heads(saem, 10, 100))
    assert np.std(heads(saem, 1500, 2001)) < 0.01


def test_mcem_with_growing_samples_reaches_soft_em_on_an_hmm():
    truth = hmm.HMM([0.6, 0.4], [[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    seqs, _ = hmm.sample(truth, 10, 30, rng=0)
    start = hmm.HMM([0.5, 0.5], [[0.7, 0.3], [0.3, 0.7]], [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]])
    soft = _soft_fixed_point(start, seqs)
    run = stochastic.mcem(start, seqs, max_iter=40, n_samples=stochastic.geometric_samples(2, 1.15, cap=200),
                          rng=0)
    assert run.n_samples[0] == 2 and run.n_samples[-1] == 200
    assert abs(run.log_likelihood - soft.log_likelihood) < 0.05
    assert np.max(np.abs(run.model.emit - soft.model.emit)) < 0.03


def test_mcem_with_one_sample_is_stochastic_em_not_an_ascent():
    truth = hmm.HMM([0.6, 0.4], [[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    seqs, _ = hmm.sample(truth, 10, 30, rng=0)
    run = stochastic.mcem(truth, seqs, max_iter=200, n_samples=1, rng=1)
    steps = np.diff(run.log_likelihoods[100:])
    assert 0.25 < np.mean(steps < 0) < 0.75         # about as often down as up once stationary


def test_same_seed_same_run():
    X, coins = mixture.two_coins_example()
    a = stochastic.saem(coins, X, max_iter=50, rng=3)
    b = stochastic.saem(coins, X, max_iter=50, rng=np.random.default_rng(3))
    assert a.log_likelihoods == b.log_likelihoods


def test_schedules():
    assert [stochastic.geometric_samples(1, 2.0, cap=5)(t) for t in range(5)] == [1, 2, 4, 5, 5]
    g = stochastic.saem_steps(6, exponent=1.0, burn_in=2)
    assert np.allclose(g, [1, 1, 1, 1 / 2, 1 / 3, 1 / 4])


@pytest.mark.parametrize("kwargs, word", [({"exponent": 0.5}, "exponent"), ({"exponent": 1.5}, "exponent"),
                                          ({"burn_in": -1}, "burn_in"), ({"max_iter": -1}, "max_iter")])
def test_saem_bad_arguments(kwargs, word):
    X, coins = mixture.two_coins_example()
    with pytest.raises(ValueError, match=word):
        stochastic.saem(coins, X, **kwargs)


def test_mcem_bad_arguments():
    X, coins = mixture.two_coins_example()
    with pytest.raises(ValueError, match="n_samples"):
        stochastic.mcem(coins, X, n_samples=0)
    with pytest.raises(TypeError, match="n_samples"):
        stochastic.mcem(coins, X, n_samples="many")
    with pytest.raises(ValueError, match="growth"):
        stochastic.geometric_samples(1, 0.5)


def test_a_capped_schedule_stays_at_its_cap_forever():
    """m_t = min(cap, ceil(first · growth^t)) must not overflow for a long run (1.1^8000 > 1e308)."""
    m = stochastic.geometric_samples(2, 1.1, cap=50)
    assert [m(t) for t in (0, 1, 10, 8000, 10**6)] == [2, 3, 6, 50, 50]
    assert [stochastic.geometric_samples(1, 1.5)(t) for t in range(5)] == [1, 2, 3, 4, 6]  # ceil(1.5^t)
    with pytest.raises(ValueError, match="cap"):
        stochastic.geometric_samples(1, 1.1)(8000)


@pytest.mark.parametrize("call, word", [
    (lambda: stochastic.geometric_samples(1, "fast"), "growth"),
    (lambda: stochastic.geometric_samples(1, 0.9), "growth"),
    (lambda: stochastic.geometric_samples(1, float("nan")), "growth"),
    (lambda: stochastic.saem_steps(5, None), "exponent"),
    (lambda: stochastic.saem_steps(5, 0.5), "exponent"),
    (lambda: stochastic.saem_steps(5, 0.7, burn_in=-1), "burn_in"),
    (lambda: stochastic.saem_steps(True), "n must"),
    (lambda: stochastic.mcem(*mixture.two_coins_example()[::-1], max_iter=True), "max_iter"),
    (lambda: stochastic.saem(*mixture.two_coins_example()[::-1], max_iter=2.5), "max_iter"),
])
def test_bad_schedules_name_the_argument(call, word):
    with pytest.raises((ValueError, TypeError), match=word):
        call()
