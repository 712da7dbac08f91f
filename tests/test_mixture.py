"""emlab.mixture: mixtures of categoricals and spherical Gaussians, checked against brute-force
enumeration, an independent k-means loop, the published two-coins figures, EM's monotonicity
over many random problems, and every DESIGN.md rule that applies to mixtures."""

import itertools
import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from emlab import em, mixture
from emlab.mixture import CategoricalMixture, GaussianMixture

SEEDS = range(50)


def fit_quiet(model, X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        warnings.simplefilter("error", em.LikelihoodDecreaseWarning)
        return em.fit(model, X, **kw)


def random_categorical_problem(seed, n=30):
    rng = np.random.default_rng(seed)
    K, V = rng.integers(2, 5), rng.integers(2, 7)
    truth = CategoricalMixture.random(K, V, rng)
    X, _ = truth.sample(n, size=rng.integers(1, 15), rng=rng)
    return X, CategoricalMixture.random(K, V, rng)


def random_gaussian_problem(seed, n=40):
    rng = np.random.default_rng(seed)
    K, D = rng.integers(2, 5), rng.integers(1, 4)
    truth = GaussianMixture(rng.dirichlet(np.ones(K)), rng.normal(0, 3, size=(K, D)), 1.0)
    X, _ = truth.sample(n, rng)
    return X, rng


# --- brute force on tiny data -------------------------------------------------------------


def brute_force_categorical(model, X):
    """Enumerate every assignment z of items to components: p(X, z) = Π_n π_{z_n} Π_v θ_{z_n v}^{x_nv}."""
    N, K = len(X), model.n_components
    joint = {}
    for z in itertools.product(range(K), repeat=N):
        p = 1.0
        for n, k in enumerate(z):
            p *= model.weights[k] * np.prod(model.probs[k] ** X[n])
        joint[z] = p
    return joint


def tiny_categorical(seed):
    rng = np.random.default_rng(seed)
    model = CategoricalMixture.random(3, 4, rng)
    X = rng.integers(0, 4, size=(4, 4))
    return model, X


@pytest.mark.parametrize("seed", range(5))
def test_categorical_log_likelihood_and_posteriors_match_enumeration(seed):
    model, X = tiny_categorical(seed)
    joint = brute_force_categorical(model, X)
    total = sum(joint.values())
    assert mixture.log_likelihood(model, X) == pytest.approx(np.log(total), rel=1e-12)
    post = np.zeros((len(X), model.n_components))
    for z, p in joint.items():
        for n, k in enumerate(z):
            post[n, k] += p / total
    np.testing.assert_allclose(mixture.posteriors(model, X), post, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed", range(5))
def test_categorical_e_steps_match_enumeration(seed):
    model, X = tiny_categorical(seed)
    joint = brute_force_categorical(model, X)
    total = sum(joint.values())
    K, V = model.probs.shape

    def counts_of(z):
        w, p = np.zeros(K), np.zeros((K, V))
        for n, k in enumerate(z):
            w[k] += 1
            p[k] += X[n]
        return w, p

    exp_w, exp_p = np.zeros(K), np.zeros((K, V))
    for z, pz in joint.items():
        w, p = counts_of(z)
        exp_w += pz / total * w
        exp_p += pz / total * p
    soft = model.e_step(model.prepare(X), "soft")
    np.testing.assert_allclose(soft.counts["weights"], exp_w, rtol=1e-10)
    np.testing.assert_allclose(soft.counts["probs"], exp_p, rtol=1e-10, atol=1e-12)
    assert soft.objective == soft.log_likelihood == pytest.approx(np.log(total), rel=1e-12)

    best = max(joint, key=joint.get)
    hard = model.e_step(model.prepare(X), "hard")
    w, p = counts_of(best)
    np.testing.assert_array_equal(hard.counts["weights"], w)
    np.testing.assert_array_equal(hard.counts["probs"], p)
    assert hard.objective == pytest.approx(np.log(joint[best]), rel=1e-12)
    assert hard.log_likelihood == pytest.approx(np.log(total), rel=1e-12)


def test_multinomial_coefficient_is_omitted():
    # one item of 3 tokens: two of symbol 0, one of symbol 1; a single component
    model = CategoricalMixture([1.0], [[0.2, 0.8]])
    assert mixture.log_likelihood(model, [[2, 1]]) == pytest.approx(np.log(0.2 * 0.2 * 0.8), rel=1e-14)


def test_gaussian_log_likelihood_and_posteriors_match_scipy():
    rng = np.random.default_rng(3)
    model = GaussianMixture([0.2, 0.5, 0.3], rng.normal(size=(3, 2)), [0.5, 1.0, 2.0])
    X = rng.normal(size=(6, 2))
    dens = np.stack([w * multivariate_normal(m, v * np.eye(2)).pdf(X)
                     for w, m, v in zip(model.weights, model.means, model.variance, strict=True)], axis=1)
    assert mixture.log_likelihood(model, X) == pytest.approx(np.log(dens.sum(axis=1)).sum(), rel=1e-12)
    np.testing.assert_allclose(mixture.posteriors(model, X), dens / dens.sum(axis=1, keepdims=True),
                               rtol=1e-10)


def test_gaussian_soft_m_step_matches_weighted_mean_and_variance():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 2)) + np.repeat([[0, 0], [4, 1]], 15, axis=0)
    model = GaussianMixture([0.5, 0.5], [[0.5, 0.0], [3.0, 0.0]], 2.0)
    r = mixture.posteriors(model, X)
    new = model.m_step(model.e_step(model.prepare(X), "soft").counts)
    means = np.stack([(r[:, k:k + 1] * X).sum(0) / r[:, k].sum() for k in range(2)])
    var = sum(r[n, k] * np.sum((X[n] - means[k]) ** 2) for n in range(30) for k in range(2)) / (30 * 2)
    np.testing.assert_allclose(new.means, means, rtol=1e-12)
    assert float(new.variance) == pytest.approx(var, rel=1e-10)
    np.testing.assert_allclose(new.weights, r.mean(axis=0), rtol=1e-12)


