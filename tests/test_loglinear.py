"""The HMM with log-linear emissions (emlab.loglinear, notebook 11): generalized EM and L-BFGS."""

import warnings

import numpy as np
import pytest

from emlab import categorical, em, hmm, loglinear
from emlab.checks.references import hmm_expected_counts_reference
from emlab.gradient import softmax

V = 6
FEATURES = np.column_stack([np.eye(V), np.arange(V) % 2, np.arange(V) < 3])   # symbol + two shared


def corpus(seed, n=8, T=12, concentration=0.5):
    truth = hmm.HMM.random(2, V, rng=seed, concentration=concentration)
    return hmm.sample(truth, n, T, rng=seed + 100)[0]


def fit_quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        warnings.simplefilter("error", em.LikelihoodDecreaseWarning)
        return em.fit(*args, **kwargs)


def test_emissions_are_the_softmax_of_the_feature_scores():
    W = np.random.default_rng(0).normal(size=(2, FEATURES.shape[1]))
    e = loglinear.emissions(W, FEATURES)
    by_hand = np.exp(W @ FEATURES.T)
    np.testing.assert_allclose(e, by_hand / by_hand.sum(axis=1, keepdims=True), rtol=1e-12)


def test_expected_counts_match_enumeration_of_every_state_path():
    m = loglinear.LogLinearHMM.random(2, FEATURES, rng=1)
    seqs = [np.array([0, 3, 5, 1]), np.array([2, 2, 4])]
    cs, ct, ce = hmm_expected_counts_reference(m.start, m.trans, m.emit, seqs)
    got = m.e_step(m.prepare(seqs), "soft").counts
    for k, ref in (("start", cs), ("trans", ct), ("emit", ce)):
        np.testing.assert_allclose(got[k], ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("stop", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.5])
def test_gradient_of_log_p_matches_central_finite_differences(stop, l2):
    m = loglinear.LogLinearHMM.random(2, FEATURES, rng=2, stop=stop, l2=l2)
    seqs = corpus(3, n=3, T=5)
    value, grad = loglinear.log_likelihood_and_gradient(m, seqs)
    rows = m.trans if not stop else np.column_stack([m.trans, m.stop])
    eta = {"start": np.log(m.start), "rows": np.log(rows), "weights": np.array(m.weights)}

    def L(eta_):                             # from the definition: softmaxes, the plain HMM, the penalty
        r = softmax(eta_["rows"])
        plain = hmm.HMM(softmax(eta_["start"]), r[:, :2], loglinear.emissions(eta_["weights"], FEATURES),
                        r[:, 2] if stop else None)
        return hmm.log_likelihood(plain, seqs) - 0.5 * l2 * np.sum(eta_["weights"] ** 2)

    assert value == pytest.approx(L(eta), rel=1e-12)
    eps = 1e-6
    for k, arr in eta.items():
        for idx in np.ndindex(arr.shape):
            plus = {j: v.copy() for j, v in eta.items()}
            minus = {j: v.copy() for j, v in eta.items()}
            plus[k][idx] += eps
            minus[k][idx] -= eps
            assert grad[k][idx] == pytest.approx((L(plus) - L(minus)) / (2 * eps), abs=1e-6), (k, idx)


def test_an_exact_m_step_with_identity_features_is_the_closed_form_normalize():
    start = hmm.HMM.random(2, V, rng=4)
    m = loglinear.LogLinearHMM(start.start, start.trans, np.log(start.emit), np.eye(V))
    np.testing.assert_allclose(m.emit, start.emit, rtol=1e-12)
    seqs = corpus(5, n=20)
    counts = m.e_step(m.prepare(seqs), "soft").counts
    W, _ = m.improve_weights(counts["emit"], steps=3000)
    np.testing.assert_allclose(loglinear.emissions(W, np.eye(V)), categorical.normalize(counts["emit"]),
                               atol=1e-6)
    plain = start.m_step(counts)                 # the categoricals: the plain HMM's M-step exactly
    exact = loglinear.LogLinearHMM(start.start, start.trans, np.log(start.emit), np.eye(V),
                                   m_steps=3000).m_step(counts)
    np.testing.assert_allclose(exact.start, plain.start, rtol=1e-12)
    np.testing.assert_allclose(exact.trans, plain.trans, rtol=1e-12)
    np.testing.assert_allclose(exact.emit, plain.emit, atol=1e-6)


def test_with_identity_features_and_exact_m_steps_gem_follows_baum_welch():
    start = hmm.HMM.random(2, V, rng=6)
    seqs = corpus(7, n=15, concentration=5.0)       # every symbol seen: an interior M-step
    assert len(np.unique(np.concatenate(seqs))) == V
    bw = fit_quiet(start, seqs, max_iter=6, tol=0, keep_models=True)
    m = loglinear.LogLinearHMM(start.start, start.trans, np.log(start.emit), np.eye(V), m_steps=3000)
    gem = fit_quiet(m, seqs, max_iter=6, tol=0, keep_models=True)
    np.testing.assert_allclose(gem.log_likelihoods, bw.log_likelihoods, rtol=1e-7)
    for a, b in zip(gem.models, bw.models, strict=True):
        np.testing.assert_allclose(a.emit, b.emit, atol=1e-5)
        np.testing.assert_allclose(a.trans, b.trans, atol=1e-5)


