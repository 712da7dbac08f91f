"""The free energy F(q, θ) = E_q log p(x, y) + H(q) = L − KL (emlab.free_energy, notebook 09).

References are brute force: every state path / every tree listed, p(x, y) multiplied out
from its definition (test_hmm's ``joint``), and L from the library's forward / inside passes (a
different computation)."""

import itertools
import math

import numpy as np
import pytest
from test_hmm import joint

from emlab import free_energy as fe
from emlab import hmm, mixture, pcfg


def _hmm(seed, stop):
    return hmm.HMM.random(3, 4, rng=seed, stop=stop)


def _grammar(seed):
    return pcfg.PCFG.random(["S", "A"], ["a", "b"], rng=seed, start="S")




@pytest.mark.parametrize("stop", [False, True])
def test_enumerated_paths_are_every_path_with_its_joint(stop):
    m = _hmm(0, stop)
    x = np.array([0, 3, 1, 2])
    enum = fe.enumerate_paths(m, x)
    assert sorted(enum.structures) == list(itertools.product(range(3), repeat=4))
    for y, lj in zip(enum.structures, enum.log_joint, strict=True):
        assert math.isclose(np.exp(lj), joint(m, x, y), rel_tol=1e-12)
    assert math.isclose(fe.log_evidence(enum.log_joint), hmm.log_likelihood(m, [x]), rel_tol=1e-12)


def test_enumerated_trees_of_a_dense_grammar():
    g = _grammar(1)
    sentence = ["a", "b", "a", "a"]
    enum = fe.enumerate_trees(g, sentence)
    # dense CNF over N = 2 nonterminals, root fixed: Catalan(n − 1) shapes × N^(2n − 2) labelings
    n = len(sentence)
    catalan = math.comb(2 * (n - 1), n - 1) // n
    assert len(enum.structures) == catalan * 2 ** (2 * n - 2)
    assert len({pcfg.bracketed(t) for t in enum.structures}) == len(enum.structures)
    for t, lj in zip(enum.structures, enum.log_joint, strict=True):
        assert pcfg.tree_yield(t) == sentence and t[0] == "S"
        assert math.isclose(lj, pcfg.tree_log_prob(g, t), rel_tol=1e-12)
    assert math.isclose(fe.log_evidence(enum.log_joint), pcfg.log_likelihood(g, [sentence]), rel_tol=1e-12)


def test_enumerated_trees_of_the_manning_schutze_grammar():
    from emlab.data import grammars
    g = grammars.manning_schutze_grammar()
    enum = fe.enumerate_trees(g, "astronomers saw stars with ears".split())
    assert len(enum.structures) == 2
    assert math.isclose(np.exp(fe.log_evidence(enum.log_joint)), 0.0015876, rel_tol=1e-6)
    assert math.isclose(np.exp(enum.log_joint.max()), 0.0009072, rel_tol=1e-6)


def _cases():
    m = _hmm(2, True)
    yield "hmm", fe.enumerate_paths(m, np.array([1, 0, 2, 3, 3]))
    g = _grammar(3)
    yield "pcfg", fe.enumerate_trees(g, ["b", "a", "a", "b"])


@pytest.mark.parametrize("name, enum", list(_cases()))
def test_gap_is_the_kl_and_vanishes_at_the_posterior(name, enum):
    lj = enum.log_joint
    L = fe.log_evidence(lj)
    post = fe.posterior(lj)
    assert math.isclose(fe.free_energy(post, lj), L, rel_tol=1e-12)          # the E-step closes the gap
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.dirichlet(np.full(lj.size, 0.3))
        by_definition = float(np.sum(q * lj) - np.sum(q[q > 0] * np.log(q[q > 0])))
        assert math.isclose(fe.free_energy(q, lj), by_definition, rel_tol=1e-12, abs_tol=1e-12)
        kl = float(np.sum(q * np.log(q / post)))
        assert kl > 0
        assert math.isclose(fe.gap(q, lj), kl, rel_tol=1e-9, abs_tol=1e-12)      # L − F = KL(q ‖ p(y|x))
        assert math.isclose(fe.kl(q, post), kl, rel_tol=1e-12)


@pytest.mark.parametrize("name, enum", list(_cases()))
def test_point_masses_and_hard_em(name, enum):
    lj = enum.log_joint
    L = fe.log_evidence(lj)
    post = fe.posterior(lj)
    point = np.eye(lj.size)
    F = np.array([fe.free_energy(point[i], lj) for i in range(lj.size)])
    assert np.allclose(F, lj)                                  # F(δ_y) = log p(x, y): no entropy
    assert math.isclose(F.max(), lj.max())                     # the best point mass is the Viterbi structure
    assert np.allclose(L - F, -np.log(post))                   # its gap is −log p(y | x)


