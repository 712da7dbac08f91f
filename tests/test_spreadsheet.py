"""The forward-backward spreadsheet (emlab.widgets.sheet, .spreadsheet, emlab.plots.spreadsheet).

Every table is checked against an independent reference: brute-force enumeration of all state
paths on short diaries, and emlab's scaled forward-backward (hmm.posteriors, hmm.expected_counts)
and em.fit on the 33-day diary after random edits made through the sheet's own edit functions.
"""

from __future__ import annotations

import itertools
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection

from emlab import data, em, hmm
from emlab.plots import spreadsheet as plots
from emlab.widgets import BaumWelchStepper
from emlab.widgets.sheet import (
    MAX_DAYS,
    format_diary,
    forward_backward_sheet,
    parse_diary,
    set_day,
    set_parameter,
)
from emlab.widgets.spreadsheet import FIGURES, TABLES, Spreadsheet, sheet_tables_html, spreadsheet_widget


def joint(m, x, y):
    """p(x, y) from the definition: START, transitions, emissions, STOP."""
    p = m.start[y[0]] * m.emit[y[0], x[0]]
    for i in range(1, len(x)):
        p *= m.trans[y[i - 1], y[i]] * m.emit[y[i], x[i]]
    return p * (m.stop[y[-1]] if m.stop is not None else 1.0)


def brute(m, x):
    """Every posterior quantity of the sheet by enumerating all K^T paths."""
    T, K, V = len(x), m.K, m.V
    paths = list(itertools.product(range(K), repeat=T))
    probs = np.array([joint(m, x, y) for y in paths])
    p_x = probs.sum()
    gamma, xi = np.zeros((T, K)), np.zeros((max(T - 1, 0), K, K))
    counts = {"start": np.zeros(K), "trans": np.zeros((K, K)), "emit": np.zeros((K, V)), "stop": np.zeros(K)}
    for y, p in zip(paths, probs / p_x, strict=True):
        counts["start"][y[0]] += p
        counts["stop"][y[-1]] += p
        for i in range(T):
            gamma[i, y[i]] += p
            counts["emit"][y[i], x[i]] += p
        for i in range(T - 1):
            xi[i, y[i], y[i + 1]] += p
            counts["trans"][y[i], y[i + 1]] += p
    # α_i(y): every prefix y_1..y_i ending in y; β_i(y): every continuation y_{i+1}..y_T (and STOP)
    alpha, beta = np.zeros((T, K)), np.zeros((T, K))
    end = m.stop if m.stop is not None else np.ones(K)
    for i in range(T):
        for pre in itertools.product(range(K), repeat=i + 1):
            p = m.start[pre[0]] * m.emit[pre[0], x[0]]
            for j in range(1, i + 1):
                p *= m.trans[pre[j - 1], pre[j]] * m.emit[pre[j], x[j]]
            alpha[i, pre[-1]] += p
        for y in range(K):
            for suf in itertools.product(range(K), repeat=T - 1 - i):
                p, prev = 1.0, y
                for j, z in enumerate(suf, start=i + 1):
                    p *= m.trans[prev, z] * m.emit[z, x[j]]
                    prev = z
                beta[i, y] += p * end[prev]
    best = paths[int(np.argmax(probs))]
    return dict(p_x=p_x, gamma=gamma, xi=xi, counts=counts, alpha=alpha, beta=beta, best=np.array(best))


def random_hmm(rng, K, V, stop=True, floor=0.05):
    """A random HMM whose entries are all >= floor / size (so every diary has positive probability)."""
    def rows(n, k):
        r = rng.dirichlet(np.ones(k), size=n)
        return (1 - floor) * r + floor / k
    start = rows(1, K)[0]
    if stop:
        full = rows(K, K + 1)
        return hmm.HMM(start, full[:, :K], rows(K, V), full[:, K])
    return hmm.HMM(start, rows(K, K), rows(K, V))