@pytest.mark.parametrize("seed", range(12))
def test_gem_never_lowers_the_penalized_log_likelihood(seed):
    m = loglinear.LogLinearHMM.random(3, FEATURES, rng=seed, l2=0.1 * (seed % 3), m_steps=1 + seed % 4)
    seqs = corpus(seed + 20)
    res = fit_quiet(m, seqs, max_iter=30, tol=0)
    lls = np.array(res.log_likelihoods)
    assert np.all(np.diff(lls) >= -1e-9 * np.abs(lls[:-1]))
    assert lls[-1] > lls[0]
    # the reported value is log p(x) − λ/2 ‖W‖², from the plain HMM of the final parameters
    plain = hmm.HMM(res.model.start, res.model.trans, res.model.emit)
    assert lls[-1] == pytest.approx(hmm.log_likelihood(plain, seqs) - res.model.penalty(), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_each_partial_m_step_never_lowers_q(seed):
    m = loglinear.LogLinearHMM.random(3, FEATURES, rng=seed, l2=0.2, m_steps=8)
    counts = m.e_step(m.prepare(corpus(seed)), "soft").counts["emit"]
    W, qs = m.improve_weights(counts)
    assert np.all(np.diff(qs) >= 0) and qs[-1] > qs[0]
    assert qs[0] == pytest.approx(m.q_value(counts), rel=1e-12)
    log_e = np.log(loglinear.emissions(W, FEATURES))         # Q by its definition at the result
    assert qs[-1] == pytest.approx(np.sum(counts * log_e) - 0.1 * np.sum(W ** 2), rel=1e-12)


def test_lbfgs_and_gem_reach_comparable_optima_and_lbfgs_never_goes_down():
    seqs = corpus(8, n=15)
    m = loglinear.LogLinearHMM.random(2, FEATURES, rng=9, l2=0.1)
    gem = fit_quiet(m, seqs, max_iter=500, tol=1e-12)
    direct = loglinear.lbfgs(m, seqs, max_evaluations=500, gtol=1e-10)
    assert np.all(np.diff(direct.log_likelihoods) > -1e-9)
    assert direct.log_likelihoods[0] == pytest.approx(gem.log_likelihoods[0], rel=1e-12)
    assert direct.log_likelihood == pytest.approx(gem.log_likelihood, abs=1e-3)
    assert direct.n_evaluations >= direct.evaluations[-1]


def test_lbfgs_with_stop_keeps_each_joint_row_a_categorical_and_climbs():
    truth = hmm.HMM.random(2, V, rng=0, stop=True)
    seqs, _ = hmm.sample(truth, 10, rng=1, length=30)
    m = loglinear.LogLinearHMM.random(2, FEATURES, rng=3, stop=True, l2=0.05)
    run = loglinear.lbfgs(m, seqs, max_evaluations=100)
    np.testing.assert_allclose(run.model.trans.sum(axis=1) + run.model.stop, 1.0, atol=1e-12)
    assert np.all(np.diff(run.log_likelihoods) > -1e-9) and run.log_likelihood > run.log_likelihoods[0]
    plain = hmm.HMM(run.model.start, run.model.trans, run.model.emit, run.model.stop)
    penalized = hmm.log_likelihood(plain, seqs) - run.model.penalty()
    assert run.log_likelihood == pytest.approx(penalized, rel=1e-12)


def test_bad_inputs_name_the_argument():
    s, t = [0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]]
    W = np.zeros((2, FEATURES.shape[1]))
    with pytest.raises(ValueError, match="features"):
        loglinear.LogLinearHMM(s, t, W, np.full((V, 3), np.nan))
    with pytest.raises(ValueError, match="features"):
        loglinear.LogLinearHMM(s, t, W, np.ones(V))
    with pytest.raises(ValueError, match="weights"):
        loglinear.LogLinearHMM(s, t, np.zeros((2, 3)), FEATURES)
    with pytest.raises(ValueError, match="weights"):
        loglinear.LogLinearHMM(s, t, np.zeros((3, FEATURES.shape[1])), FEATURES)
    with pytest.raises(ValueError, match="l2"):
        loglinear.LogLinearHMM(s, t, W, FEATURES, l2=-1.0)
    with pytest.raises(ValueError, match="m_steps"):
        loglinear.LogLinearHMM(s, t, W, FEATURES, m_steps=0)
    with pytest.raises(ValueError, match="K"):
        loglinear.LogLinearHMM.random(0, FEATURES)
    m = loglinear.LogLinearHMM(s, t, W, FEATURES)
    with pytest.raises(ValueError, match="counts_emit"):
        m.improve_weights(np.ones((2, V + 1)))
    with pytest.raises(ValueError, match="max_evaluations"):
        loglinear.lbfgs(m, [np.array([0, 1])], max_evaluations=0)
    with pytest.raises(TypeError, match="model"):
        loglinear.lbfgs(hmm.HMM.random(2, V, rng=0), [np.array([0, 1])])


def test_parameters_are_read_only_copies():
    W = np.zeros((2, FEATURES.shape[1]))
    f = FEATURES.copy()
    m = loglinear.LogLinearHMM([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]], W, f)
    W[0, 0] = 5.0
    f[0, 0] = 5.0
    assert m.weights[0, 0] == 0 and m.features[0, 0] == 1
    with pytest.raises(ValueError):
        m.weights[0, 0] = 1.0
