"""emlab.constrained: the numerical constrained maximum notebook 01 checks its formulas against.

References are independent of the optimizer: the closed form c/N (derived by hand in 01), the
closed-form value of the relaxed problem ℓ*(s) = Σ c_k log(s c_k / N), and a brute-force search.
"""

import numpy as np
import pytest

from emlab import constrained


def _ell(theta, c):
    used = c > 0
    return float(c[used] @ np.log(theta[used]))


@pytest.mark.parametrize("seed", range(5))
def test_constrained_max_is_normalized_counts_even_with_zeros(seed):
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 6, size=5).astype(float)
    c[rng.integers(5)] = 0.0          # at least one zero count: the boundary case
    c[0] += 1                         # not all zero
    theta, value = constrained.constrained_max(c)
    assert np.allclose(theta, c / c.sum(), atol=1e-6)
    assert np.all(theta[c == 0] < 1e-9)
    assert value == pytest.approx(_ell(c / c.sum(), c), abs=1e-8)


def test_constrained_max_beats_random_points_of_the_scaled_simplex():
    c = np.array([4.0, 1.0, 2.0])
    theta, value = constrained.constrained_max(c, total=2.0)
    assert theta.sum() == pytest.approx(2.0)
    rng = np.random.default_rng(0)
    others = 2.0 * rng.dirichlet(np.ones(3), size=5000)
    assert value >= max(_ell(o, c) for o in others)


@pytest.mark.parametrize("s", [0.5, 1.0, 3.0])
def test_relaxed_maximum_matches_closed_form(s):
    c = np.array([5.0, 3.0, 2.0])
    _, value = constrained.constrained_max(c, total=s)
    assert value == pytest.approx(_ell(s * c / c.sum(), c), abs=1e-8)


@pytest.mark.parametrize("counts", [[5, 3, 2], [3, 0, 1], [0.5, 0.25, 7.0]])
def test_sensitivity_is_the_multiplier_N(counts):
    c = np.asarray(counts, dtype=float)
    # exact central difference of N log s: N (log(1+e) - log(1-e)) / 2e
    e = 1e-3
    expected = c.sum() * (np.log1p(e) - np.log1p(-e)) / (2 * e)
    assert constrained.constraint_sensitivity(c, eps=e) == pytest.approx(expected, rel=1e-7)
    assert constrained.constraint_sensitivity(c, eps=e) != pytest.approx(c.sum() + 1, rel=1e-3)


def test_boundary_slope_is_minus_N_at_a_zero_count_and_zero_elsewhere():
    c = np.array([3.0, 0.0, 1.0])
    assert constrained.boundary_slope(c, 1, eps=1e-7) == pytest.approx(-4.0, rel=1e-5)
    assert abs(constrained.boundary_slope(c, 0, eps=1e-7)) < 1e-5
    # finite difference, independent of the helper: move mass 1e-7 onto outcome 1
    theta = (1 - 1e-7) * c / c.sum() + 1e-7 * np.eye(3)[1]
    assert (_ell(theta, c) - _ell(c / c.sum(), c)) / 1e-7 == pytest.approx(-4.0, rel=1e-5)


@pytest.mark.parametrize("counts", [[1.0], [[1, 2], [3, 4]], [1, -1, 2], [0, 0, 0], [1, np.nan]])
def test_bad_counts_raise_value_error(counts):
    with pytest.raises(ValueError, match="counts"):
        constrained.constrained_max(counts)


def test_bad_scalars_raise():
    with pytest.raises(ValueError, match="total"):
        constrained.constrained_max([1, 2], total=0)
    with pytest.raises(TypeError, match="eps"):
        constrained.constraint_sensitivity([1, 2], eps="small")
    with pytest.raises(ValueError, match="j must"):
        constrained.boundary_slope([1, 0, 2], 3)
