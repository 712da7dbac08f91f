"""Incremental (Neal & Hinton 1998) and stepwise (Liang & Klein 2009) EM (emlab.online, notebook 09).

References: batch EM through em.fit (another code path), brute-force enumeration of the free
energy, and the closed-form step sizes."""

import warnings

import numpy as np
import pytest

from emlab import em, hmm, mixture, online, pcfg
from emlab import free_energy as fe


@pytest.fixture(scope="module")
def corpus():
    truth = hmm.HMM([0.6, 0.4], [[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    seqs, _ = hmm.sample(truth, 12, 10, rng=0)
    return seqs, hmm.HMM.random(2, 3, rng=3)


def _batch(model, data, n):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        return em.fit(model, data, max_iter=n, tol=0)


def test_stepwise_with_step_one_and_one_full_batch_is_batch_em(corpus):
    seqs, start = corpus
    run = online.stepwise(start, seqs, n_passes=6, batch_size=len(seqs), alpha=0.0, rng=0)
    batch = _batch(start, seqs, 6)
    assert np.allclose(run.passes, np.arange(7))
    assert np.allclose(run.log_likelihoods, batch.log_likelihoods, rtol=1e-10)
    for k in batch.model.params():
        assert np.allclose(run.model.params()[k], batch.model.params()[k], atol=1e-10)


def test_incremental_with_one_block_is_batch_em(corpus):
    seqs, start = corpus
    run = online.incremental(start, seqs, n_passes=5, batch_size=len(seqs))
    batch = _batch(start, seqs, 5)
    assert np.allclose(run.log_likelihoods, batch.log_likelihoods, rtol=1e-10)
    # F(q_t, θ_{t+1}) after each M-step lies between L(θ_t) (the E-step's F) and L(θ_{t+1})
    L = np.array(batch.log_likelihoods)
    assert np.all(L[:-1] <= run.free_energies + 1e-9) and np.all(run.free_energies <= L[1:] + 1e-9)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_incremental_free_energy_never_decreases_on_an_hmm(corpus, batch_size):
    seqs, start = corpus
    run = online.incremental(start, seqs, n_passes=4, batch_size=batch_size, shuffle=True, rng=1)
    assert run.n_updates == 1 + 3 * int(np.ceil(len(seqs) / batch_size))
    assert np.all(np.diff(run.free_energies) >= -1e-9 * np.abs(run.free_energies[:-1]))
    # F ≤ L at the final model: the gap is Σ_b KL(q_b ‖ p(y | x_b, θ)) ≥ 0 (enumerated in the next test)
    assert run.free_energies[-1] <= hmm.log_likelihood(run.model, seqs) + 1e-9


def test_incremental_free_energy_matches_enumeration():
    """The F that incremental EM reports, against Σ_b brute-force F(q_b, θ) with each q_b the
    posterior of the model at which block b was last visited."""
    m0 = hmm.HMM.random(2, 3, rng=5, stop=True)
    seqs = [np.array([0, 2, 1]), np.array([2, 2]), np.array([1, 0, 0, 2])]
    run = online.incremental(m0, seqs, n_passes=3, batch_size=1, keep_models=True)
    # models: θ_0, θ_1 (batch), then one per block update in order 0, 1, 2, 0, 1, 2
    models = run.models
    last_visit = {0: models[4], 1: models[5], 2: models[6]}     # pass 3 visits block b at these
    final = models[-1]
    F = sum(fe.free_energy(fe.posterior(fe.enumerate_paths(last_visit[b], x).log_joint),
                           fe.enumerate_paths(final, x).log_joint) for b, x in enumerate(seqs))
    assert np.isclose(run.free_energies[-1], F, rtol=1e-10)


def test_incremental_on_a_pcfg_and_a_mixture_is_monotone_in_f():
    g = pcfg.PCFG.random(["S", "A"], ["a", "b"], rng=0, start="S")
    source = pcfg.PCFG.random(["S", "A"], ["a", "b"], rng=9, start="S")
    sentences = pcfg.sample(source, 8, rng=1, max_length=6)
    run = online.incremental(g, sentences, n_passes=3)
    assert np.all(np.diff(run.free_energies) >= -1e-9 * np.abs(run.free_energies[:-1]))
    X, coins = mixture.two_coins_example()
    run = online.incremental(coins, X, n_passes=5)
    assert np.all(np.diff(run.free_energies) >= -1e-12 * np.abs(run.free_energies[:-1]))
    # it reaches batch EM's fixed point (θ_A ≈ 0.80, θ_B ≈ 0.52)
    assert np.allclose(run.model.probs[:, 0], _batch(coins, X, 200).model.probs[:, 0], atol=2e-3)


def test_stepwise_reaches_batch_em_neighbourhood_and_is_seeded(corpus):
    seqs, start = corpus
    a = online.stepwise(start, seqs, n_passes=40, batch_size=1, alpha=0.5, rng=0)
    b = online.stepwise(start, seqs, n_passes=40, batch_size=1, alpha=0.5, rng=np.random.default_rng(0))
    assert np.array_equal(a.log_likelihoods, b.log_likelihoods)
    best = _batch(start, seqs, 300).log_likelihood
    assert best - 0.3 < a.log_likelihood < best + 1e-9       # near batch EM's maximum, not above it
    assert a.n_updates == 40 * 12 and np.isclose(a.passes[-1], 40)


def test_stepwise_one_item_batches_never_zero_a_probability(corpus):
    """A sequence lacking a symbol must not set its probability to 0 (μ_0 = w θ_0 prevents it)."""
    seqs, start = corpus
    first = [np.array([0, 0, 1]), np.array([2, 2, 2])]
    run = online.stepwise(start, first, n_passes=3, batch_size=1, shuffle=False, keep_models=True)
    assert all(np.all(m.emit > 0) for m in run.models)
    assert np.all(np.isfinite(run.log_likelihoods))


def test_step_sizes():
    assert np.allclose(online.step_sizes(3, 1.0), [1 / 2, 1 / 3, 1 / 4])
    assert np.allclose(online.step_sizes(2, 0.5), [2 ** -0.5, 3 ** -0.5])
    assert np.allclose(online.step_sizes(4, 0.0), 1.0)


def test_record_every(corpus):
    seqs, start = corpus
    run = online.stepwise(start, seqs, n_passes=2, batch_size=3, record_every=2, rng=0)
    assert np.allclose(run.passes, [0, 0.5, 1, 1.5, 2])
    assert np.isclose(run.log_likelihoods[-1], hmm.log_likelihood(run.model, seqs))


@pytest.mark.parametrize("kwargs, word", [({"alpha": 1.5}, "alpha"), ({"alpha": -0.1}, "alpha"),
                                          ({"batch_size": 0}, "batch_size"), ({"n_passes": 0}, "n_passes"),
                                          ({"record_every": 0}, "record_every"),
                                          ({"prior_weight": -1.0}, "prior_weight")])
def test_bad_arguments(corpus, kwargs, word):
    seqs, start = corpus
    with pytest.raises(ValueError, match=word):
        online.stepwise(start, seqs, **kwargs)


def test_bad_data(corpus):
    _, start = corpus
    with pytest.raises(ValueError, match="empty"):
        online.incremental(start, [])
    with pytest.raises(TypeError, match="data"):
        online.incremental(start, 5)
    with pytest.raises(ValueError, match="sequence 1"):
        online.stepwise(start, [np.array([0, 1]), np.array([0, 7])])


def test_stepwise_without_prior_weight_names_the_corpus_item(corpus):
    """prior_weight = 0: the first one-item mini-batch zeroes the symbols it lacks, and the error must
    name the corpus item that then has probability zero (item 1), not its position in a mini-batch."""
    _, start = corpus
    seqs = [np.array([0, 0]), np.array([2, 2])]
    with pytest.raises(ValueError, match=r"corpus items \[1\].*prior_weight"):
        online.stepwise(start, seqs, n_passes=1, batch_size=1, prior_weight=0.0, shuffle=False)