# --- the two coins (Do & Batzoglou 2008) ----------------------------------------------------


def test_two_coins_reproduces_the_published_figures():
    X, start = mixture.two_coins_example()
    np.testing.assert_array_equal(X.sum(axis=1), 10)
    np.testing.assert_array_equal(X[:, 0], [5, 9, 8, 4, 7])
    res = fit_quiet(start, X, max_iter=10, tol=0.0, keep_models=True)
    assert res.n_iter == 10
    for it, (a, b) in {1: (0.71, 0.58), 10: (0.80, 0.52)}.items():  # fig. 1b of the paper
        theta = res.models[it].probs[:, 0]
        assert np.round(theta, 2).tolist() == [a, b], (it, theta)
    np.testing.assert_array_equal(res.model.weights, [0.5, 0.5])  # the paper's coin choice is fixed


# --- EM's guarantees over many random problems ----------------------------------------------


def nondecreasing(values):
    v = np.asarray(values)
    return np.all(np.diff(v) >= -1e-9 * np.maximum(np.abs(v[:-1]), 1.0))


def test_hard_objective_is_below_the_log_likelihood():
    for seed in range(10):
        X, start = random_categorical_problem(seed)
        res = fit_quiet(start, X, method="hard", max_iter=10)
        assert all(o <= ll + 1e-9 for o, ll in zip(res.objectives, res.log_likelihoods, strict=True))


def test_stochastic_e_step_samples_components_with_posterior_frequencies():
    model = CategoricalMixture([0.3, 0.7], [[0.6, 0.4], [0.2, 0.8]])
    x = np.array([[3, 2]])
    post = mixture.posteriors(model, x)[0]
    n = 20000
    est = model.e_step(model.prepare(np.repeat(x, n, axis=0)), "stochastic", np.random.default_rng(0))
    freq = est.counts["weights"] / n
    assert est.counts["weights"].sum() == n and set(np.unique(est.counts["weights"] % 1)) == {0.0}
    assert abs(freq[0] - post[0]) < 4 * np.sqrt(post[0] * post[1] / n)


# --- hard EM of a spherical Gaussian mixture IS k-means --------------------------------------