@pytest.mark.parametrize("seed", range(12))
def test_tables_match_brute_force_enumeration(seed):
    rng = np.random.default_rng(seed)
    K = int(rng.integers(2, 4))
    T = int(rng.integers(1, 7 if K == 2 else 5))
    m = random_hmm(rng, K, 3, stop=bool(seed % 3))
    x = rng.integers(0, 3, size=T)
    s = forward_backward_sheet(m, x, n_iter=2)
    ref = brute(m, x)
    assert np.isclose(s.p_x, ref["p_x"], rtol=1e-12)
    assert np.allclose(s.alpha, ref["alpha"], rtol=1e-10, atol=0)
    assert np.allclose(s.beta, ref["beta"], rtol=1e-10, atol=0)
    assert np.allclose(s.alpha_beta, ref["p_x"], rtol=1e-12)           # the check, on every day
    assert np.allclose(s.gamma, ref["gamma"], atol=1e-12)
    assert np.allclose(s.xi, ref["xi"], atol=1e-12)
    for name, c in s.counts.items():
        assert np.allclose(c, ref["counts"][name], atol=1e-12), name
    assert ("stop" in s.counts) == (m.stop is not None)
    assert np.isclose(s.log_likelihoods[0], np.log(ref["p_x"]), rtol=1e-12)
    assert np.array_equal(s.viterbi_path, ref["best"])
    assert np.array_equal(s.posterior_path, ref["gamma"].argmax(axis=1))
    assert np.isclose(s.viterbi_log_prob, np.log(max(joint(m, x, y) for y in
                                                    itertools.product(range(K), repeat=T))), rtol=1e-12)


def random_edits(rng, n_edits=6):
    """Eisner's model and diary after random edits through set_parameter / set_day."""
    m, x = data.eisner_initial(), data.eisner_data()
    for _ in range(n_edits):
        if rng.random() < 0.3:
            x = set_day(x, int(rng.integers(1, len(x) + 1)), int(rng.integers(1, 4)))
            continue
        name = ["start", "trans", "emit"][int(rng.integers(3))]
        row = 0 if name == "start" else int(rng.integers(2))
        col = int(rng.integers({"start": 2, "trans": 3, "emit": 3}[name]))
        m = set_parameter(m, name, row, col, round(float(rng.uniform(0.02, 0.95)), 2))
    return m, x


