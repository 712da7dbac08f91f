"""emlab.symbolic: the Lagrange-multiplier MLE of categoricals (notebook 01)."""

import numpy as np
import pytest
import sympy as sp

from emlab import categorical, symbolic


def plain(name):
    return sp.Symbol(name)


@pytest.mark.parametrize("K", [2, 3, 4, 5])
def test_categorical_mle_is_count_over_total(K):
    sol = symbolic.categorical_mle(K)
    theta = [plain(f"theta_{k}") for k in range(1, K + 1)]
    c = [plain(f"c_{k}") for k in range(1, K + 1)]
    assert set(sol) == set(theta)  # keys are exactly the contract's symbols, found by name
    for t, ck in zip(theta, c, strict=True):
        assert sp.simplify(sol[t] - ck / sum(c)) == 0


@pytest.mark.parametrize("K", [2, 3, 4, 5])
def test_categorical_mle_evaluates_to_normalized_counts(K):
    counts = np.random.default_rng(K).integers(1, 30, size=K)
    sol = symbolic.categorical_mle(K)
    subs = {plain(f"c_{k}"): int(counts[k - 1]) for k in range(1, K + 1)}
    values = [float(sol[plain(f"theta_{k}")].subs(subs)) for k in range(1, K + 1)]
    np.testing.assert_allclose(values, categorical.normalize(counts), rtol=1e-14)


def test_lagrangian_is_the_stated_expression():
    L = symbolic.lagrangian(3)
    t1, t2, t3, c1, c2, c3, lam = sp.symbols("theta_1 theta_2 theta_3 c_1 c_2 c_3 lambda")
    expected = c1 * sp.log(t1) + c2 * sp.log(t2) + c3 * sp.log(t3) - lam * (t1 + t2 + t3 - 1)
    assert sp.simplify(L - expected) == 0


def test_stationarity_equations_are_the_partial_derivatives():
    eqs = symbolic.stationarity_equations(2)
    t1, t2, c1, c2, lam = sp.symbols("theta_1 theta_2 c_1 c_2 lambda")
    assert [sp.simplify(e) for e in eqs] == [c1 / t1 - lam, c2 / t2 - lam, 1 - t1 - t2]


@pytest.mark.parametrize("K", [1, 2, 3, 4])
def test_lambda_equals_the_total_count(K):
    sol = symbolic.stationary_point(K)
    c = [plain(f"c_{k}") for k in range(1, K + 1)]
    assert sp.simplify(sol[plain("lambda")] - sum(c)) == 0
    # and the point satisfies every stationarity equation
    for eq in symbolic.stationarity_equations(K):
        assert sp.simplify(eq.subs(sol)) == 0


def test_product_of_categoricals_has_one_normalization_per_distribution():
    sizes = {"q_H": 3, "q_C": 3, "e_H": 2, "e_C": 4}
    sol = symbolic.product_categorical_mle(sizes)
    assert set(sol) == set(sizes)
    for name, K in sizes.items():
        c = [plain(f"c_{name}_{k}") for k in range(1, K + 1)]
        assert sp.simplify(sol[name][plain(f"lambda_{name}")] - sum(c)) == 0
        for k in range(1, K + 1):
            value = sol[name][plain(f"theta_{name}_{k}")]
            assert sp.simplify(value - c[k - 1] / sum(c)) == 0
            # each solution involves only its own distribution's counts
            assert {s.name for s in value.free_symbols} <= {s.name for s in c}


def test_product_accepts_a_list_of_sizes_and_rejects_bad_input():
    sol = symbolic.product_categorical_mle([2, 2])
    assert set(sol) == {"1", "2"}
    assert sp.simplify(sol["2"][plain("theta_2_1")] - plain("c_2_1") / (plain("c_2_1") + plain("c_2_2"))) == 0
    with pytest.raises(ValueError, match="sizes is empty"):
        symbolic.product_categorical_mle({})
    with pytest.raises(ValueError, match="K must be a positive integer"):
        symbolic.product_categorical_mle({"row": 0})


@pytest.mark.parametrize("K", [0, -2, 2.0, True])
def test_bad_K_is_rejected(K):
    with pytest.raises(ValueError, match="K must be a positive integer"):
        symbolic.categorical_mle(K)


@pytest.mark.parametrize("K", [2, 3, 4, 5])
def test_second_order_check_says_maximum(K):
    assert symbolic.is_maximum(K)


def test_bordered_test_rejects_a_minimum_and_an_undecidable_sign():
    B = symbolic.bordered_hessian(3)
    flipped = B.copy()
    flipped[1:, 1:] = -B[1:, 1:]  # the Lagrangian of -ℓ: its stationary point is a minimum
    assert not symbolic.bordered_minors_show_maximum(flipped)
    x = sp.Symbol("x")  # sign unknown: the check must not claim a maximum
    assert not symbolic.bordered_minors_show_maximum(sp.Matrix([[0, 1, 1], [1, x, 0], [1, 0, x]]))


def test_hessian_at_the_stationary_point_is_negative_definite():
    H = symbolic.hessian_at_stationary_point(3)
    assert H.is_diagonal()
    c = np.array([2, 5, 9])
    Hn = np.array(H.subs({sp.Symbol(f"c_{k}", positive=True): int(c[k - 1]) for k in (1, 2, 3)}),
                  dtype=float)
    np.testing.assert_allclose(np.diag(Hn), -(c.sum() ** 2) / c)
    assert np.all(np.linalg.eigvalsh(Hn) < 0)


def test_bordered_hessian_at_a_numeric_point_matches_finite_differences():
    B = symbolic.bordered_hessian(3, at_stationary_point=False)
    theta = [sp.Symbol(f"theta_{k}", positive=True) for k in (1, 2, 3)]
    c = [sp.Symbol(f"c_{k}", positive=True) for k in (1, 2, 3)]
    point = {**dict(zip(theta, [0.2, 0.3, 0.5], strict=True)), **dict(zip(c, [1, 4, 2], strict=True))}
    Bn = np.array(B.subs(point), dtype=float)
    assert Bn[0, 0] == 0 and np.all(Bn[0, 1:] == 1)
    f = lambda t: 1 * np.log(t[0]) + 4 * np.log(t[1]) + 2 * np.log(t[2])  # noqa: E731
    t0, h = np.array([0.2, 0.3, 0.5]), 1e-4
    for i in range(3):
        e = np.eye(3)[i] * h
        assert Bn[1 + i, 1 + i] == pytest.approx((f(t0 + e) - 2 * f(t0) + f(t0 - e)) / h**2, rel=1e-5)


def test_no_point_of_the_simplex_beats_the_mle():
    rng = np.random.default_rng(0)
    sol = symbolic.categorical_mle(4)
    for _ in range(20):
        counts = rng.integers(1, 50, size=4)
        subs = {plain(f"c_{k}"): int(counts[k - 1]) for k in range(1, 5)}
        mle = np.array([float(sol[plain(f"theta_{k}")].subs(subs)) for k in range(1, 5)])
        best = categorical.log_likelihood(counts, mle)
        rivals = rng.dirichlet(np.ones(4), size=500)
        near = np.clip(mle + rng.normal(0, 1e-3, size=(500, 4)), 1e-12, None)
        near /= near.sum(axis=1, keepdims=True)
        others = np.concatenate([rivals, near])
        assert categorical.log_likelihood(counts, others[0]) == pytest.approx(counts @ np.log(others[0]))
        assert np.all(np.log(others) @ counts <= best + 1e-12)  # Σ_k c_k log p_k for every rival p
