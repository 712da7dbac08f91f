"""Fuzzing the entry points of emlab's non-model modules (categorical, convergence, bound, gradient,
experiments, symbolic, plots, widgets) as a new user would call them: wrong types (None, strings,
booleans, lists, float32, object arrays), wrong values (NaN, inf, negatives, zeros, huge, denormal),
empty and huge data, odd EM arguments.

Each call must either give a correct result (checked against an independent property) or raise a
ValueError/TypeError naming the argument; never another exception, NaN, or a RuntimeWarning
(:func:`test_fuzz_helpers.outcome`). The cases the issue lists as failing before are pinned as
plain tests at the end.
"""

from __future__ import annotations

import math
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_fuzz_helpers import REFUSED, messy_arrays, messy_sequences, outcome, scalars  # noqa: E402

from emlab import bound, categorical, convergence, em, gradient, hmm, mixture, symbolic  # noqa: E402
from emlab import experiments as ex  # noqa: E402
from emlab.plots import curves, trees, trellis  # noqa: E402
from emlab.widgets import draw_init_run, draw_lower_bound, draw_rate, lower_bound_widget  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::emlab.em.NotConvergedWarning")

HMM2 = hmm.HMM([0.6, 0.4], [[0.7, 0.3], [0.2, 0.8]], [[0.5, 0.4, 0.1], [0.1, 0.3, 0.6]])
SEQS = [np.array([0, 1, 2, 2, 1]), np.array([2, 2, 0])]
MIX = mixture.CategoricalMixture([0.5, 0.5], [[0.6, 0.3, 0.1], [0.2, 0.3, 0.5]])
COUNTS = np.array([[3, 1, 0], [0, 2, 4], [1, 1, 1], [5, 0, 1]])
F = np.array([[0.2, 1.3], [0.9, 0.1], [0.5, 0.5], [1e-3, 2.0]])   # f0, f1 per point
TRAJ = 0.3 + 0.5 * 0.8 ** np.arange(12)


def coin_family(theta):
    return mixture.CategoricalMixture([0.5, 0.5], [[theta, 1 - theta], [0.4, 0.6]], learn_weights=False)


COIN_DATA = np.array([[5, 5], [9, 1], [8, 2], [4, 6], [7, 3]])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _run(call):
    """A result object with log-likelihoods and objectives, for the plotting helpers."""
    return call()


with warnings.catch_warnings():                 # five iterations on purpose: not converged
    warnings.simplefilter("ignore", em.NotConvergedWarning)
    HARD = em.fit(HMM2, SEQS, method="hard", max_iter=5, tol=0)
    SOFT = em.fit(HMM2, SEQS, max_iter=5, tol=0)
GA = gradient.gradient_ascent(MIX, COUNTS, max_iter=4, tol=0)

# ------------------------------------------------------------------ every scalar argument, fuzzed
# (case id, call taking the fuzzed value, the argument's name, optional check of a returned result)

