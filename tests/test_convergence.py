"""emlab.bound (the EM lower bound, generalized EM) and emlab.convergence (the linear rate).

References used: brute-force sums over the hidden component of a tiny mixture (Q and the KL gap),
Do & Batzoglou's published one-step numbers, the Dempster-Laird-Rubin missing-information formula
for the rate, and plain geometric sequences.
"""

import warnings

import numpy as np
import pytest
from scipy.stats import norm

from emlab import bound, convergence, em, mixture

pytestmark = pytest.mark.filterwarnings("ignore::emlab.em.NotConvergedWarning")


def small_mixture(seed):
    rng = np.random.default_rng(seed)
    model = mixture.CategoricalMixture.random(2, 3, rng=rng)
    X = rng.integers(0, 4, size=(5, 3))
    X[:, 0] += 1  # no empty items
    return model, X


def brute_joint(model, X):
    """log p(x_n, z = k) written out from the parameters, item by item (no emlab E-step)."""
    out = np.empty((X.shape[0], model.n_components))
    for n in range(X.shape[0]):
        for k in range(model.n_components):
            out[n, k] = np.log(model.weights[k]) + sum(
                X[n, v] * np.log(model.probs[k, v]) for v in range(X.shape[1]))
    return out


def brute_posterior(model, X):
    joint = brute_joint(model, X)
    return np.exp(joint - np.logaddexp.reduce(joint, axis=1, keepdims=True))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_q_difference_equals_brute_force_expectation(seed):
    model_t, X = small_mixture(seed)
    other, _ = small_mixture(seed + 100)
    est = model_t.e_step(model_t.prepare(X), "soft", None)
    got = bound.q_function(est.counts, other.params()) - bound.q_function(est.counts, model_t.params())
    post = brute_posterior(model_t, X)
    want = float(np.sum(post * (brute_joint(other, X) - brute_joint(model_t, X))))
    assert got == pytest.approx(want, rel=1e-10, abs=1e-10)


def coin_a_family(theta_b=0.5):
    return lambda a: mixture.CategoricalMixture([0.5, 0.5], [[a, 1 - a], [theta_b, 1 - theta_b]],
                                                learn_weights=False)


def test_bound_below_likelihood_on_a_grid_and_touching_at_theta_t():
    X, _ = mixture.two_coins_example()
    grid = np.round(np.linspace(0.02, 0.98, 49), 10)
    for theta_t in (0.1, 0.3, 0.6, 0.9):
        res = bound.bound_on_path(coin_a_family(), X, np.append(grid, theta_t), theta_t)
        assert np.all(res.bound <= res.log_likelihoods + 1e-12)
        at = np.flatnonzero(res.thetas == theta_t)[0]
        assert res.bound[at] == pytest.approx(res.log_likelihoods[at], abs=1e-12)
        # and strictly below away from θ_t: the posterior changes with θ, so the gap (a KL) is > 0
        away = np.abs(res.thetas - theta_t) > 0.05
        assert np.all(res.gap[away] > 1e-6)


def test_gap_is_the_kl_divergence_between_posteriors():
    X, _ = mixture.two_coins_example()
    fam = coin_a_family()
    res = bound.bound_on_path(fam, X, [0.2, 0.45, 0.8], 0.6)
    p_t = brute_posterior(fam(0.6), X)
    for theta, gap in zip(res.thetas, res.gap, strict=True):
        p = brute_posterior(fam(theta), X)
        kl = float(np.sum(p_t * np.log(p_t / p)))
        assert gap == pytest.approx(kl, rel=1e-9)


def test_bound_maximizer_is_the_published_first_em_step():
    # Do & Batzoglou (2008) fig. 1b: from θ_A = .6, θ_B = .5 one EM step gives .71 and .58.
    X, _ = mixture.two_coins_example()
    grid = np.round(np.linspace(0.01, 0.99, 99), 10)
    res_a = bound.bound_on_path(coin_a_family(0.5), X, grid, 0.6)
    assert res_a.theta_next == pytest.approx(0.71)
    def fam_b(b):
        return mixture.CategoricalMixture([0.5, 0.5], [[0.6, 0.4], [b, 1 - b]], learn_weights=False)
    assert bound.bound_on_path(fam_b, X, grid, 0.5).theta_next == pytest.approx(0.58)


def test_partial_m_step_improves_q_less_than_the_full_step_but_never_lowers_L():
    model, X = small_mixture(3)
    prepared = model.prepare(X)
    est = model.e_step(prepared, "soft", None)
    def q(m):
        return bound.q_function(est.counts, m.params())
    full = model.m_step(est.counts)
    half = bound.PartialMStep(model, 0.5).m_step(est.counts)
    assert q(model) < q(half.model) < q(full)
    with warnings.catch_warnings():
        warnings.simplefilter("error", em.LikelihoodDecreaseWarning)
        res = em.fit(bound.PartialMStep(model, 0.2), X, max_iter=40, tol=0)
    assert np.all(np.diff(res.log_likelihoods) >= -1e-12)
    assert res.log_likelihoods[-1] > res.log_likelihoods[0]