def naive_lloyd(X, centres, n_iter):
    """An independent reference: plain loops, nearest centre by squared distance (first wins)."""
    centres = [list(c) for c in centres]
    history = []
    for _ in range(n_iter):
        assign = []
        for x in X:
            d = [sum((xi - ci) ** 2 for xi, ci in zip(x, c, strict=True)) for c in centres]
            assign.append(d.index(min(d)))
        history.append((np.array(assign), np.array(centres, dtype=float)))
        new = []
        for k, c in enumerate(centres):
            members = [x for x, a in zip(X, assign, strict=True) if a == k]
            new.append([sum(col) / len(members) for col in zip(*members, strict=True)] if members else c)
        centres = new
    return history


def hard_assignments(model, X):
    """Each point's component according to the model's hard E-step (a one-hot count)."""
    return np.array([int(np.argmax(model.e_step(model.prepare(x[None]), "hard").counts["weights"]))
                     for x in X])


@pytest.mark.parametrize("seed", range(8))
def test_hard_em_of_gaussian_mixture_is_kmeans_at_every_iteration(seed):
    rng = np.random.default_rng(seed)
    K = int(rng.integers(2, 5))
    X = rng.normal(size=(40, 2)) + rng.normal(0, 3, size=(K, 2))[rng.integers(0, K, 40)]
    centres = X[rng.choice(40, K, replace=False)] + rng.normal(0, 0.1, size=(K, 2))
    n_iter = 8
    ref = naive_lloyd(X.tolist(), centres.tolist(), n_iter)
    variance = [0.3, 1.0, 7.0][seed % 3]  # the shared fixed variance does not matter
    gmm = GaussianMixture.kmeans_equivalent(centres, variance=variance)
    for t, (model, estep) in enumerate(em.steps(gmm, X, "hard")):
        if t == n_iter:
            break
        ref_assign, ref_centres = ref[t]
        np.testing.assert_allclose(model.means, ref_centres, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(hard_assignments(model, X), ref_assign)
        np.testing.assert_array_equal(estep.counts["weights"], np.bincount(ref_assign, minlength=K))
        np.testing.assert_array_equal(model.weights, np.full(K, 1 / K))
    # the library's own Lloyd implementation agrees with the reference too
    km = mixture.kmeans(X, centres, max_iter=n_iter)
    for t, (ref_assign, ref_centres) in enumerate(ref[:len(km.assignments)]):
        np.testing.assert_array_equal(km.assignments[t], ref_assign)
        np.testing.assert_allclose(km.centres[t], ref_centres, rtol=1e-12, atol=1e-12)


def test_kmeans_stops_when_assignments_repeat_and_inertia_never_increases():
    rng = np.random.default_rng(11)
    X = np.concatenate([rng.normal(0, 0.3, (20, 2)), rng.normal(5, 0.3, (20, 2))])
    km = mixture.kmeans(X, X[[0, 1]], max_iter=50)
    assert km.converged
    assert np.array_equal(km.assignments[-1], km.assignments[-2])
    assert np.all(np.diff(km.inertia) <= 1e-12)
    assert sorted(np.bincount(km.assignments[-1])) == [20, 20]


def test_lloyd_step_keeps_an_empty_centre():
    X = np.array([[0.0], [1.0]])
    z, new = mixture.lloyd_step(X, [[0.5], [100.0]])
    np.testing.assert_array_equal(z, [0, 0])
    np.testing.assert_array_equal(new, [[0.5], [100.0]])


def test_gaussian_empty_component_keeps_previous_mean_and_variance():
    X = np.array([[0.0], [1.0], [2.0]])
    model = GaussianMixture([0.5, 0.5], [[1.0], [50.0]], [1.0, 3.0])
    new = model.m_step(model.e_step(model.prepare(X), "hard").counts)
    assert new.means[1, 0] == 50.0 and new.variance[1] == 3.0
    assert new.weights.tolist() == [1.0, 0.0]
    assert new.means[0, 0] == pytest.approx(1.0) and new.variance[0] == pytest.approx(2 / 3)


def test_fixed_weights_and_variance_stay_fixed():
    X, _ = random_gaussian_problem(2)
    model = GaussianMixture([0.25, 0.75], [[0.0] * X.shape[1], [1.0] * X.shape[1]], 2.0,
                            learn_weights=False, learn_variance=False)
    res = fit_quiet(model, X, max_iter=5)
    np.testing.assert_array_equal(res.model.weights, [0.25, 0.75])
    assert float(res.model.variance) == 2.0


# --- DESIGN.md rules -------------------------------------------------------------------------


@pytest.mark.parametrize("weights, probs, message", [
    ([[0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]], "weights must be 1-dimensional"),
    ([0.5, 0.5], [0.5, 0.5], "probs must be 2-dimensional"),
    ([0.5, 0.5], [[0.5, 0.5]], "probs has 1 rows but weights has 2 components"),
    ([1.5, -0.5], [[0.5, 0.5], [0.5, 0.5]], r"weights has a negative entry -0.5 at index \(1,\)"),
    ([0.5, 0.5], [[0.5, 0.5], [1.2, -0.2]], r"probs has a negative entry .* index \(1, 1\)"),
    ([0.5, np.nan], [[0.5, 0.5], [0.5, 0.5]], r"weights contains NaN at index \(1,\)"),
    ([0.5, 0.5], [[0.5, 0.5], [0.5, np.nan]], r"probs contains NaN at index \(1, 1\)"),
    ([0.5, 0.5], [[0.5, 0.5], [0.5, 0.4]], "probs row 1 sums to 0.9, not 1"),
    ([0.5, 0.6], [[0.5, 0.5], [0.5, 0.5]], "weights sums to 1.1, not 1"),
])
def test_categorical_mixture_rejects_bad_parameters(weights, probs, message):
    with pytest.raises(ValueError, match=message):
        CategoricalMixture(weights, probs)


def test_rows_summing_to_one_within_tolerance_are_accepted():
    CategoricalMixture([0.5, 0.5 + 5e-9], [[0.5, 0.5], [0.3, 0.7 - 5e-9]])
    with pytest.raises(ValueError, match="probs row 1"):
        CategoricalMixture([0.5, 0.5], [[0.5, 0.5], [0.3, 0.7 - 5e-8]])


@pytest.mark.parametrize("X, message", [
    (np.zeros((0, 3)), "X is empty"),
    ([[1, 2]], "X has 2 columns but the model has V = 3 symbols"),
    ([[1, 2, -1]], r"X has a negative entry -1.0 at index \(0, 2\)"),
    ([[1, 2, 0], [1, np.nan, 0]], r"X contains NaN at index \(1, 1\)"),
    ([[1, 2, 0], [0, 1.5, 0]], "X item 1 has a non-integer count 1.5 for symbol 1"),
    (np.ones((2, 3, 1)), "X must be an"),
])
def test_categorical_mixture_rejects_bad_data(X, message):
    model = CategoricalMixture.uniform(2, 3)
    with pytest.raises(ValueError, match=message):
        mixture.log_likelihood(model, X)
    with pytest.raises(ValueError, match=message):
        em.fit(model, X, max_iter=1)


def test_zero_probability_item_gives_minus_infinity_and_the_e_step_names_it():
    model = CategoricalMixture([0.5, 0.5], [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    X = [[1, 1, 0], [3, 0, 0], [0, 1, 2]]
    assert mixture.log_likelihood(model, X) == -np.inf
    ll = model.item_log_likelihoods(X)
    assert np.isfinite(ll[:2]).all() and ll[2] == -np.inf
    for method in ("soft", "hard", "stochastic"):
        with pytest.raises(ValueError, match="item 2 has probability zero"):
            model.e_step(model.prepare(X), method, np.random.default_rng(0))
    with pytest.raises(ValueError, match="item 2 has probability zero"):
        mixture.posteriors(model, X)


def test_possible_items_stay_finite_when_some_components_forbid_them():
    model = CategoricalMixture([0.5, 0.5], [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    post = mixture.posteriors(model, [[1, 1, 0], [3, 0, 0]])
    np.testing.assert_allclose(post[0], [1.0, 0.0])
    # item [3, 0, 0]: 0.5 * 0.125 vs 0.5 * 1
    np.testing.assert_allclose(post[1], [0.125 / 1.125, 1 / 1.125])


def test_all_zero_counts_keep_previous_parameters():
    model = CategoricalMixture([0.4, 0.6], [[0.2, 0.8], [0.7, 0.3]])
    new = model.m_step({"weights": np.array([3.0, 0.0]), "probs": np.array([[1.0, 2.0], [0.0, 0.0]])})
    np.testing.assert_allclose(new.probs, [[1 / 3, 2 / 3], [0.7, 0.3]])
    np.testing.assert_allclose(new.weights, [1.0, 0.0])
    # in a run: component 1 wins no item under hard EM and keeps its symbol distribution
    far = CategoricalMixture([0.99, 0.01], [[0.5, 0.5], [0.01, 0.99]])
    res = fit_quiet(far, [[5, 5], [6, 4]], method="hard", max_iter=3)
    np.testing.assert_array_equal(res.model.probs[1], [0.01, 0.99])
    assert not np.isnan(res.model.probs).any()


def test_items_with_no_tokens_are_allowed_and_carry_no_evidence():
    model = CategoricalMixture([0.3, 0.7], [[0.2, 0.8], [0.7, 0.3]])
    assert mixture.log_likelihood(model, [[0, 0]]) == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(mixture.posteriors(model, [[0, 0]]), [[0.3, 0.7]])


@pytest.mark.parametrize("kwargs, message", [
    (dict(weights=[0.5, 0.5], means=[[0.0, 0.0]], variance=1.0), r"means must have shape \(2, D\)"),
    (dict(weights=[0.5, 0.5], means=[[0.0], [np.nan]], variance=1.0), "means row 1 is not finite"),
    (dict(weights=[0.5, 0.5], means=[[0.0], [1.0]], variance=0.0), "variance must be positive"),
    (dict(weights=[0.5, 0.5], means=[[0.0], [1.0]], variance=[1.0, 2.0, 3.0]), "variance must be"),
    (dict(weights=[0.5, 0.6], means=[[0.0], [1.0]], variance=1.0), "weights sums to 1.1, not 1"),
])
def test_gaussian_mixture_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GaussianMixture(**kwargs)


@pytest.mark.parametrize("X, message", [
    (np.zeros((0, 2)), "X is empty"),
    ([[0.0, 1.0], [np.nan, 0.0]], "X point 1 contains NaN"),
    ([[0.0, 1.0], [0.0, np.inf]], "X point 1 contains an infinite value"),
    ([[0.0, 1.0, 2.0]], "X has 3 dimensions but the model's means have D = 2"),
])
def test_gaussian_mixture_rejects_bad_data(X, message):
    model = GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], 1.0)
    with pytest.raises(ValueError, match=message):
        mixture.log_likelihood(model, X)


def test_gaussian_data_may_be_negative():
    model = GaussianMixture([1.0], [[0.0]], 1.0)
    assert mixture.log_likelihood(model, [[-1.0]]) == pytest.approx(-0.5 * np.log(2 * np.pi) - 0.5)


def test_bad_method_and_bad_constructor_arguments():
    model = CategoricalMixture.uniform(2, 2)
    with pytest.raises(ValueError, match="method must be one of"):
        model.e_step(model.prepare([[1, 1]]), "viterbi")
    with pytest.raises(ValueError, match="K must be a positive integer"):
        CategoricalMixture.random(0, 3, rng=0)
    with pytest.raises(ValueError, match="needs size="):
        mixture.sample(model, 3)


# --- constructors and sampling ---------------------------------------------------------------


def test_random_is_reproducible_and_valid():
    a, b = CategoricalMixture.random(3, 5, rng=9), CategoricalMixture.random(3, 5, rng=9)
    np.testing.assert_array_equal(a.probs, b.probs)
    np.testing.assert_allclose(a.probs.sum(axis=1), 1.0)
    assert not np.array_equal(a.probs, CategoricalMixture.random(3, 5, rng=10).probs)


def test_uniform_is_a_fixed_point_of_soft_em():
    X, _ = random_categorical_problem(1)
    start = CategoricalMixture.uniform(3, X.shape[1])
    res = fit_quiet(start, X, max_iter=5)
    # every component stays identical: the symmetric point EM never leaves
    np.testing.assert_allclose(res.model.probs, np.repeat(res.model.probs[:1], 3, axis=0), rtol=1e-12)
    np.testing.assert_allclose(res.model.probs[0], X.sum(0) / X.sum(), rtol=1e-12)


def test_sample_counts_have_the_requested_sizes_and_component_frequencies():
    model = CategoricalMixture([0.2, 0.8], [[0.9, 0.1], [0.1, 0.9]])
    X, z = mixture.sample(model, 4000, size=7, rng=1)
    assert X.shape == (4000, 2) and np.all(X.sum(axis=1) == 7)
    assert abs(z.mean() - 0.8) < 4 * np.sqrt(0.16 / 4000)
    # heads frequency within component 0 is near 0.9
    assert abs(X[z == 0, 0].sum() / (7 * (z == 0).sum()) - 0.9) < 0.02
    X2, z2 = mixture.sample(model, 4000, size=7, rng=1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(z, z2)


def test_gaussian_sample_has_the_model_moments():
    model = GaussianMixture([0.5, 0.5], [[-5.0, 0.0], [5.0, 0.0]], [1.0, 4.0])
    X, z = mixture.sample(model, 4000, rng=2)
    assert X.shape == (4000, 2)
    np.testing.assert_allclose(X[z == 1].mean(axis=0), [5.0, 0.0], atol=0.15)
    assert X[z == 1].var(axis=0).mean() == pytest.approx(4.0, rel=0.1)


# --- properties and numerical robustness -------------------------------------------------------


def test_posteriors_sum_to_one_and_expected_counts_sum_to_items_and_tokens():
    for seed in range(50):
        X, model = random_categorical_problem(seed)
        np.testing.assert_allclose(mixture.posteriors(model, X).sum(axis=1), 1.0, rtol=1e-12)
        for method in ("soft", "hard", "stochastic"):
            counts = model.e_step(model.prepare(X), method, np.random.default_rng(seed)).counts
            assert counts["weights"].sum() == pytest.approx(len(X), rel=1e-12)
            np.testing.assert_allclose(counts["probs"].sum(axis=0), X.sum(axis=0), rtol=1e-12)


def test_long_items_do_not_underflow():
    rng = np.random.default_rng(0)
    model = CategoricalMixture.random(3, 5, rng)
    X, _ = model.sample(4, size=100_000, rng=rng)
    ll = model.item_log_likelihoods(X)
    assert np.all(np.isfinite(ll)) and np.all(ll < -1e4)
    post = mixture.posteriors(model, X)
    assert np.all(np.isfinite(post)) and np.allclose(post.sum(axis=1), 1.0)
    res = fit_quiet(CategoricalMixture.random(3, 5, 1), X, max_iter=5)
    assert np.all(np.isfinite(res.log_likelihoods))


def test_gaussian_component_collapsing_onto_one_point_stays_finite():
    X = np.array([[0.0], [0.1], [0.2], [10.0]])
    model = GaussianMixture([0.5, 0.5], [[0.1], [10.0]], [1.0, 1.0], min_variance=1e-4)
    res = fit_quiet(model, X, method="hard", max_iter=5)
    assert res.model.variance[1] == 1e-4  # the singleton's variance is held at the floor
    assert np.all(np.isfinite(res.log_likelihoods)) and nondecreasing(res.objectives)


@pytest.mark.parametrize("max_iter, message", [(2.5, "max_iter must be a whole number"),
                                               (-1, r"max_iter must be in \[0, inf\]")])
def test_kmeans_names_a_bad_max_iter(max_iter, message):
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.1, 0.0]])
    with pytest.raises(ValueError, match=message):
        mixture.kmeans(X, X[:2], max_iter=max_iter)


def test_mixture_parameters_are_copied_and_read_only():
    weights, probs = np.array([0.5, 0.5]), np.array([[0.6, 0.4], [0.5, 0.5]])
    model = CategoricalMixture(weights, probs)
    weights[0], probs[0, 0] = 0.9, 0.9                        # the caller's arrays stay the caller's
    assert model.weights[0] == 0.5 and model.probs[0, 0] == 0.6
    g = GaussianMixture([1.0], [[0.0, 1.0]], 2.0)
    for a in (model.weights, model.probs, g.weights, g.means, g.variance):
        with pytest.raises(ValueError, match="read-only"):
            a[...] = 0


def test_the_two_coins_come_from_the_shipped_data():
    from emlab.data import coins
    X, start = mixture.two_coins_example()
    np.testing.assert_array_equal(X[:, 0], coins.COINS_HEADS)
    np.testing.assert_array_equal(X.sum(axis=1), coins.COINS_FLIPS)
    np.testing.assert_array_equal(start.probs[:, 0], coins.COINS_START)
    assert mixture.TWO_COINS_REPORTED == coins.COINS_REPORTED