SCALAR_CASES = [
    ("smooth.alpha", lambda x: categorical.smooth([1, 2], alpha=x), "alpha",
     lambda x, r: np.testing.assert_allclose(r, np.array([1, 2]) + float(x))),
    ("mixing_weight_em.pi0", lambda x: convergence.mixing_weight_em(F, pi0=x, n_iter=5), "pi0",
     lambda x, r: _in_unit_interval(r)),
    ("mixing_weight_em.n_iter", lambda x: convergence.mixing_weight_em(F, 0.5, n_iter=x), "n_iter",
     lambda x, r: (_in_unit_interval(r), _equal(r.size, int(x) + 1))),
    ("mixing_weight_rate.pi", lambda x: convergence.mixing_weight_rate(F, x), "pi",
     lambda x, r: _equal(r >= 0, True)),
    ("missing_information_fraction.pi", lambda x: convergence.missing_information_fraction(F, x), "pi",
     lambda x, r: _equal(r <= 1, True)),
    ("distance_to_fixed_point.step", lambda x: convergence.distance_to_fixed_point(x, 0.5), "step",
     lambda x, r: np.testing.assert_allclose(r, float(x))),
    ("distance_to_fixed_point.rate", lambda x: convergence.distance_to_fixed_point(1e-6, x), "rate",
     lambda x, r: np.testing.assert_allclose(r, 1e-6 * float(x) / (1 - float(x)))),
    ("estimated_rate.tail", lambda x: convergence.estimated_rate(TRAJ, tail=x), "tail",
     lambda x, r: np.testing.assert_allclose(r, 0.8)),
    ("PartialMStep.alpha", lambda x: bound.PartialMStep(MIX, x), "alpha",
     lambda x, r: _equal(0 < r.alpha <= 1, True)),
    ("bound_on_path.theta_t", lambda x: bound.bound_on_path(coin_family, COIN_DATA, [0.3, 0.6], x), "theta_t",
     lambda x, r: _equal(bool(np.all(r.bound <= r.log_likelihoods + 1e-9)), True)),
    ("gradient_ascent.step", lambda x: gradient.gradient_ascent(MIX, COUNTS, step=x, max_iter=3), "step",
     lambda x, r: _monotone(r.log_likelihoods)),
    ("gradient_ascent.max_iter", lambda x: gradient.gradient_ascent(MIX, COUNTS, max_iter=x), "max_iter",
     lambda x, r: _equal(r.n_iter <= int(x), True)),
    ("gradient_ascent.tol", lambda x: gradient.gradient_ascent(MIX, COUNTS, tol=x, max_iter=3), "tol", None),
    ("gradient_ascent.backtrack", lambda x: gradient.gradient_ascent(MIX, COUNTS, backtrack=x, max_iter=2),
     "backtrack", None),
    ("gradient_ascent.rng", lambda x: gradient.gradient_ascent(MIX, COUNTS, rng=x, max_iter=2), "rng", None),
    ("finite_difference_gradient.eps", lambda x: gradient.finite_difference_gradient(MIX, COUNTS[:2], eps=x),
     "eps", None),
    ("jitter.scale", lambda x: ex.jitter(HMM2, scale=x, rng=0), "scale",
     lambda x, r: _stochastic_rows(r.emit)),
    ("jitter.rng", lambda x: ex.jitter(HMM2, rng=x), "rng", lambda x, r: _stochastic_rows(r.emit)),
    ("hmm_init.concentration", lambda x: ex.hmm_init("random", 2, 3, concentration=x), "concentration", None),
    ("hmm_init.scale", lambda x: ex.hmm_init("jitter", 2, 3, scale=x), "scale", None),
    ("hmm_init.K", lambda x: ex.hmm_init("uniform", x, 3), "K", None),
    ("hmm_init.smoothing",
     lambda x: ex.hmm_init("informed", 2, 3, labelled=([[0, 1]], [[0, 1]]), smoothing=x), "smoothing", None),
    ("mixture_init.smoothing",
     lambda x: ex.mixture_init("informed", 2, 3, labelled=(COUNTS[:2], [0, 1]), smoothing=x),
     "smoothing", None),
    ("mixture_init.V", lambda x: ex.mixture_init("random", 2, x), "V", None),
    ("compare_methods.max_iter", lambda x: ex.compare_methods(HMM2, SEQS, ("soft",), max_iter=x), "max_iter",
     None),
    ("compare_methods.tol", lambda x: ex.compare_methods(HMM2, SEQS, ("hard",), max_iter=3, tol=x), "tol",
     None),
    ("likelihood_drops.tol", lambda x: ex.likelihood_drops(HARD, tol=x), "tol", None),
    ("n_optima.tol", lambda x: ex.RestartRuns([], np.array([-3.0, -3.0, -5.0]), np.zeros((3, 1))).n_optima(x),
     "tol", lambda x, r: _equal(r in (1, 2), True)),
    ("confusion_matrix.n_true", lambda x: ex.confusion_matrix([0, 1, 1], [1, 0, 0], n_true=x), "n_true",
     lambda x, r: _equal(r.sum(), 3.0)),
    ("categorical_mle.K", lambda x: symbolic.categorical_mle(x), "K", lambda x, r: _equal(len(r), int(x))),
    ("symbols.positive", lambda x: symbolic.symbols(2, positive=x), "positive", None),
    ("plot_log_likelihoods.target", lambda x: curves.plot_log_likelihoods(SOFT, target=x, gap=True), "target",
     None),
    ("plot_restart_histogram.bins", lambda x: curves.plot_restart_histogram([-3.0, -2.0], bins=x), "bins",
     None),
    ("plot_restart_histogram.reference",
     lambda x: curves.plot_restart_histogram([-3.0, -2.0], reference=x), "reference", None),
    ("plot_stopping_rules.stopped_at", lambda x: curves.plot_stopping_rules(SOFT, x), "stopped_at", None),
    ("plot_stopping_rules.tol", lambda x: curves.plot_stopping_rules(SOFT, 2, tol=x), "tol", None),
    ("plot_em_vs_gradient.zoom", lambda x: curves.plot_em_vs_gradient(SOFT, GA, zoom=x), "zoom", None),
    ("plot_state_alignment.vmax",
     lambda x: curves.plot_state_alignment(np.eye(2), [0, 1], HMM2.emit, HMM2.emit, vmax=x), "vmax", None),
    ("plot_posteriors.state", lambda x: trellis.plot_posteriors(np.full((3, 2), 0.5), state=x), "state",
     None),
    ("draw_rate.separation", lambda x: draw_rate(x, n=50, n_iter=12), "separation",
     lambda x, r: _equal(all(0 <= v <= 1 for v in r), True)),
    ("draw_rate.weight", lambda x: draw_rate(2.0, n=200, weight=x, n_iter=12), "weight", None),
    ("draw_rate.n", lambda x: draw_rate(2.0, n=x, n_iter=12), "n", None),
    ("draw_rate.n_iter", lambda x: draw_rate(2.0, n=50, n_iter=x), "n_iter", None),
    ("draw_init_run.seed", lambda x: draw_init_run(SEQS, "random", x, 2, 3, max_iter=3), "seed", None),
    ("draw_init_run.max_iter", lambda x: draw_init_run(SEQS, "uniform", 0, 2, 3, max_iter=x), "max_iter",
     None),
    ("draw_lower_bound.theta_t",
     lambda x: draw_lower_bound(coin_family, COIN_DATA, x, thetas=[0.2, 0.5, 0.8]), "theta_t", None),
    ("lower_bound_widget.step", lambda x: lower_bound_widget(coin_family, COIN_DATA, step=x), "step", None),
]

