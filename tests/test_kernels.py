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


# ------------------------------------------------------------ the compiled sweeps and the fused step
def _fallback(monkeypatch_context, call):
    """``call()`` with the kernels switched off (the numpy loops)."""
    with monkeypatch_context() as mp:
        mp.setattr(kernels, "available", lambda: False)
        return call()


def _outcome(call):
    try:
        return call()
    except ValueError as e:
        return str(e)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 12), st.integers(1, 40), st.integers(1, 30), st.booleans(), st.booleans(),
       st.integers(0, 2 ** 32 - 1))
def test_the_compiled_back_trace_is_the_numpy_sweep(T, K, N, with_last, ties, seed):
    """Same paths from the compiled sweep and the numpy loop, in both semirings, with zeros in
    the table and the transitions, exact ties (``ties``: entries from a few values), and the same
    clear error when a draw meets a column of zero weight."""
    from emlab.chain import backtrace
    from emlab.semiring import SUM
    rng = np.random.default_rng(seed)
    values = (lambda shape: rng.integers(0, 3, shape) / 2.0) if ties else rng.random
    table, trans = values((T, K, N)), values((K, K))
    table[rng.random((T, K, N)) < 0.2] = 0.0
    last = values(K) if with_last else None
    for semiring in (SUM, MAX):
        def run(semiring=semiring):
            return _outcome(lambda: backtrace(table, trans, last, semiring, np.random.default_rng(seed)))
        compiled, fallback = run(), _fallback(pytest.MonkeyPatch.context, run)
        if isinstance(compiled, str) or isinstance(fallback, str):
            assert compiled == fallback and "probability zero" in compiled
        else:
            assert np.array_equal(compiled, fallback)
            if semiring is MAX:                  # a back-pointer is an argmax of its weights
                w = table[-1] * (1.0 if last is None else last[:, None])
                top = w.max(axis=0)
                assert np.all(w[compiled[:, -1], np.arange(N)] >= top * (1 - TIE_RTOL))


def test_a_draw_over_zero_weight_names_the_sequence():
    from emlab.chain import backtrace
    from emlab.semiring import SUM
    table = np.ones((3, 2, 4))
    table[-1, :, 2] = 0.0                        # sequence 2 has no weight at its last step
    with pytest.raises(ValueError, match="sequence 2 has probability zero"):
        backtrace(table, np.full((2, 2), 0.5), None, SUM, np.random.default_rng(0))
    assert backtrace(np.ones((0, 2, 4)), np.eye(2), None, SUM, np.random.default_rng(0)).shape == (4, 0)
    with pytest.raises(ValueError, match="at least one state"):
        backtrace(np.ones((3, 0, 4)), np.eye(0), None, MAX)
    with pytest.raises(ValueError, match=r"trans must be \(2, 2\)"):
        backtrace(np.ones((3, 2, 4)), np.eye(3), None, MAX)      # (compiled, it would read past trans)
    with pytest.raises(ValueError, match=r"last \(2,\)"):
        backtrace(np.ones((3, 2, 4)), np.eye(2), np.ones(3), SUM, np.random.default_rng(0))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 80), st.integers(0, 2 ** 32 - 1))
def test_the_fused_max_step_is_numpy_s_four_operations(K, J, N, seed):
    rng = np.random.default_rng(seed)
    M, prev, factor = rng.random((K, J)), rng.random((J, N)), rng.random((K, N))
    factor[:, rng.random(N) < 0.2] = 0.0         # dead columns: 0 / 0
    want = definition(M, prev) * factor
    scale = want.max(axis=0, keepdims=True)
    with np.errstate(invalid="ignore"):
        want /= scale
    out, got_scale = np.empty((K, N)), np.empty((1, N))
    kernels.scaled_max_step(M, prev, factor, out, got_scale[0])
    np.testing.assert_array_equal(got_scale, scale)
    np.testing.assert_array_equal(out, want)     # NaN in the same places