@pytest.mark.parametrize("seed", range(10))
def test_tables_match_scaled_forward_backward_and_em_fit_after_random_edits(seed):
    rng = np.random.default_rng(100 + seed)
    m, x = random_edits(rng)
    n_iter = int(rng.integers(1, 8))
    s = forward_backward_sheet(m, x, n_iter=n_iter)
    gamma, xi = hmm.posteriors(m, x)                    # scaled forward-backward: another code path
    assert np.allclose(s.gamma, gamma, atol=1e-10) and np.allclose(s.xi, xi, atol=1e-10)
    assert np.isclose(np.log(s.p_x), hmm.log_likelihood(m, [x]), rtol=1e-12)
    assert np.allclose(s.alpha_beta, s.p_x, rtol=1e-10)
    ref_counts = hmm.expected_counts(m, [x])
    assert set(s.counts) == set(ref_counts)
    for name in ref_counts:
        assert np.allclose(s.counts[name], ref_counts[name], atol=1e-10), name
    assert np.isclose(s.counts["emit"].sum(), len(x)) and np.isclose(s.counts["trans"].sum(), len(x) - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        one = em.fit(m, [x], max_iter=1, tol=0).model
        res = em.fit(m, [x], max_iter=n_iter, tol=0)
    for name, p in one.params().items():
        assert np.allclose(s.reestimated.params()[name], p, atol=1e-10), name
    assert np.allclose(s.log_likelihoods, res.log_likelihoods, rtol=1e-12)
    assert np.all(np.diff(s.log_likelihoods) >= -1e-9 * abs(s.log_likelihoods[0]))    # EM never goes down
    for name, p in res.model.params().items():
        assert np.allclose(s.models[-1].params()[name], p, atol=1e-10), name
    assert np.allclose(s.gammas[-1], hmm.posteriors(res.model, x)[0], atol=1e-10)
    assert np.allclose(s.gammas[0], gamma, atol=1e-10)
    path, lp = hmm.viterbi(m, x)
    assert np.array_equal(s.viterbi_path, path) and lp <= np.log(s.p_x)


def test_eisner_default_reproduces_the_published_model_and_a_rising_p_x():
    s = forward_backward_sheet(data.eisner_initial(), data.eisner_data(), n_iter=10)
    assert len(s.diary) == 33 and format_diary(s.diary) == data.EISNER_DAYS
    assert s.models[0].stop.tolist() == [0.1, 0.1]
    assert np.exp(s.log_likelihoods[-1]) > 400 * s.p_x            # notebook 03: about 500-fold in ten


def test_set_parameter_keeps_the_typed_value_and_the_ratios_of_the_rest():
    m = data.eisner_initial()
    new = set_parameter(m, "trans", 0, 0, 0.5)          # q(C|C): .8 -> .5; q(H|C), q(STOP|C) were .1, .1
    assert new.trans[0, 0] == 0.5
    assert np.isclose(new.trans[0, 1], 0.25) and np.isclose(new.stop[0], 0.25)
    assert np.array_equal(new.trans[1], m.trans[1]) and new.stop[1] == m.stop[1]
    stop_edit = set_parameter(m, "trans", 1, 2, 0.3)              # column K is STOP
    assert stop_edit.stop[1] == 0.3 and np.isclose(stop_edit.trans[1].sum() + 0.3, 1)
    assert np.isclose(stop_edit.trans[1, 1] / stop_edit.trans[1, 0], 8.0)
    e = set_parameter(m, "emit", 1, 2, 1.0)
    assert e.emit[1].tolist() == [0.0, 0.0, 1.0]
    s = set_parameter(m, "start", 0, 1, 0.9)
    assert np.allclose(s.start, [0.1, 0.9])


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan"), float("inf"), "abc", None])
def test_set_parameter_refuses_what_is_not_a_probability(value):
    with pytest.raises(ValueError, match="probability|number"):
        set_parameter(data.eisner_initial(), "emit", 0, 0, value)


def test_set_parameter_refuses_a_row_that_cannot_sum_to_one_and_unknown_cells():
    m = set_parameter(data.eisner_initial(), "emit", 1, 2, 1.0)   # e(.|H) = (0, 0, 1)
    with pytest.raises(ValueError, match="all 0"):
        set_parameter(m, "emit", 1, 2, 0.5)
    with pytest.raises(ValueError, match="no entry"):
        set_parameter(m, "trans", 0, 3, 0.5)
    with pytest.raises(ValueError, match="name must be"):
        set_parameter(m, "stop", 0, 0, 0.5)


def test_diary_edits_and_their_refusals():
    assert parse_diary("2 3,1") .tolist() == [1, 2, 0]
    assert format_diary(parse_diary(data.EISNER_DAYS)) == data.EISNER_DAYS
    for bad, match in [("", "empty"), ("12a", "day 3"), ("140", "day 2"), ("1" * (MAX_DAYS + 1), "at most")]:
        with pytest.raises(ValueError, match=match):
            parse_diary(bad)
    x = data.eisner_data()
    assert set_day(x, 1, 3)[0] == 2 and x[0] == 1                 # a new diary; the old one is untouched
    for day, count in [(0, 1), (34, 1), (1, 0), (1, 4), (1.0, 2)]:
        with pytest.raises(ValueError):
            set_day(x, day, count)


def test_sheet_refuses_a_diary_of_probability_zero_and_bad_arguments():
    m = set_parameter(set_parameter(data.eisner_initial(), "emit", 0, 2, 0.0), "emit", 1, 2, 0.0)
    with pytest.raises(ValueError, match="probability zero"):
        forward_backward_sheet(m, parse_diary("123"))
    with pytest.raises(ValueError, match="n_iter"):
        forward_backward_sheet(data.eisner_initial(), data.eisner_data(), n_iter=0)
    with pytest.raises(ValueError, match="day 2"):
        forward_backward_sheet(data.eisner_initial(), np.array([0, 3]))
    with pytest.raises(TypeError, match="integer"):
        forward_backward_sheet(data.eisner_initial(), np.array([0.0, 1.0]))


def test_spreadsheet_applies_valid_edits_and_refuses_invalid_ones_without_changing_anything():
    sheet = Spreadsheet(n_iter=3)
    seen = []
    sheet.listeners.append(seen.append)
    before = sheet.sheet
    for refused in (lambda: sheet.edit_parameter("trans", 0, 0, 1.8),
                    lambda: sheet.set_diary("12x"),
                    lambda: sheet.edit_day(40, 1),
                    lambda: sheet.set_iterations(0),
                    lambda: sheet.select_day(99)):
        assert refused() is False
        assert sheet.sheet is before and not sheet.ok and "refused" in sheet.message
        assert "refused" in sheet.status_html()
    assert seen == ["refused"] * 5
    # both e(3|C) and e(3|H) -> 0 cannot be reached while the diary has 3s: the second edit is refused
    assert sheet.edit_parameter("emit", 0, 2, 0.0)
    assert not sheet.edit_parameter("emit", 1, 2, 0.0) and "probability zero" in sheet.message
    assert sheet.model.emit[1, 2] == 0.7
    assert sheet.edit_day(2, 1) and sheet.diary[1] == 0 and sheet.ok
    assert sheet.select_day(5) and sheet.day == 5 and seen[-1] == "day"
    assert sheet.set_iterations(4) and sheet.sheet.n_iter == 4 and seen[-1] == "iterations"
    assert sheet.set_diary("3") and len(sheet.diary) == 1 and sheet.day == 1
    sheet.reset()
    assert format_diary(sheet.diary) == data.EISNER_DAYS and sheet.n_iter == 3 and sheet.ok


def test_tables_show_the_sheets_numbers():
    s = forward_backward_sheet(data.eisner_initial(), data.eisner_data(), n_iter=4)
    t = sheet_tables_html(s)
    assert set(t) == set(TABLES)
    assert t["days"].count("<tr>") == 1 + 33                      # header + one row per day
    assert f"{s.alpha[7, 1]:.3e}" in t["days"] and f"{s.xi[3, 0, 1]:.3f}" in t["days"]
    assert "holds on all 33 days" in t["days"]
    assert f"{s.counts['trans'][1, 0]:.4f}" in t["counts"] and f"{s.counts['emit'][0, 2]:.4f}" in t["counts"]
    assert t["iterations"].count("<tr>") == 1 + 5
    assert f"{s.models[1].trans[0, 0]:.4f}" in t["iterations"]
    assert f"{np.exp(s.log_likelihoods[4]):.4e}" in t["iterations"]


def _decoding_difference():
    m = data.eisner_initial()
    edits = [("trans", 0, 0, 0.5), ("trans", 1, 1, 0.5), ("emit", 0, 0, 0.4), ("emit", 1, 2, 0.4)]
    for name, row, col, v in edits:
        m = set_parameter(m, name, row, col, v)
    return forward_backward_sheet(m, data.eisner_data(), n_iter=3)


def test_figures_draw_the_sheet():
    s = _decoding_difference()
    assert s.decodings_differ.size > 0                          # this edit makes the two decodings disagree
    for fig in (plots.plot_alpha_beta_trellis(s, day=4), plots.plot_iterations(s), plots.plot_decodings(s)):
        assert fig.get_size_inches()[0] * fig.dpi <= 900
        plt.close(fig)
    fig = plots.plot_alpha_beta_trellis(s, ("C", "H"), ("1", "2", "3"))
    top, bottom = fig.axes
    a_line = top.get_lines()[0]
    assert np.allclose(a_line.get_ydata(), np.log10(s.alpha[:, 0]))
    edges = [c for c in bottom.collections if isinstance(c, LineCollection)][0]
    assert np.allclose(edges.get_linewidths(), 0.3 + 5.0 * s.xi.ravel())
    plt.close(fig)
    fig = plots.plot_iterations(s, state=1)
    curves = [ln for ln in fig.axes[1].get_lines() if len(ln.get_ydata()) == len(s.diary)]
    assert len(curves) == s.n_iter + 1
    widths = [ln.get_linewidth() for ln in curves]
    assert widths == sorted(widths) and widths[0] < widths[-1]      # iteration 0 thin -> N bold
    for it, ln in enumerate(curves):
        assert np.allclose(ln.get_ydata(), s.gammas[it, :, 1])
    plt.close(fig)
    fig = plots.plot_decodings(s)
    marks = [t for t in fig.axes[0].texts if t.get_text() == "≠"]
    assert len(marks) == s.decodings_differ.size
    assert sorted(round(t.get_position()[0]) for t in marks) == list(s.decodings_differ + 1)
    plt.close(fig)


def test_spreadsheet_redraws_every_figure_and_the_same_edit_gives_the_same_picture():
    a, b = Spreadsheet(n_iter=3), Spreadsheet(n_iter=3)
    start = {name: a.png(name) for name in FIGURES}
    a.edit_parameter("trans", 0, 0, 0.6)
    b.edit_parameter("trans", 0, 0, 0.6)
    edited = {name: a.png(name) for name in FIGURES}
    assert all(edited[n] != start[n] for n in FIGURES)
    assert all(b.png(n) == edited[n] for n in FIGURES)
    assert a.tables() == b.tables() and a.tables() != Spreadsheet(n_iter=3).tables()


def test_em_step_makes_the_reestimated_parameters_current_as_em_fit_does():
    sheet = Spreadsheet(n_iter=3)
    assert sheet.em_step() and sheet.em_step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        two = em.fit(data.eisner_initial(), [data.eisner_data()], max_iter=2, tol=0).model
    for name, p in two.params().items():
        assert np.allclose(sheet.model.params()[name], p, atol=1e-12), name
    sheet.reset()
    assert np.array_equal(sheet.model.trans, data.eisner_initial().trans)


def test_the_baum_welch_stepper_titles_its_figure_with_the_posterior_it_shows():
    stepper = BaumWelchStepper(data.eisner_initial(), data.eisner_data(), state_names=data.EISNER_STATE_NAMES,
                               symbol_names=data.SYMBOL_NAMES)
    stepper.step()
    fig = stepper.render()
    assert fig.axes[0].get_title() == "iteration 1: p(Hot | diary)"
    assert fig.get_size_inches()[0] * fig.dpi <= 900
    line = fig.axes[0].get_lines()[0]
    assert np.allclose(line.get_ydata(), hmm.posteriors(stepper.model, data.eisner_data())[0][:, 1])
    plt.close(fig)


def _leaves(widget):
    children = getattr(widget, "children", ())
    return [widget] + [leaf for child in children for leaf in _leaves(child)]


def test_widget_boxes_edit_the_sheet_and_a_refused_value_springs_back():
    ui, sheet = spreadsheet_widget(n_iter=2)
    leaves = _leaves(ui)
    box = next(w for w in leaves if getattr(w, "description", None) == "q(C|C)")
    rest = next(w for w in leaves if getattr(w, "description", None) == "q(H|C)")
    status = next(w for w in leaves if "emlab-sheet-status" in getattr(w, "_dom_classes", ()))
    box.value = 0.6
    assert sheet.model.trans[0, 0] == 0.6 and rest.value == 0.2          # the rest of the row, shown rescaled
    before = sheet.sheet
    box.value = 1.7
    assert box.value == 0.6 and sheet.sheet is before and "refused" in status.value
    diary = next(w for w in leaves if getattr(w, "description", None) == "diary")
    diary.value = "3331"
    day = next(w for w in leaves if getattr(w, "description", None) == "day")
    assert len(sheet.diary) == 4 and day.max == 4
    diary.value = "33x"
    assert diary.value == "3331" and "refused" in status.value