SLOW = {"categorical_mle.K", "draw_init_run.seed", "draw_init_run.max_iter", "compare_methods.max_iter",
        "lower_bound_widget.step", "draw_lower_bound.theta_t", "finite_difference_gradient.eps",
        "draw_rate.n", "draw_rate.n_iter", "gradient_ascent.max_iter", "mixing_weight_em.n_iter"}


def _equal(a, b):
    assert a == b, (a, b)


def _in_unit_interval(values):
    assert np.all((np.asarray(values) > 0) & (np.asarray(values) < 1)), values


def _monotone(lls):
    assert np.all(np.diff(lls) >= -1e-9 * max(1.0, abs(lls[0]))), lls


def _stochastic_rows(arr):
    np.testing.assert_allclose(np.sum(arr, axis=-1), 1.0, atol=1e-9)
    assert np.all(np.asarray(arr) >= 0)


@pytest.mark.parametrize("case", SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES])
@given(data=st.data())
@settings(max_examples=25)
def test_every_scalar_argument_is_either_used_or_refused_by_name(case, data):
    name, call, arg, check = case
    if name.endswith(".rng"):   # negative seeds: validation.as_generator, see test_fuzz_models.py
        x = data.draw(st.sampled_from([None, 0, 7, 2**70, np.random.default_rng(1), "seed", 1.5, math.nan,
                                       [1], np.int64(4)]))
    elif name in SLOW:   # expensive calls: a handful of values, mostly the odd ones
        x = data.draw(st.sampled_from([None, "3", True, math.nan, math.inf, -1, 0, 2.5, 1e308, 3, 12, 10**7]))
    else:
        x = data.draw(scalars())
    if name == "categorical_mle.K" and isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 12:
        x = min(x, 3)  # SymPy's solve is slow for large K (up to 12 is allowed); the rule is tested below
    result = outcome(lambda: call(x), arg)
    if result is not REFUSED and check is not None:
        check(x, result)
    plt.close("all")


# ------------------------------------------------------------------------------ array arguments