def test_the_fused_max_step_refuses_bad_arrays():
    good = dict(M=np.ones((2, 3)), prev=np.ones((3, 4)), factor=np.ones((2, 4)), out=np.empty((2, 4)),
                scale=np.empty(4))
    with pytest.raises(ValueError, match="prev must be a C-contiguous"):
        kernels.scaled_max_step(**{**good, "prev": np.ones((4, 3)).T})
    with pytest.raises(ValueError, match="scaled_max_step needs"):
        kernels.scaled_max_step(**{**good, "factor": np.ones((2, 5))})


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 40), st.integers(1, 70), st.integers(1, 9),
       st.integers(0, 2 ** 32 - 1))
def test_max_product_on_strided_batches_and_tall_matrices_is_the_definition(P, Q, I, J, K, seed):
    rng = np.random.default_rng(seed)
    a = rng.random((P, Q, J, I)).transpose(0, 1, 3, 2)    # strided views, as a chart's split products
    b = rng.random((P, Q, J + 3, K))[:, :, 1:J + 1]
    assert np.array_equal(kernels.max_product(a, b), definition(a, b))
    out = np.empty((K, I, P, Q)).transpose(2, 3, 1, 0)   # a strided out is filled
    kernels.max_product(a, b, out=out)
    assert np.array_equal(out, definition(a, b))
    tall, short = rng.random((I + 32, J)), rng.random((J, K))   # long columns, few of them
    assert np.array_equal(kernels.max_product(tall, short), definition(tall, short))


