"""emlab.categorical: the M-step of every model (normalize), smoothing, log-likelihood of counts."""

import numpy as np
import pytest

from emlab import categorical


def test_normalize_divides_each_row_by_its_total():
    probs = categorical.normalize([[1.0, 3.0], [2.0, 2.0], [5.0, 0.0]])
    np.testing.assert_array_equal(probs, [[0.25, 0.75], [0.5, 0.5], [1.0, 0.0]])


def test_normalize_works_on_any_leading_shape_and_rows_sum_to_one():
    c = np.random.default_rng(0).integers(0, 9, size=(3, 4, 5)).astype(float) + 0.5
    probs = categorical.normalize(c)
    assert probs.shape == c.shape
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    # each entry is its count over the row's count (written out independently)
    for i in range(3):
        for j in range(4):
            np.testing.assert_allclose(probs[i, j], c[i, j] / sum(c[i, j]))


def test_normalize_keeps_previous_row_when_counts_are_all_zero():
    probs = categorical.normalize([[2.0, 6.0], [0.0, 0.0]], previous=[[0.5, 0.5], [0.9, 0.1]])
    np.testing.assert_allclose(probs, [[0.25, 0.75], [0.9, 0.1]])
    assert not np.isnan(probs).any()


def test_normalize_all_zero_row_without_previous_is_uniform():
    probs = categorical.normalize([[0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(probs, [[0.25] * 4])


def test_normalize_rejects_previous_of_wrong_shape():
    with pytest.raises(ValueError, match="previous must have shape"):
        categorical.normalize([[0.0, 0.0]], previous=[0.5, 0.25, 0.25])


def test_normalize_rejects_negative_counts_naming_the_entry():
    with pytest.raises(ValueError, match=r"counts has a negative entry .* index \(1,\)"):
        categorical.normalize([1.0, -1.0])


def test_normalize_rejects_nan_naming_the_entry():
    with pytest.raises(ValueError, match=r"counts contains NaN at index \(0, 1\)"):
        categorical.normalize([[1.0, np.nan]])


def test_normalize_rejects_a_scalar():
    with pytest.raises(ValueError, match="at least one axis"):
        categorical.normalize(3.0)


def test_mle_of_observed_counts_is_the_maximizer_among_random_categoricals():
    rng = np.random.default_rng(1)
    c = rng.integers(1, 20, size=6).astype(float)
    best = categorical.log_likelihood(c, categorical.mle(c))
    others = rng.dirichlet(np.ones(6), size=2000)
    assert all(categorical.log_likelihood(c, p) < best for p in others)


def test_smooth_adds_alpha_to_every_count():
    np.testing.assert_array_equal(categorical.smooth([[0, 2], [1, 0]], alpha=0.5), [[0.5, 2.5], [1.5, 0.5]])
    # add-one smoothing of (0, 2): (1/4, 3/4), Laplace's rule of succession
    np.testing.assert_allclose(categorical.normalize(categorical.smooth([0, 2])), [0.25, 0.75])


@pytest.mark.parametrize("alpha", [-1.0, np.nan, np.inf])
def test_smooth_rejects_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        categorical.smooth([1, 2], alpha=alpha)


def test_log_likelihood_is_sum_of_count_times_log_prob():
    ll = categorical.log_likelihood([[2, 1], [0, 3]], [[0.5, 0.5], [0.1, 0.9]])
    assert ll == pytest.approx(3 * np.log(0.5) + 3 * np.log(0.9), rel=1e-14)


def test_log_likelihood_zero_count_on_zero_probability_contributes_nothing():
    assert categorical.log_likelihood([0, 4], [0.0, 1.0]) == 0.0


def test_log_likelihood_positive_count_on_zero_probability_is_minus_infinity():
    assert categorical.log_likelihood([1, 4], [0.0, 1.0]) == -np.inf


def test_log_likelihood_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"counts shape \(3,\) does not match probs shape \(2,\)"):
        categorical.log_likelihood([1, 2, 3], [0.5, 0.5])