@given(counts=messy_arrays())
@settings(max_examples=150)
def test_normalize_gives_categoricals_proportional_to_the_counts_or_refuses(counts):
    result = outcome(lambda: categorical.normalize(counts), "counts")
    if result is REFUSED:
        return
    c = np.asarray(counts, dtype=float)
    assert result.shape == c.shape and np.all(result >= 0)
    np.testing.assert_allclose(result.sum(axis=-1), 1.0, rtol=1e-12)
    # Reference: scale by an exact power of two first (no overflow), then divide by the row sum.
    scaled = c / 2.0**600 if c.size and c.max() > 1e300 else c
    totals = scaled.sum(axis=-1, keepdims=True)
    expected = np.where(totals > 0, scaled / np.where(totals > 0, totals, 1), 1.0 / c.shape[-1])
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-300)


@given(previous=messy_arrays(min_dims=1, max_dims=2, nonnegative=True))
@settings(max_examples=80)
def test_normalize_keeps_previous_only_when_it_is_a_distribution(previous):
    counts = np.zeros(np.shape(previous)) if isinstance(previous, np.ndarray) else np.zeros((2, 2))
    result = outcome(lambda: categorical.normalize(counts, previous=previous), "previous", "counts")
    if result is not REFUSED and previous is not None:
        np.testing.assert_array_equal(result, np.asarray(previous, dtype=float))
        np.testing.assert_allclose(result.sum(axis=-1), 1.0, atol=1e-8)


@given(counts=messy_arrays(), probs=messy_arrays())
@settings(max_examples=100)
def test_categorical_log_likelihood_is_never_nan(counts, probs):
    result = outcome(lambda: categorical.log_likelihood(counts, probs), "counts", "probs")
    if result is not REFUSED:
        assert isinstance(result, float)


@given(traj=messy_arrays(max_dims=2, max_side=6))
@settings(max_examples=120)
def test_step_ratios_are_ratios_of_step_lengths_nan_only_below_the_floor(traj):
    ratios = outcome(lambda: convergence.step_ratios(traj), "traj", allow_nan=True)
    if ratios is REFUSED:
        return
    t = np.asarray(traj, dtype=float)
    t = t[:, None] if t.ndim == 1 else t
    steps = np.array([math.sqrt(sum((b - a) ** 2 for a, b in zip(t[i], t[i + 1], strict=True)))
                      if np.max(np.abs(t)) < 1e150 else np.nan for i in range(len(t) - 1)])
    assert ratios.shape == (len(t) - 2,)
    finite = np.isfinite(ratios)
    assert np.all(ratios[finite] >= 0)
    if np.all(np.isfinite(steps)):
        ok = (steps[1:] >= 1e-10) & (steps[:-1] >= 1e-10)
        np.testing.assert_allclose(ratios[ok], steps[1:][ok] / steps[:-1][ok], rtol=1e-9)
        assert np.all(np.isnan(ratios[(steps[1:] < 1e-12) | (steps[:-1] < 1e-12)]))


@given(lls=messy_arrays(max_dims=2, max_side=6))
@settings(max_examples=80)
def test_likelihood_ratios_and_estimated_rate_never_crash(lls):
    outcome(lambda: convergence.likelihood_ratios(lls), "log_likelihoods", allow_nan=True)
    outcome(lambda: convergence.estimated_rate(lls), "traj", allow_nan=True)


@given(f=messy_arrays(max_dims=3, max_side=5))
@settings(max_examples=120)
def test_mixing_weight_helpers_on_any_likelihood_table(f):
    pis = outcome(lambda: convergence.mixing_weight_em(f, 0.5, 20), "f")
    if pis is REFUSED:
        return
    assert np.all((pis >= 0) & (pis <= 1))
    # a fixed point: EM's map is monotone in π and bounded, so the iterates move one way
    assert np.all(np.diff(pis) >= -1e-12) or np.all(np.diff(pis) <= 1e-12)
    rate = outcome(lambda: convergence.mixing_weight_rate(f, 0.3), "f", "pi")
    assert rate is REFUSED or rate >= 0
    fraction = outcome(lambda: convergence.missing_information_fraction(f, 0.3), "f", "pi")
    assert fraction is REFUSED or fraction <= 1 + 1e-12


