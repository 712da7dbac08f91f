"""The asserts of lecture 09 can fail: perturb the notebook's input so that a claim is false, and the
cell that checks it raises AssertionError (same harness as lectures 05–08: the cells run in-process,
picked by a string they contain, once as written and once perturbed)."""

from __future__ import annotations

from test_lecture_claims_05_08 import _holds_then_fails

NB = "09_free_energy.ipynb"
SETUP = ["from emlab import", "true = hmm.HMM("]


def test_09_forward_backward_posterior_assert_fails_for_another_sequence():
    # Rebuild the chain posterior from the marginals of 3 1 1: it is not the enumerated posterior of 3 1 3.
    _holds_then_fails(NB, ["from emlab import", "jm = icecream.jurafsky_martin()"],
                      {"gamma, xi = hmm.posteriors(jm, x313)":
                       'gamma, xi = hmm.posteriors(jm, icecream.encode_ice_creams("311"))'})


def test_09_zero_gap_after_the_e_step_fails_for_hard_em():
    # The brute-force check that F(q_t, θ_t) = L(θ_t) must fail when q_t is a point mass (hard EM).
    _holds_then_fails(NB, SETUP + ["tiny_tr = fe.trace("],
                      {"tiny_tr = fe.trace(start, tiny, n_iter=3)":
                       'tiny_tr = fe.trace(start, tiny, n_iter=3, method="hard")'})


def test_09_hard_em_lowering_l_assert_fails_for_soft_em():
    # Soft EM's L rises at every iteration: "L falls after iteration 3" must then fail.
    _holds_then_fails(NB, ["from emlab import", "jm = icecream.jurafsky_martin()", "true = hmm.HMM(",
                           "viterbi = np.array("],
                      {"L_hard = hard_tr.log_likelihoods": "L_hard = soft_tr.log_likelihoods"})


def test_09_stochastic_em_is_no_ascent_assert_fails_for_hard_em():
    # Hard EM is coordinate ascent over point masses: its F never falls at an E-step.
    _holds_then_fails(NB, SETUP + ["sto_tr = fe.trace("],
                      {'sto_tr = fe.trace(true, xs, n_iter=10, method="stochastic", rng=0)':
                       'sto_tr = fe.trace(true, xs, n_iter=10, method="hard", rng=0)'})


def test_09_unbiased_sampled_counts_assert_fails_for_viterbi_counts():
    # Viterbi counts are one fixed vector: they do not average to the expected counts.
    _holds_then_fails(NB, SETUP + ["sto_tr = fe.trace("],
                      {'true.e_step(prepared, "stochastic", rng)': 'true.e_step(prepared, "hard", rng)'})


def test_09_mcem_convergence_assert_fails_with_a_constant_sample_size():
    # m_t = 1 for every t is stochastic EM again: MCEM's late spread no longer collapses.
    _holds_then_fails(NB, ["from emlab import", "X, coins = mixture.two_coins_example()"],
                      {"stochastic.geometric_samples(1, 1.04)": "stochastic.geometric_samples(1, 1.0)"})