def _tied_grammar(rng, N, V):
    """A grammar whose rule probabilities take few values, so that many trees tie exactly."""
    nts, words = [f"X{i}" for i in range(N)], [f"w{i}" for i in range(V)]
    weights = rng.integers(1, 3, size=(N, N * N + V)).astype(float)
    weights /= weights.sum(axis=1, keepdims=True)
    rules = [(nts[a], (nts[j // N], nts[j % N]), weights[a, j]) for a in range(N) for j in range(N * N)]
    rules += [(nts[a], (words[v],), weights[a, N * N + v]) for a in range(N) for v in range(V)]
    return pcfg.PCFG.from_rules(rules, start="X0")


@pytest.mark.parametrize("seed", range(12))
def test_the_compiled_cky_walk_reads_the_same_trees_as_span_walk(seed):
    """On random and on tied grammars (uniform-ish, many equal trees), with and without brackets,
    the compiled walk returns exactly the rule uses of the numpy walk, in the same order, and its
    tree has the CKY score (enumeration: the reference's best tree probability)."""
    from emlab.checks.references import best_tree_reference
    from emlab.span import walk
    rng = np.random.default_rng(seed)
    N, V = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    g = (_tied_grammar(rng, N, V) if seed % 2 else
         pcfg.PCFG.random([f"X{i}" for i in range(N)], [f"w{i}" for i in range(V)], rng=rng, start="X0"))
    sentences = [[f"w{v}" for v in rng.integers(0, V, int(rng.integers(1, 7)))] for _ in range(5)]
    data = pcfg.Bracketed.from_trees([pcfg.viterbi_parse(g, s)[0] for s in sentences], 0.5, rng) \
        if seed % 3 == 0 else sentences
    corpus = g.prepare(data)
    for batch in corpus.batches:
        chart = g.chart(batch, MAX)
        def run(chart=chart):
            return walk(chart.chart, g.binary, chart.start)
        compiled, fallback = run(), _fallback(pytest.MonkeyPatch.context, run)
        for got, want in zip(compiled, fallback, strict=True):
            assert np.array_equal(got, want)
        if seed % 3 == 0 or batch.words.shape[1] > 4:
            continue                              # (the enumeration knows no brackets; it is slow)
        bins, lexs = compiled                     # the tree of the batch's first sentence
        mine, lex = bins[bins[:, 0] == 0], lexs[lexs[:, 0] == 0]
        logp = (np.log(g.binary[mine[:, 1], mine[:, 2], mine[:, 3]]).sum()
                + np.log(g.lexical[lex[:, 1], batch.words[0, lex[:, 2]]]).sum())
        best, _ = best_tree_reference(g.binary, g.lexical, batch.words[0], chart.start)
        assert logp == pytest.approx(np.log(best), rel=1e-12)
        assert chart.log_evidence[0] == pytest.approx(np.log(best), rel=1e-12)


def _span_problem(seed):
    """A random or tied grammar and one batch of equal-length sentences, bracketed for some seeds,
    with sentences of probability zero for others (a word only one nonterminal emits, unreachable)."""
    rng = np.random.default_rng(seed)
    N, V = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    g = (_tied_grammar(rng, N, V) if seed % 2 else
         pcfg.PCFG.random([f"X{i}" for i in range(N)], [f"w{i}" for i in range(V)], rng=rng, start="X0"))
    n = int(rng.integers(1, 9))
    sentences = [[f"w{v}" for v in rng.integers(0, V, n)] for _ in range(int(rng.integers(1, 6)))]
    data = pcfg.Bracketed.from_trees([pcfg.viterbi_parse(g, s)[0] for s in sentences], 0.5, rng) \
        if seed % 3 == 0 else sentences
    return g, g.prepare(data).batches[0]


@pytest.mark.parametrize("seed", range(16))
def test_the_compiled_span_recursion_is_the_numpy_recursion(seed):
    """span.span in both semirings, outside_counts and the sampling walk, compiled, against the
    numpy loops: the charts, the outside values and the expected counts agree to rounding (numba's
    exp and numpy's differ in the last bit; the sums are added in another order), and the walk
    draws the same trees from the same generator."""
    from emlab.semiring import SUM
    from emlab.span import outside_counts, span, walk
    g, batch = _span_problem(seed)
    start = g.nonterminals.index(g.start)

    def run():
        cky = span(g.binary, g.lexical, batch.words, MAX, batch.allowed)
        ins = span(g.binary, g.lexical, batch.words, SUM, batch.allowed)
        ok = ins.log_prob(start) > -np.inf
        out = outside_counts(g.binary, g.lexical, batch.words[ok], span(
            g.binary, g.lexical, batch.words[ok], SUM, None if batch.allowed is None else batch.allowed[ok]),
            start) if ok.any() else None
        trees = walk(ins, g.binary, start, np.random.default_rng(seed)) if ok.all() else None
        return cky, ins, out, trees

    (cky, ins, out, trees), (cky0, ins0, out0, trees0) = run(), _fallback(pytest.MonkeyPatch.context, run)
    for name in ("by_start", "by_end_rev", "scale_start", "scale_end", "tops"):
        for got, want in ((cky, cky0), (ins, ins0)):
            got, want = getattr(got, name), getattr(want, name)
            assert np.array_equal(np.isfinite(got), np.isfinite(want)), name
            assert np.allclose(got, want, rtol=1e-12, atol=0, equal_nan=True), name
    for w in range(2, batch.words.shape[1] + 1):       # the numpy per-width views of a compiled chart
        assert np.allclose(ins.pairs[w], ins0.pairs[w], rtol=1e-12, atol=1e-300)
        assert np.allclose(cky.right[w], cky0.right[w], rtol=1e-12, atol=1e-300)
    if out is not None:
        for got, want in zip(out[:2], out0[:2], strict=True):
            assert np.allclose(got, want, rtol=1e-11, atol=1e-13)
        assert out[2].keys() == out0[2].keys()
        for w in out[2]:
            assert np.allclose(out[2][w], out0[2][w], rtol=1e-11, atol=1e-13)
    if trees is not None:
        for got, want in zip(trees, trees0, strict=True):
            assert np.array_equal(got, want)


def _all_trees(binary, lexical, words, A, i, j):
    """Every ``(p, binary rule uses)`` with A ⇒* words[i:j]; a use is ``(A, B, C, i, k, j)``."""
    if j - i == 1:
        return [(lexical[A, words[i]], frozenset())]
    N = binary.shape[0]
    return [(binary[A, B, C] * pl * pr, tl | tr | {(A, B, C, i, k, j)})
            for k in range(i + 1, j) for B in range(N) for C in range(N)
            for pl, tl in _all_trees(binary, lexical, words, B, i, k)
            for pr, tr in _all_trees(binary, lexical, words, C, k, j)]


def test_the_compiled_sampler_draws_trees_from_the_posterior():
    """Trees drawn through an inside chart (the compiled walk) have the posterior frequencies
    p(t | x) that enumerating every tree of a 4-word sentence gives."""
    rng = np.random.default_rng(11)
    g = pcfg.PCFG.random(["S", "A"], ["a", "b"], rng=rng, start="S")
    batch = g.prepare([["a", "b", "b", "a"]] * 4000).batches[0]   # (a batch holds fewer)
    draws = batch.words.shape[0]
    assert draws >= 1000
    bins, _ = g.sampled(batch, g.chart(batch), np.random.default_rng(3))
    trees = _all_trees(g.binary, g.lexical, batch.words[0], 0, 0, 4)
    total = sum(p for p, _ in trees)
    seen: dict = {}
    for b in range(draws):
        key = frozenset(map(tuple, bins[bins[:, 0] == b][:, 1:].tolist()))
        seen[key] = seen.get(key, 0) + 1
    assert set(seen) <= {t for _, t in trees}
    for p, tree in trees:
        p /= total
        assert abs(seen.get(tree, 0) / draws - p) < 4 * np.sqrt(p * (1 - p) / draws) + 1e-3, (tree, p)


def test_hooks_refuse_a_chart_of_the_wrong_semiring():
    from emlab.semiring import SUM
    m = hmm.HMM.random(2, 3, rng=0)
    batch = next(iter(m.batches(m.prepare([[0, 1, 2]]))))
    with pytest.raises(ValueError, match="best needs a chart in the MAX semiring"):
        m.best(batch, m.chart(batch, SUM))
    with pytest.raises(ValueError, match="sampled needs a chart in the SUM semiring"):
        m.sampled(batch, m.chart(batch, MAX), np.random.default_rng(0))
    with pytest.raises(ValueError, match="semiring must be"):
        m.chart(batch, "max")
    g = pcfg.PCFG.random(["S", "A"], ["a"], rng=0, start="S")
    batch = g.prepare([["a", "a"]]).batches[0]
    with pytest.raises(ValueError, match="posterior_counts needs a chart in the SUM semiring"):
        g.posterior_counts(batch, g.chart(batch, MAX))


# ------------------------------------------------------------ fuzz: any shapes, never a crash
def _shapes(ndim_max=4, side_max=4):
    return st.lists(st.integers(0, side_max), min_size=0, max_size=ndim_max).map(tuple)


@settings(max_examples=150, deadline=None)
@given(_shapes(), _shapes(), _shapes(), _shapes(), st.integers(0, 2 ** 32 - 1))
def test_kernels_and_sweeps_refuse_any_inconsistent_shapes_by_name(s1, s2, s3, s4, seed):
    """Arrays of any shapes (empty axes included) into every compiled entry point and the sweeps
    that call them: a result, or a ValueError naming the argument. A compiled loop does not check
    its bounds, so a shape the wrapper let through could read past an array: this would crash
    the test process, or give NaN where the inputs are finite."""
    from test_fuzz_helpers import outcome

    from emlab.chain import backtrace, chain
    from emlab.semiring import SUM
    rng = np.random.default_rng(seed)
    a, b, c, d = (rng.random(s) for s in (s1, s2, s3, s4))
    u = rng.random(s4)
    outcome(lambda: kernels.max_product(a, b), "a ", "b ", "J >= 1", "do not broadcast")
    outcome(lambda: kernels.argmax_rows(a, TIE_RTOL), "weights")
    outcome(lambda: kernels.draw_rows(a, u), "weights")
    outcome(lambda: kernels.scaled_max_step(a, b, c, d, u), "M ", "prev", "factor", "out", "scaled_max_step")
    outcome(lambda: kernels.chain_backtrace(a, b, c, None, TIE_RTOL), "table", "trans", "last")
    outcome(lambda: kernels.chain_backtrace(a, b, c, d, TIE_RTOL), "table", "trans", "last", "u must")
    for semiring in (SUM, MAX):
        outcome(lambda semiring=semiring: backtrace(a, b, None, semiring, np.random.default_rng(0)),
                "table", "trans", "probability zero")
        outcome(lambda semiring=semiring: chain(c, b, a, semiring), "init", "M", "B", "semiring",
                allow_nan=True)