@given(traces=st.lists(messy_arrays(max_dims=1, max_side=5), max_size=4))
@settings(max_examples=80)
def test_pad_traces_holds_each_last_value(traces):
    out = outcome(lambda: ex.pad_traces(traces), "trace")
    if out is REFUSED:
        return
    for i, t in enumerate(traces):
        t = np.asarray(t, dtype=float)
        np.testing.assert_array_equal(out[i, :t.size], t)
        assert np.all(out[i, t.size:] == t[-1])


labels = st.one_of(messy_sequences(V=3), st.lists(messy_sequences(V=3), max_size=3))


@given(true=labels, learned=labels)
@settings(max_examples=120)
def test_align_states_gives_an_accuracy_in_the_unit_interval_or_names_the_labels(true, learned):
    res = outcome(lambda: ex.align_states(true, learned), "true", "learned")
    if res is REFUSED:
        return
    assert 0 <= res.accuracy <= 1
    n_true = sum(len(t) for t in true) if isinstance(true[0], list) else len(true)
    assert res.confusion.sum() == n_true
    matched = res.mapping[res.mapping >= 0]
    assert len(set(matched.tolist())) == matched.size      # one-to-one


@given(a=messy_arrays(max_dims=3), b=messy_arrays(max_dims=3))
@settings(max_examples=80)
def test_match_rows_returns_a_permutation(a, b):
    res = outcome(lambda: ex.match_rows(a, b), "true_rows", "learned_rows")
    if res is not REFUSED:
        perm, gap = res
        assert sorted(perm.tolist()) == list(range(len(perm))) and gap >= 0


@given(perm=st.one_of(messy_sequences(V=2, max_len=3), st.permutations([0, 1]), st.just((1.0, 0.0))))
@settings(max_examples=60)
def test_permute_hmm_takes_only_a_permutation_of_the_states(perm):
    res = outcome(lambda: ex.permute_hmm(HMM2, perm), "perm")
    if res is not REFUSED:
        p = list(perm)
        np.testing.assert_array_equal(res.emit, HMM2.emit[p])
        assert hmm.log_likelihood(res, SEQS) == pytest.approx(hmm.log_likelihood(HMM2, SEQS), rel=1e-12)


@given(methods=st.one_of(st.sampled_from(["soft", "", (), ("soft", "best"), None, 3]),
                         st.lists(st.sampled_from(em.METHODS), min_size=1, max_size=2)))
@settings(max_examples=30)
def test_compare_methods_takes_a_sequence_of_method_names(methods):
    runs = outcome(lambda: ex.compare_methods(HMM2, SEQS, methods, max_iter=3), "method")
    if runs is not REFUSED:
        assert [r.method for r in runs] == list(methods)


@given(eta=messy_arrays(max_dims=2))
@settings(max_examples=100)
def test_softmax_gives_categoricals_or_names_eta(eta):
    p = outcome(lambda: gradient.softmax(eta), "eta")
    if p is not REFUSED:
        np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
        assert np.all(p >= 0)


@given(thetas=messy_arrays(max_dims=2, max_side=5))
@settings(max_examples=40)
def test_bound_on_path_over_any_grid(thetas):
    res = outcome(lambda: bound.bound_on_path(coin_family, COIN_DATA, thetas, 0.5), "thetas", "theta")
    if res is not REFUSED:
        assert np.all(res.bound <= res.log_likelihoods + 1e-9)


@given(K=st.one_of(st.integers(-2, 4), st.sampled_from([2.0, True, None, "3", 13, 10**9])))
@settings(max_examples=30)
def test_symbolic_derivations_refuse_sizes_they_cannot_solve(K):
    res = outcome(lambda: symbolic.is_maximum(K), "K")
    assert res is REFUSED or res is True


# -------------------------------------------------------------------------------- plots, fuzzed

@given(runs=st.one_of(messy_arrays(max_dims=2, max_side=5), st.lists(messy_arrays(max_dims=1), max_size=3)))
@settings(max_examples=80)
def test_plot_log_likelihoods_draws_or_names_the_run(runs):
    ax = outcome(lambda: curves.plot_log_likelihoods(runs), "run")
    if ax is not REFUSED:
        assert len(ax.get_lines()) >= 1
    outcome(lambda: curves.plot_log_likelihoods(runs, gap=True), "run")
    plt.close("all")