def test_entropy_and_kl_edge_cases():
    assert fe.entropy([1.0, 0.0]) == 0.0
    assert math.isclose(fe.entropy([0.25] * 4), math.log(4))
    assert fe.kl([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert fe.kl([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert fe.free_energy([1.0, 0.0], [-np.inf, -1.0]) == -np.inf


def test_model_route_agrees_with_enumeration_on_an_hmm():
    """F(q_t, θ) from counts and the posterior entropy, for θ ≠ θ_t, against brute force."""
    old, new = _hmm(4, True), _hmm(5, True)
    seqs = [np.array([0, 1, 3]), np.array([2, 2, 0, 1])]
    q = fe.q_of(old, seqs)
    F_ref = H_ref = 0.0
    for x in seqs:
        post = fe.posterior(fe.enumerate_paths(old, x).log_joint)
        lj_new = fe.enumerate_paths(new, x).log_joint
        F_ref += fe.free_energy(post, lj_new)
        H_ref += fe.entropy(post)
    assert math.isclose(q.entropy, H_ref, rel_tol=1e-9)
    assert math.isclose(fe.free_energy_at(q, new), F_ref, rel_tol=1e-10)
    assert math.isclose(fe.free_energy_at(q, old), hmm.log_likelihood(old, seqs), rel_tol=1e-10)


def test_model_route_agrees_with_enumeration_on_a_pcfg():
    old, new = _grammar(6), _grammar(7)
    sentences = [["a", "b", "b"], ["b", "a"]]
    q = fe.q_of(old, sentences)
    F_ref = sum(fe.free_energy(fe.posterior(fe.enumerate_trees(old, s).log_joint),
                               fe.enumerate_trees(new, s).log_joint) for s in sentences)
    assert math.isclose(fe.free_energy_at(q, new), F_ref, rel_tol=1e-10)
    # hard: a point mass on the CKY tree of each sentence, F = Σ log p(x, t*)
    hard = fe.q_of(old, sentences, "hard")
    best = sum(pcfg.viterbi_parse(old, s)[1] for s in sentences)
    assert hard.entropy == 0 and math.isclose(fe.free_energy_at(hard, old), best, rel_tol=1e-10)


def test_trace_is_coordinate_ascent():
    truth = hmm.HMM([0.6, 0.4], [[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    seqs, _ = hmm.sample(truth, 8, 15, rng=0)
    start = hmm.HMM.random(2, 3, rng=1)
    tr = fe.trace(start, seqs, n_iter=6)
    assert np.allclose(tr.after_e, tr.log_likelihoods)                    # soft E-step: zero gap
    assert np.all(tr.after_m >= tr.after_e[:-1] - 1e-9)                   # the M-step raises F
    assert np.all(tr.log_likelihoods[1:] >= tr.after_m - 1e-9)            # the E-step raises it again
    assert np.all(np.diff(tr.staircase()) >= -1e-9)
    hard = fe.trace(start, seqs, n_iter=6, method="hard")
    viterbi = [sum(hmm.viterbi(m, x)[1] for x in seqs) for m in hard.models]
    assert np.allclose(hard.after_e, viterbi)                              # F of the best point masses
    assert np.all(np.diff(hard.staircase()) >= -1e-9)
    assert np.all(hard.after_e <= hard.log_likelihoods + 1e-9)             # F ≤ L for every q


def test_mixture_and_bad_input():
    X, coins = mixture.two_coins_example()
    q = fe.q_of(coins, X)
    assert math.isclose(fe.free_energy_at(q, coins), mixture.log_likelihood(coins, X), rel_tol=1e-12)
    g = mixture.GaussianMixture([0.5, 0.5], [[0.0], [1.0]])
    with pytest.raises(TypeError, match="categoricals"):
        fe.q_of(g, np.zeros((3, 1)))
    with pytest.raises(ValueError, match="limit"):
        fe.enumerate_paths(_hmm(0, False), np.zeros(20, dtype=int))
    with pytest.raises(ValueError, match="word"):
        fe.enumerate_trees(_grammar(0), ["a", "zzz"])
    with pytest.raises(ValueError, match="q must"):
        fe.free_energy([0.5, 0.6], [0.0, 0.0])
    with pytest.raises(TypeError, match="QSummary"):
        fe.free_energy_at({"start": 1}, coins)
    with pytest.raises(ValueError, match="keys"):
        fe.expected_log_joint(coins, {"probs": coins.probs})
    with pytest.raises(ValueError, match="method"):
        fe.q_of(coins, X, "medium")


@pytest.mark.parametrize("call, word", [
    (lambda: fe.posterior([]), "log_joint"),
    (lambda: fe.log_evidence([np.nan, 0.0]), "log_joint"),
    (lambda: fe.posterior([np.inf, 0.0]), "log_joint"),
    (lambda: fe.log_evidence([[0.0, -1.0]]), "log_joint"),
    (lambda: fe.free_energy([1.0], ["a"]), "log_joint"),
    (lambda: fe.entropy([-0.5, 1.5]), "q must"),
    (lambda: fe.kl([0.5, 0.6], [0.5, 0.5]), "q must"),
    (lambda: fe.kl([0.5, 0.5], [0.2, 0.2]), "r must"),
])
def test_bad_distributions_and_log_joints_name_the_argument(call, word):
    """Never NaN or a numpy reduction error: a negative 'entropy' or a KL of an unnormalized q was
    returned before these checks."""
    with pytest.raises(ValueError, match=word):
        call()


def test_stochastic_trace_is_not_coordinate_ascent():
    """A sampled point mass has F = Σ log p(x, ŷ) ≤ the best point mass's Σ max_y log p(x, y), and
    replacing the previous sample by a fresh one can lower F: no ascent (notebook 09, section 3)."""
    truth = hmm.HMM([0.6, 0.4], [[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    seqs, _ = hmm.sample(truth, 20, 15, rng=0)
    tr = fe.trace(truth, seqs, n_iter=12, method="stochastic", rng=0)
    best = np.array([sum(hmm.viterbi(m, x)[1] for x in seqs) for m in tr.models])
    assert np.all(tr.after_e <= best + 1e-9)
    assert np.all(tr.after_e < tr.log_likelihoods)
    assert np.any(tr.after_e[1:] < tr.after_m - 1e-6)                  # F fell at some E-step
    assert np.all(tr.after_m >= tr.after_e[:-1] - 1e-9)               # the M-step still raises F(q_t, ·)
