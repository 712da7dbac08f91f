"""MAP-EM with Dirichlet priors (emlab.priors): closed forms, monotonicity, stationarity."""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import logsumexp

from emlab import em, hmm, mixture, priors


def one_categorical(V):
    return mixture.CategoricalMixture([1.0], [np.full(V, 1.0 / V)])


@pytest.mark.parametrize("seed", range(6))
def test_single_categorical_closed_form(seed):
    rng = np.random.default_rng(seed)
    V = int(rng.integers(2, 6))
    c = rng.integers(0, 6, size=V)
    alpha = 1 + 3 * rng.random()
    res = em.fit(priors.MAP(one_categorical(V), alpha), c[None, :])
    expected = (c + alpha - 1) / (c.sum() + V * (alpha - 1))
    assert np.allclose(res.model.model.probs[0], expected)
    # ... and it is the maximizer of Σ (c + α − 1) log θ over the simplex: no random point beats it
    f = lambda p: float(np.sum((c + alpha - 1) * np.log(p)))  # noqa: E731
    others = rng.dirichlet(np.ones(V), size=2000)
    assert f(expected) >= max(f(p) for p in others)


def test_alpha_one_is_maximum_likelihood():
    start = hmm.HMM.random(2, 4, rng=3)
    xs, _ = hmm.sample(hmm.HMM.random(2, 4, rng=4), 5, 12, rng=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        plain = em.fit(start, xs, max_iter=15)
        flat = em.fit(priors.MAP(start, 1.0), xs, max_iter=15)
    assert np.allclose(plain.log_likelihoods, flat.log_likelihoods)
    assert np.allclose(plain.model.emit, flat.model.model.emit)


def log_posterior_by_hand(m, xs, alpha):
    lp = hmm.log_likelihood(m, xs)
    for p in (m.start, m.trans, m.emit) + ((m.stop,) if m.stop is not None else ()):
        lp += (alpha - 1) * np.sum(np.log(p))
    return lp


@pytest.mark.parametrize("seed", range(4))
def test_map_em_is_monotone_in_the_log_posterior(seed):
    xs, _ = hmm.sample(hmm.HMM.random(3, 5, rng=seed, stop=True), 4, rng=seed + 10, length=30)
    alpha = 1.5
    with warnings.catch_warnings():
        warnings.simplefilter("error", em.LikelihoodDecreaseWarning)
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        res = em.fit(priors.MAP(hmm.HMM.random(3, 5, rng=seed + 20, stop=True), alpha), xs,
                     max_iter=40, keep_models=True)
    by_hand = [log_posterior_by_hand(m.model, xs, alpha) for m in res.models]
    assert np.allclose(res.objectives, by_hand)          # its objective is the log posterior
    assert np.allclose(res.log_likelihoods, [hmm.log_likelihood(m.model, xs) for m in res.models])
    assert np.all(np.diff(by_hand) >= -1e-9 * abs(by_hand[0]))
    assert by_hand[-1] > by_hand[0]


def test_map_em_fixed_point_is_a_maximum_of_the_log_posterior():
    """At convergence no direction of the softmax logits raises log p(x|θ) + Σ(α−1) log θ
    (checked by an independent optimizer started at the MAP-EM answer)."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, size=(15, 3))
    alpha = 2.0
    res = em.fit(priors.MAP(mixture.CategoricalMixture.random(2, 3, rng=1), alpha), X,
                 max_iter=5000, tol=1e-14)

    def neg_log_post(z):
        lw, lp = z[:2] - logsumexp(z[:2]), (z[2:].reshape(2, 3) - logsumexp(z[2:].reshape(2, 3), axis=1,
                                                                             keepdims=True))
        ll = logsumexp(lw[None, :] + X @ lp.T, axis=1).sum()
        return -(ll + (alpha - 1) * (lw.sum() + lp.sum()))

    m = res.model.model
    z0 = np.r_[np.log(m.weights), np.log(m.probs).ravel()]
    best = minimize(neg_log_post, z0, method="BFGS")
    assert -best.fun <= -neg_log_post(z0) + 1e-7
    assert np.isclose(-neg_log_post(z0), res.objectives[-1])


@pytest.mark.parametrize("method", ["soft", "hard"])
def test_map_em_may_lower_the_likelihood_without_a_warning(method):
    """Started at the maximum-likelihood estimate, a prior pulls the parameters away from it: the
    log-likelihood falls (``log_likelihoods`` are the data's), the log posterior rises
    (``objectives``), and ``em.fit`` watches the latter, so nothing warns."""
    rng = np.random.default_rng(4)
    X = rng.integers(0, 6, size=(12, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        mle = em.fit(mixture.CategoricalMixture.random(2, 3, rng=2), X, method=method,
                     max_iter=3000, tol=1e-13).model
        warnings.simplefilter("error", em.LikelihoodDecreaseWarning)
        res = em.fit(priors.MAP(mle, 5.0), X, method=method, max_iter=50, keep_models=True)
    assert res.log_likelihoods[-1] < res.log_likelihoods[0] - 1e-3
    assert np.allclose(res.log_likelihoods, [mixture.log_likelihood(m.model, X) for m in res.models])
    assert np.all(np.diff(res.objectives) >= -1e-9 * abs(res.objectives[0]))
    assert res.objectives[-1] > res.objectives[0]


def test_prior_keeps_a_never_seen_event_possible():
    # one training sequence that ends in state-0 symbols only: the MLE of q(STOP | 1) collapses
    x = [np.array([0, 0, 1, 1, 0, 0, 1, 1, 0])]
    start = hmm.HMM([0.5, 0.5], [[0.6, 0.3], [0.3, 0.6]], [[0.9, 0.1], [0.1, 0.9]], stop=[0.1, 0.1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        mle = em.fit(start, x, max_iter=200).model
        mapped = em.fit(priors.MAP(start, {"trans": 2.0, "stop": 2.0}), x, max_iter=200).model.model
    assert mle.stop[1] < 1e-6
    # one pseudo-count per cell of each [trans | stop] row keeps every stop probability ≥ 1 / (c + 3)
    assert mapped.stop[1] > 1 / (len(x[0]) + 3)


def test_log_prior_values():
    p = {"a": np.array([0.5, 0.5]), "b": np.array([[1.0, 0.0]])}
    assert priors.log_prior(p, 1.0) == 0.0                         # flat prior, even with a zero
    assert priors.log_prior(p, {"a": 3.0}) == pytest.approx(2 * 2 * np.log(0.5))
    assert priors.log_prior(p, 2.0) == -np.inf                     # θ = 0 under α > 1


def test_bad_alpha():
    m = hmm.HMM.random(2, 3, rng=0)
    with pytest.raises(ValueError, match="below 1"):
        priors.MAP(m, 0.5)
    with pytest.raises(ValueError, match="not parameter arrays"):
        priors.MAP(m, {"emission": 2.0})
    with pytest.raises(ValueError, match="broadcast"):
        priors.MAP(m, {"emit": np.ones(5) * 2})
    with pytest.raises(TypeError, match="model"):
        priors.MAP("not a model", 2.0)
    with pytest.raises(TypeError, match="params"):
        priors.log_prior([0.5, 0.5], 2.0)