@given(gamma=messy_arrays(max_dims=3, max_side=5), kind=st.sampled_from(["line", "heatmap", "bar"]))
@settings(max_examples=80)
def test_plot_posteriors_draws_or_names_gamma(gamma, kind):
    ax = outcome(lambda: trellis.plot_posteriors(gamma, kind=kind), "gamma", "kind")
    if ax is not REFUSED and kind == "line":
        assert len(ax.get_lines()) == np.shape(gamma)[1]
    plt.close("all")


@given(seq=messy_sequences(V=3), path=st.one_of(st.none(), messy_sequences(V=2)))
@settings(max_examples=60)
def test_draw_trellis_draws_or_names_the_sequence(seq, path):
    ax = outcome(lambda: trellis.draw_trellis(HMM2, seq, path=path), "seq", "path")
    if ax is not REFUSED:
        assert sum(t.get_text().startswith("x=") for t in ax.texts) == len(seq)
    plt.close("all")


@given(chart=messy_arrays(max_dims=2, max_side=5), n_words=st.integers(0, 4))
@settings(max_examples=60)
def test_span_posteriors_draw_or_name_the_chart(chart, n_words):
    words = ["w"] * n_words
    outcome(lambda: trees.plot_span_posteriors(chart, words), "constituent", "words")
    plt.close("all")


@given(finals=st.one_of(messy_arrays(max_dims=2), st.lists(st.sampled_from([1.0, "a", None, math.nan]))))
@settings(max_examples=60)
def test_restart_histogram_counts_every_run_or_names_runs(finals):
    ax = outcome(lambda: curves.plot_restart_histogram(finals), "runs")
    if ax is not REFUSED:
        assert sum(p.get_height() for p in ax.patches) == len(finals)
    plt.close("all")


@given(drops=st.lists(st.one_of(st.integers(-2, 8), st.sampled_from([1.5, None, "1"])), max_size=3))
@settings(max_examples=40)
def test_hard_vs_soft_arrows_only_at_iterations_of_the_run(drops):
    outcome(lambda: curves.plot_hard_vs_soft(HARD, SOFT, drops=drops), "drops")
    plt.close("all")


# ----------------------------------------------------- the failures issue 10 lists, pinned one by one

@pytest.mark.parametrize("call, names", [
    (lambda: ex.jitter(HMM2, scale=1000), "scale"),
    (lambda: ex.permute_hmm(HMM2, [1.0, 0.0]), "perm"),
    (lambda: convergence.missing_information_fraction(F, 0), "pi"),
    (lambda: convergence.missing_information_fraction(F, 1), "pi"),
    (lambda: convergence.mixing_weight_em(F, 0.0), "pi0"),
    (lambda: convergence.mixing_weight_em(F, 1.0), "pi0"),
    (lambda: convergence.mixing_weight_em(F, 0.5, -1), "n_iter"),
    (lambda: convergence.mixing_weight_em(F, 0.5, 2.5), "n_iter"),
    (lambda: convergence.mixing_weight_em(F, math.nan), "pi0"),
    (lambda: convergence.mixing_weight_rate(F, math.nan), "pi"),
    (lambda: convergence.distance_to_fixed_point(math.nan, 0.5), "step"),
    (lambda: categorical.normalize([]), "counts"),
    (lambda: categorical.normalize([[0.0, 0.0]], previous=[[0.3, 0.3]]), "previous"),
    (lambda: gradient.gradient_ascent(MIX, COUNTS, step=None), "step"),
    (lambda: curves.plot_log_likelihoods([]), "runs"),
    (lambda: trellis.plot_posteriors(np.full(4, 0.5)), "gamma"),
    (lambda: trellis.draw_trellis(HMM2, [0, 3]), "seq"),
    (lambda: trellis.plot_posteriors(np.full((3, 2), 0.5), observations=[0, 1, 3], symbol_names="abc"),
     "observations"),
])
def test_the_listed_failures_are_clear_errors(call, names):
    assert outcome(call, names) is REFUSED


def test_normalize_of_counts_near_the_largest_float_does_not_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        np.testing.assert_allclose(categorical.normalize([1e308, 1e308, 1e308]), [1 / 3] * 3, rtol=1e-15)