def test_partial_m_step_with_alpha_one_is_em():
    model, X = small_mixture(4)
    a = em.fit(model, X, max_iter=15, tol=0)
    b = em.fit(bound.PartialMStep(model, 1.0), X, max_iter=15, tol=0)
    np.testing.assert_allclose(a.log_likelihoods, b.log_likelihoods, rtol=1e-12)


def test_partial_m_step_rejects_bad_alpha_and_non_categorical_models():
    model, _ = small_mixture(5)
    for alpha in (0, -0.1, 1.5, np.nan):
        with pytest.raises(ValueError, match="alpha"):
            bound.PartialMStep(model, alpha)
    g = mixture.GaussianMixture([0.5, 0.5], [[0.0], [3.0]], 1.0)
    with pytest.raises(ValueError, match="does not reproduce parameter array"):
        bound.with_params(g, g.params())


def test_frozen_arrays_finds_fixed_weights():
    _, coins = mixture.two_coins_example()
    assert bound.frozen_arrays(coins) == {"weights"}
    model, _ = small_mixture(6)
    assert bound.frozen_arrays(model) == set()


# ------------------------------------------------------------------------------- convergence


def test_step_ratios_of_a_geometric_sequence_are_its_ratio():
    r = 0.83
    t = np.arange(30)
    traj = np.stack([0.4 + r**t, 1.0 - 2 * r**t], axis=1)
    np.testing.assert_allclose(convergence.step_ratios(traj)[:20], r, rtol=1e-10)
    assert convergence.estimated_rate(traj) == pytest.approx(r, rel=1e-9)


def mixing_problem(separation, n=400, seed=0):
    g = np.random.default_rng(seed)
    z = g.random(n) < 0.3
    x = g.standard_normal(n) + separation * z
    return np.stack([norm.pdf(x), norm.pdf(x, loc=separation)], axis=1)


@pytest.mark.parametrize("separation", [0.75, 1.5, 3.0])
def test_measured_rate_matches_missing_information(separation):
    f = mixing_problem(separation)
    pis = convergence.mixing_weight_em(f, 0.5, 60)
    pi_star = convergence.mixing_weight_em(f, 0.5, 5000)[-1]
    predicted = convergence.missing_information_fraction(f, pi_star)
    assert convergence.estimated_rate(pis) == pytest.approx(predicted, abs=2e-3)
    # the same number from the derivative of the EM map (an independent formula)
    assert convergence.mixing_weight_rate(f, pi_star) == pytest.approx(predicted, abs=1e-9)
    # log-likelihood increments shrink like r²
    def p(pi):
        return np.sum(np.log(pi * f[:, 1] + (1 - pi) * f[:, 0]))
    ratios = convergence.likelihood_ratios([p(pi) for pi in pis[:25]])
    finite = ratios[np.isfinite(ratios)]
    assert finite[-1] == pytest.approx(predicted**2, abs=2e-2)


def test_rate_grows_as_components_overlap():
    rates = [convergence.missing_information_fraction(f, convergence.mixing_weight_em(f, 0.5, 3000)[-1])
             for f in (mixing_problem(s) for s in (4.0, 2.0, 1.0, 0.5))]
    assert np.all(np.diff(rates) > 0) and rates[0] < 0.2 and rates[-1] > 0.8


def test_distance_to_fixed_point_predicts_the_remaining_distance():
    f = mixing_problem(1.0)
    pis = convergence.mixing_weight_em(f, 0.5, 4000)
    r = convergence.missing_information_fraction(f, pis[-1])
    t = 40
    predicted = convergence.distance_to_fixed_point(abs(pis[t] - pis[t - 1]), r)
    assert predicted == pytest.approx(abs(pis[t - 1 + 1] - pis[-1]), rel=0.02)


def test_convergence_input_errors():
    with pytest.raises(ValueError, match="T >= 3"):
        convergence.step_ratios([[0.0], [1.0]])
    with pytest.raises(ValueError, match=r"f must have shape \(N, 2\)"):
        convergence.mixing_weight_em(np.ones((3, 3)))
    with pytest.raises(ValueError, match="f row 1 is zero"):
        convergence.mixing_weight_rate([[1.0, 1.0], [0.0, 0.0]], 0.5)
    with pytest.raises(ValueError, match="rate"):
        convergence.distance_to_fixed_point(1e-3, 1.0)


def test_trajectory_from_em_models():
    model, X = small_mixture(7)
    res = em.fit(model, X, max_iter=5, tol=0, keep_models=True)
    traj = convergence.trajectory(res.models)
    assert traj.shape == (6, 2 + 6)
    np.testing.assert_allclose(np.max(np.abs(np.diff(traj, axis=0)), axis=1), res.param_changes)
