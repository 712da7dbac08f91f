"""The visible checks' comparators (emlab.checks.runner): an answer with imaginary parts is never
"correct", however small its real part's error, and a complex answer whose imaginary parts are
exactly zero counts as its real part, as in the grader's ``expect_close``. No numpy warning leaks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from emlab.checks import compare_array, compare_scalar


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize(
    "got", [np.array([1 + 5j, 2 - 3j]), [1 + 1e-9j, 2.0], np.array([1, 2], dtype=complex) + 1j]
)
def test_compare_array_refuses_imaginary_parts(got):
    message = compare_array([1.0, 2.0])(got)
    assert message is not None and "complex" in message


@pytest.mark.parametrize("got", [np.complex128(0.5 + 2j), 0.5 + 1e-12j, np.array([0.5 + 1j])])
def test_compare_scalar_refuses_imaginary_parts(got):
    message = compare_scalar(0.5)(got)
    assert message is not None and "real number" in message


def test_complex_answers_with_zero_imaginary_parts_are_their_real_parts():
    assert compare_array([1.0, 2.0])(np.array([1 + 0j, 2 + 0j])) is None
    assert compare_scalar(0.5)(0.5 + 0j) is None
    assert compare_array([1.0, 2.0])(np.array([1 + 0j, 3 + 0j])) is not None


def test_real_answers_are_unaffected():
    assert compare_array([[0.25, 0.75]])([[0.25, 0.75]]) is None
    assert "shape" in compare_array([[0.25, 0.75]])([0.25, 0.75])
    assert compare_scalar(2.0)(np.float32(2.0)) is None