def test_gradient_ascent_returns_a_gradient_result_with_the_em_result_attributes():
    res = gradient.gradient_ascent(MIX, COUNTS, max_iter=5, tol=0, keep_models=True)
    assert isinstance(res, gradient.GradientResult) and not isinstance(res, em.EMResult)
    assert res.method == "gradient" and res.n_iter == len(res.param_changes) == len(res.log_likelihoods) - 1
    assert len(res.evaluations) == len(res.log_likelihoods) and res.evaluations[-1] == res.n_evaluations
    assert res.objectives == res.log_likelihoods and res.log_likelihood == res.log_likelihoods[-1]
    assert len(res.models) == res.n_iter + 1 and res.model is res.models[-1]


def test_randomness_of_bound_and_gradient_goes_through_rng():
    a = gradient.gradient_ascent(MIX, COUNTS, max_iter=3, rng=np.random.default_rng(1))
    b = gradient.gradient_ascent(MIX, COUNTS, max_iter=3, rng=1)
    assert a.log_likelihoods == b.log_likelihoods
    r = bound.bound_on_path(coin_family, COIN_DATA, [0.3, 0.7], 0.5, rng=3)
    assert bound.marginal_log_likelihood(coin_family(0.3), coin_family(0.3).prepare(COIN_DATA), rng=3) \
        == r.log_likelihoods[0]
    with pytest.raises(ValueError, match="rng"):
        bound.bound_on_path(coin_family, COIN_DATA, [0.3], 0.5, rng="seed")


def test_a_huge_fixed_step_that_zeroes_a_needed_parameter_is_named():
    with pytest.raises(ValueError, match="step"):
        gradient.gradient_ascent(MIX, np.array([[5, 0, 0], [0, 0, 5]]), step=1e5, backtrack=False, max_iter=5)


# ------------------------------------------- the remaining entry points, each argument fuzzed with anything

ANYTHING = st.one_of(scalars(), messy_arrays(max_dims=3),
                     st.sampled_from([{}, {"probs": [[0.5, 0.5]]}, object(), (), [None], [HMM2],
                                      [[1, 2], [3]]]))

