"""The compiled max-product loops (emlab.kernels) against their definitions in numpy, and the
numpy fallback of the MAX semiring against the compiled path on whole Viterbi / CKY runs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emlab import hmm, kernels, pcfg
from emlab.semiring import MAX, TIE_RTOL

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed")


def definition(a, b):
    return np.max(a[..., :, :, None] * b[..., None, :, :], axis=-2)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 9), st.integers(1, 40), st.integers(1, 70),
       st.booleans(), st.booleans(), st.integers(0, 2 ** 32 - 1))
def test_max_product_is_the_definition(P, I, J, K, batched, transposed, seed):
    rng = np.random.default_rng(seed)
    a = rng.random((P, I, J) if batched else (I, J))
    b = rng.random((P, K, J) if batched else (K, J))
    b = np.swapaxes(b, -1, -2) if transposed else np.ascontiguousarray(np.swapaxes(b, -1, -2))
    a[..., rng.random(a.shape[-1]) < 0.2] = 0.0          # zeros, as in a chart
    assert np.array_equal(kernels.max_product(a, b), definition(a, b))


def test_max_product_broadcasts_and_fills_out():
    rng = np.random.default_rng(1)
    a, b = rng.random((5, 3)), rng.random((2, 3, 40))
    out = np.empty((2, 5, 40))
    assert kernels.max_product(a, b, out=out) is out
    assert np.array_equal(out, definition(a, b))
    strided = np.empty((40, 5)).T                         # an out that is not C-contiguous
    kernels.max_product(a, b[0], out=strided)
    assert np.array_equal(strided, definition(a, b[0]))


def test_max_product_refuses_an_empty_inner_axis():
    with pytest.raises(ValueError, match="J >= 1"):
        kernels.max_product(np.zeros((2, 0)), np.zeros((0, 3)))


def test_argmax_rows_breaks_ties_towards_the_first_row():
    w = np.array([[1.0, 0.0, 2.0, 0.0],
                  [3.0, 0.0, 2.0 * (1 - TIE_RTOL / 2), 5.0],
                  [3.0, 0.0, 1.0, 5.0 * (1 + TIE_RTOL / 2)]])
    assert kernels.argmax_rows(w, TIE_RTOL).tolist() == [1, 0, 0, 1]
    rng = np.random.default_rng(2)
    w = rng.random((7, 300))
    assert np.array_equal(kernels.argmax_rows(w, 0.0), np.argmax(w, axis=0))


def test_the_numpy_fallback_gives_the_same_viterbi_paths_and_parses(monkeypatch):
    rng = np.random.default_rng(3)
    m = hmm.HMM.random(4, 6, rng=rng, stop=True)
    seqs = hmm.sample(m, 20, 12, rng=rng)[0]
    g = pcfg.PCFG.random(["S", "A", "B"], ["a", "b", "c"], rng=rng, start="S")
    sentences = pcfg.sample(g, 10, rng=rng, length=6)
    compiled = ([hmm.viterbi(m, s) for s in seqs], [pcfg.viterbi_parse(g, s) for s in sentences])
    monkeypatch.setattr(kernels, "available", lambda: False)
    assert MAX.matmul(np.eye(2), np.ones((2, 3))).shape == (2, 3)
    fallback = ([hmm.viterbi(m, s) for s in seqs], [pcfg.viterbi_parse(g, s) for s in sentences])
    for (p1, l1), (p2, l2) in zip(compiled[0], fallback[0], strict=True):
        assert np.array_equal(p1, p2) and l1 == pytest.approx(l2, rel=1e-13)
    for (t1, l1), (t2, l2) in zip(compiled[1], fallback[1], strict=True):
        assert t1 == t2 and l1 == pytest.approx(l2, rel=1e-13)


@pytest.mark.parametrize("call, name", [
    (lambda: kernels.max_product("x", np.ones((2, 2))), "a must be an array"),
    (lambda: kernels.max_product(np.ones((2, 2)), np.ones(2)), "b must have at least 2"),
    (lambda: kernels.max_product(np.ones((3, 2, 2)), np.ones((4, 2, 2))), "do not broadcast"),
    (lambda: kernels.max_product(np.ones((2, 3)), np.ones((2, 3))), "J >= 1"),
    (lambda: kernels.argmax_rows(np.ones((2, 2, 2)), 0.0), "weights must be 2-dimensional"),
])
def test_bad_operands_are_named(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 50), st.integers(0, 2 ** 32 - 1))
def test_draw_rows_makes_the_numpy_draws(R, C, seed):
    rng = np.random.default_rng(seed)
    w = rng.random((R, C)) * (rng.random((R, C)) < 0.7)
    w[rng.integers(R), :] += 1e-3                         # every column has a positive total
    u = rng.random(C)
    u[: C // 4] = np.nextafter(1.0, 0.0)                  # the largest uniform: the last positive row
    cum = np.cumsum(w, axis=0)
    want = np.sum(cum <= np.minimum(u * cum[-1], np.nextafter(cum[-1], 0.0)), axis=0)
    got = kernels.draw_rows(w, u)
    assert np.array_equal(got, want)
    assert np.all(w[got, np.arange(C)] > 0)               # never an outcome of weight zero


def test_semiring_draws_are_the_same_with_and_without_the_kernels(monkeypatch):
    from emlab.semiring import draw
    rng = np.random.default_rng(4)
    rows, cols = rng.random((6, 300)), rng.random((300, 40))
    u_rows, u_cols = rng.random(300), rng.random(300)
    compiled = draw(rows, u_rows, axis=0), draw(cols, u_cols, axis=-1)
    monkeypatch.setattr(kernels, "available", lambda: False)
    assert np.array_equal(compiled[0], draw(rows, u_rows, axis=0))
    assert np.array_equal(compiled[1], draw(cols, u_cols, axis=-1))
