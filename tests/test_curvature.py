"""emlab.curvature: slopes and curvatures of L and of EM's bound, against closed forms.

On the two-coins slice (θ_A = a varies, θ_B = 1/2, weights 1/2) everything has a closed form:
L(a) = Σ_n log(f_n(a) + g_n) with f_n = ½ a^h (1−a)^t and g_n = ½ · 2^−(h+t), and the bound's
a-dependence is Σ_n w_n (h log a + t log(1−a)) with w_n = p(A | x_n, a_t).
"""

import numpy as np
import pytest

from emlab import curvature, mixture

X, _ = mixture.two_coins_example()
H, T = X[:, 0].astype(float), X[:, 1].astype(float)


def coin_a(a):
    return mixture.CategoricalMixture([0.5, 0.5], [[a, 1 - a], [0.5, 0.5]], learn_weights=False)


def closed_form(a):
    f = 0.5 * a ** H * (1 - a) ** T
    g = 0.5 * 0.5 ** (H + T)
    u = H / a - T / (1 - a)                    # d log f / da
    f1 = f * u
    f2 = f * (u ** 2 - H / a ** 2 - T / (1 - a) ** 2)
    slope_L = np.sum(f1 / (f + g))
    curv_L = np.sum(f2 / (f + g) - (f1 / (f + g)) ** 2)
    w = f / (f + g)                            # posterior of coin A at a
    slope_B = np.sum(w * u)
    curv_B = -np.sum(w * (H / a ** 2 + T / (1 - a) ** 2))
    # top of the bound along the slice: the coin-A M-step
    a_next = np.sum(w * H) / np.sum(w * (H + T))
    return slope_L, curv_L, slope_B, curv_B, a_next


@pytest.mark.parametrize("a", [0.3, 0.45, 0.6, 0.75, 0.8])
def test_bound_shape_matches_closed_forms(a):
    s = curvature.bound_shape(coin_a, X, a)
    slope_L, curv_L, slope_B, curv_B, a_next = closed_form(a)
    assert s.slope_L == pytest.approx(slope_L, rel=1e-6, abs=1e-5)
    assert s.slope_bound == pytest.approx(slope_B, rel=1e-6, abs=1e-5)
    assert s.curv_L == pytest.approx(curv_L, rel=1e-4, abs=1e-3)
    assert s.curv_bound == pytest.approx(curv_B, rel=1e-4, abs=1e-3)
    assert s.theta_next == pytest.approx(a_next, abs=6e-4)          # grid of step 0.001
    assert s.step == pytest.approx(abs(a_next - a), abs=6e-4)


@pytest.mark.parametrize("a", np.linspace(0.05, 0.95, 10))
def test_theorems_tangent_and_bound_more_curved(a):
    s = curvature.bound_shape(coin_a, X, float(a))
    assert s.slope_L == pytest.approx(s.slope_bound, rel=1e-5, abs=1e-6)
    assert s.curv_bound <= s.curv_L + 1e-6
    assert s.gain >= 0


def test_a_bound_built_from_the_wrong_point_is_not_tangent():
    # what the tangency check guards against: the bound of θ_t' = 0.5 evaluated for slopes at 0.6
    s_right = curvature.bound_shape(coin_a, X, 0.6)
    s_wrong = curvature.bound_shape(coin_a, X, 0.5)
    assert not np.isclose(s_right.slope_L, s_wrong.slope_bound, rtol=1e-3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="h"):
        curvature.bound_shape(coin_a, X, 0.5, h=0.0)
    with pytest.raises(TypeError, match="theta_t"):
        curvature.bound_shape(coin_a, X, None)