ANY_CASES = [
    ("flat_params", lambda x: convergence.flat_params(x), ("model_or_params", "parameter")),
    ("trajectory", lambda x: convergence.trajectory(x), ("models", "model_or_params", "parameter")),
    ("q_function.counts", lambda x: bound.q_function(x, MIX.params()), ("counts", "params")),
    ("q_function.params", lambda x: bound.q_function(MIX.params(), x), ("counts", "params", "probs")),
    ("frozen_arrays", lambda x: bound.frozen_arrays(x), ("model",)),
    ("with_params.params", lambda x: bound.with_params(MIX, x), ("params", "m_step")),
    ("marginal_log_likelihood.model", lambda x: bound.marginal_log_likelihood(x, MIX.prepare(COUNTS)),
     ("model",)),
    ("logits", lambda x: gradient.logits(x), ("params",)),
    ("log_likelihood_and_gradient.frozen",
     lambda x: gradient.log_likelihood_and_gradient(MIX, MIX.prepare(COUNTS), frozen=x), ("frozen",)),
    ("gradient_ascent.model", lambda x: gradient.gradient_ascent(x, COUNTS, max_iter=2), ("model",)),
    ("state_spread", lambda x: ex.state_spread(x), ("model", "parameter")),
    ("jitter.model", lambda x: ex.jitter(x), ("model", "parameter")),
    ("run_restarts.init", lambda x: ex.run_restarts(x, SEQS, n=2, max_iter=2, progress=False), ("init",)),
    ("run_restarts.n", lambda x: ex.run_restarts(lambda r: hmm.HMM.random(2, 3, rng=r), SEQS, n=x, max_iter=2,
                                                 progress=False), ("n",)),
    ("hmm_init.kind", lambda x: ex.hmm_init(x, 2, 3), ("kind",)),
    ("hmm_init.labelled", lambda x: ex.hmm_init("informed", 2, 3, labelled=x),
     ("labelled", "sequence", "states", "got")),
    ("mixture_init.labelled", lambda x: ex.mixture_init("informed", 2, 3, labelled=x),
     ("labelled", "X", "z", "counts", "data")),
    ("likelihood_drops.result", lambda x: ex.likelihood_drops(x), ("result",)),
    ("symbols.name", lambda x: symbolic.symbols(2, name=x), ("name",)),
    ("product_categorical_mle", lambda x: symbolic.product_categorical_mle(x),
     ("sizes", "K", "distribution")),
    ("bordered_minors_show_maximum", lambda x: symbolic.bordered_minors_show_maximum(x), ("B",)),
    ("plot_lower_bound", lambda x: curves.plot_lower_bound(x), ("result",)),
    ("plot_clusters_side_by_side.X",
     lambda x: curves.plot_clusters_side_by_side(x, [("a", [0, 1], [[0, 0]])]), ("X", "panel")),
    ("plot_clusters_side_by_side.panels",
     lambda x: curves.plot_clusters_side_by_side(np.zeros((2, 2)), x), ("panel",)),
    ("plot_rate_vs.measured", lambda x: curves.plot_rate_vs([1.0, 2.0], x), ("measured",)),
    ("plot_runs_against_truth", lambda x: curves.plot_runs_against_truth({"m": SOFT}, x), ("truth", "runs")),
    ("plot_saddle.up", lambda x: curves.plot_saddle([0.0, 0.1], x, [0.0, -0.1], [SOFT], ["a"]),
     ("eps", "up", "down")),
    ("plot_saddle.labels", lambda x: curves.plot_saddle([0.0, 0.1], [0, 1], [0, -1], [SOFT], x), ("labels",)),
    ("plot_state_alignment.mapping",
     lambda x: curves.plot_state_alignment(np.eye(2), x, HMM2.emit, HMM2.emit), ("mapping",)),
    ("plot_state_emissions.highlight",
     lambda x: curves.plot_state_emissions(HMM2.emit, (0, 1), "abc", highlight=x), ("highlight",)),
    ("plot_em_vs_gradient.ga_run", lambda x: curves.plot_em_vs_gradient(SOFT, x), ("ga_run",)),
    ("plot_hard_vs_soft.hard", lambda x: curves.plot_hard_vs_soft(x), ("hard",)),
    ("draw_tree", lambda x: trees.draw_tree(x), ("tree",)),
    ("draw_trellis.values", lambda x: trellis.draw_trellis(HMM2, [0, 1], values=x), ("values",)),
    ("draw_trellis.edge_weights", lambda x: trellis.draw_trellis(HMM2, [0, 1], edge_weights=x),
     ("edge_weights",)),
    ("draw_trellis.state_names", lambda x: trellis.draw_trellis(HMM2, [0, 1], state_names=x),
     ("state_names",)),
    ("draw_trellis.m", lambda x: trellis.draw_trellis(x, [0, 1]), ("m",)),
    ("plot_posteriors.observations",
     lambda x: trellis.plot_posteriors(np.full((2, 2), 0.5), observations=x), ("observations",)),
    ("draw_init_run.true", lambda x: draw_init_run(SEQS, "uniform", 0, 2, 3, true=x, max_iter=2), ("true",)),
    ("draw_init_run.symbols", lambda x: draw_init_run(SEQS, "uniform", 0, 2, 3, symbols=x, max_iter=2),
     ("symbols",)),
    ("lower_bound_widget.family", lambda x: lower_bound_widget(x, COIN_DATA), ("family",)),
]


@pytest.mark.parametrize("case", ANY_CASES, ids=[c[0] for c in ANY_CASES])
@given(x=ANYTHING)
@settings(max_examples=20)
def test_every_other_argument_is_either_used_or_refused_by_name(case, x):
    _, call, names = case
    outcome(lambda: call(x), *names)
    plt.close("all")


def test_widgets_refuse_out_of_range_controls():
    from emlab.widgets import init_widget, rate_widget
    assert outcome(lambda: rate_widget(9.0), "separation") is REFUSED
    assert outcome(lambda: init_widget(SEQS, 2, 3, max_iter=0), "max_iter") is REFUSED
    assert outcome(lambda: lower_bound_widget(coin_family, COIN_DATA, lo=0.9, hi=0.1), "lo") is REFUSED
    assert outcome(lambda: lower_bound_widget(coin_family, COIN_DATA, theta_t=0.99), "theta_t") is REFUSED
