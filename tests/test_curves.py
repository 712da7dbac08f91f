"""emlab.plots.curves and emlab.widgets: they draw the numbers they are given (checked on the
Artists), and the widget's figure is the bound that lies below L."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emlab import bound, mixture, widgets
from emlab.plots import curves


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def coin_a_family(a):
    return mixture.CategoricalMixture([0.5, 0.5], [[a, 1 - a], [0.5, 0.5]], learn_weights=False)


def test_log_likelihood_curves_plot_each_run():
    runs = [[-10.0, -8.0, -7.5, -7.4], [-12.0, -9.0, -7.6]]
    ax = curves.plot_log_likelihoods(runs, labels=["a", "b"])
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_array_equal(lines[1].get_ydata(), runs[1])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_gap_plot_is_distance_to_the_best_value_on_a_log_axis():
    run = [-10.0, -8.0, -7.5, -7.4]
    ax = curves.plot_log_likelihoods(run, gap=True, target=-7.0)
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [3.0, 1.0, 0.5, 0.4])
    with pytest.raises(ValueError, match="2 labels for 1 runs"):
        curves.plot_log_likelihoods(run, labels=["a", "b"])


def test_lower_bound_plot_draws_L_and_the_bound_touching_at_theta_t():
    X, _ = mixture.two_coins_example()
    res = bound.bound_on_path(coin_a_family, X, np.linspace(0.05, 0.95, 91), 0.6)
    ax = curves.plot_lower_bound(res)
    L_line, B_line = ax.get_lines()[:2]
    np.testing.assert_array_equal(L_line.get_ydata(), res.log_likelihoods)
    np.testing.assert_array_equal(B_line.get_ydata(), res.bound)
    touch = ax.get_lines()[2]
    assert touch.get_xdata()[0] == 0.6 and touch.get_ydata()[0] == pytest.approx(res.L_t)


def test_restart_histogram_counts_every_run():
    finals = [-5.0, -5.0, -6.0, -7.5]
    ax = curves.plot_restart_histogram(finals, bins=3, reference=-5.5)
    assert sum(p.get_height() for p in ax.patches) == 4
    with pytest.raises(ValueError, match="empty"):
        curves.plot_restart_histogram([])


def test_side_by_side_clusters_checks_assignment_shape():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    axes = curves.plot_clusters_side_by_side(X, [("k-means", [0, 0, 1], [[0.5, 0.5], [5, 5]]),
                                                 ("hard EM", [0, 0, 1], [[0.5, 0.5], [5, 5]])])
    assert [a.get_title() for a in axes] == ["k-means", "hard EM"]
    with pytest.raises(ValueError, match="panel 'x'"):
        curves.plot_clusters_side_by_side(X, [("x", [0, 1], [[0, 0]])])


def test_lower_bound_widget_has_a_theta_slider_and_draws_a_valid_bound():
    X, _ = mixture.two_coins_example()
    w = widgets.lower_bound_widget(coin_a_family, X, theta_t=0.3)
    slider = w.children[0]
    assert slider.description == "θ_t" and slider.value == 0.3
    res = widgets.draw_lower_bound(coin_a_family, X, 0.3)
    assert np.all(res.bound <= res.log_likelihoods + 1e-12)
    assert res.theta_next > 0.3  # the M-step moves θ_A up towards the heads-heavy trials


def test_rate_widget_measures_the_predicted_rate():
    measured, predicted = widgets.draw_rate(1.5)
    assert measured == pytest.approx(predicted, abs=5e-3)
    assert widgets.rate_widget(2.0).children[0].value == 2.0


def test_hard_vs_soft_draws_both_curves_arrows_at_the_drops_and_the_changes():
    from types import SimpleNamespace

    hard = SimpleNamespace(objectives=[-50.0, -40.0, -38.0, -37.0],
                           log_likelihoods=[-30.0, -25.0, -27.0, -26.0])
    soft = SimpleNamespace(log_likelihoods=[-30.0, -24.0, -23.0, -22.5])
    left, right = curves.plot_hard_vs_soft(hard, soft, drops=[2])
    lines = {line.get_label(): line.get_ydata() for line in left.get_lines()}
    np.testing.assert_array_equal(lines["hard EM: log p(x)"], hard.log_likelihoods)
    np.testing.assert_array_equal(lines["hard EM: its objective  Σ max_y log p(x, y)"], hard.objectives)
    np.testing.assert_array_equal(lines["soft EM (same start): log p(x)"], soft.log_likelihoods)
    arrows = [a for a in left.texts if a.arrow_patch is not None]
    assert [(a.xy, a.xyann) for a in arrows] == [((2, -27.0), (1, -25.0))]
    heights = sorted(round(p.get_height(), 9) for p in right.patches)
    assert heights == sorted([2.0, 1.0, -2.0, 1.0])   # changes at t = 2, 3 of H and of L


def test_runs_against_truth_draws_each_run_and_its_true_value():
    runs = {"a": [-10.0, -8.0, -7.0], "b": [-20.0, -15.0]}
    truth = {"a": -7.5, "b": -16.0}
    axes = curves.plot_runs_against_truth(runs, truth)
    assert [ax.get_title() for ax in axes] == ["a", "b"]
    for ax, name in zip(axes, ["a", "b"], strict=True):
        curve, true_line = ax.get_lines()
        np.testing.assert_array_equal(curve.get_ydata(), runs[name])
        assert list(true_line.get_ydata()) == [truth[name]] * 2 and true_line.get_label() == "true model"
    with pytest.raises(ValueError, match="same models"):
        curves.plot_runs_against_truth(runs, {"a": -7.5})


def test_stopping_rules_draw_the_relative_change_of_L_and_the_parameter_change():
    from types import SimpleNamespace

    run = SimpleNamespace(log_likelihoods=[-100.0, -50.0, -40.0, -39.0], param_changes=[0.5, 0.1, 0.01])
    left, right = curves.plot_stopping_rules(run, stopped_at=2, tol=1e-3)
    np.testing.assert_array_equal(left.get_lines()[0].get_ydata(), run.log_likelihoods)
    assert list(left.get_lines()[1].get_xdata()) == [2, 2]           # where the relative-change rule stopped
    rel, params, tol = right.get_lines()
    np.testing.assert_allclose(rel.get_ydata(), [0.5, 0.2, 1 / 40])
    np.testing.assert_array_equal(params.get_ydata(), run.param_changes)
    assert list(tol.get_ydata()) == [1e-3, 1e-3] and right.get_yscale() == "log"
    with pytest.raises(ValueError, match="outside"):
        curves.plot_stopping_rules(run, stopped_at=4)
    with pytest.raises(ValueError, match="tol must be positive"):
        curves.plot_stopping_rules(run, stopped_at=1, tol=0)


def test_saddle_plot_draws_both_directions_and_the_em_runs():
    eps, up, down = [0.0, 0.1, 0.2], [0.0, 0.3, 0.5], [0.0, -0.4, -1.0]
    left, right = curves.plot_saddle(eps, up, down, [[-5.0, -5.0], [-5.0, -3.0, -2.0]], labels=["s", "j"])
    np.testing.assert_array_equal(left.get_lines()[0].get_ydata(), up)
    np.testing.assert_array_equal(left.get_lines()[1].get_ydata(), down)
    np.testing.assert_array_equal(right.get_lines()[1].get_ydata(), [-5.0, -3.0, -2.0])
    with pytest.raises(ValueError, match="one length"):
        curves.plot_saddle(eps, up[:2], down, [[-5.0]], labels=["s"])


def test_state_alignment_writes_the_counts_and_shows_both_emission_matrices():
    confusion = np.array([[5, 1], [0, 7]])
    true_emit = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    learned = np.array([[0.45, 0.35, 0.2], [0.15, 0.05, 0.8]])
    axes = curves.plot_state_alignment(confusion, [1, 0], true_emit, learned)
    assert sorted(t.get_text() for t in axes[0].texts) == ["0", "1", "5", "7"]
    assert axes[0].get_title() == "confusion; matched: 0→1, 1→0"
    np.testing.assert_array_equal(axes[0].get_images()[0].get_array(), confusion)
    np.testing.assert_array_equal(axes[1].get_images()[0].get_array(), true_emit)
    np.testing.assert_array_equal(axes[2].get_images()[0].get_array(), learned)
    with pytest.raises(ValueError, match="one entry per learned state"):
        curves.plot_state_alignment(confusion, [0], true_emit, learned)
    with pytest.raises(ValueError, match="differ in shape"):
        curves.plot_state_alignment(confusion, [0, 1], true_emit, learned[:, :2])


def test_state_emissions_draw_one_bar_per_letter_and_state_and_colour_the_highlighted_letters():
    emit = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    ax = curves.plot_state_emissions(emit, (1, 0), "a b", highlight=[0])
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_array_equal(heights, [0.1, 0.1, 0.8, 0.5, 0.3, 0.2])   # state 1's bars, then state 0's
    ticks = ax.get_xticklabels()
    assert [t.get_text() for t in ticks] == ["a", "␣", "b"]
    assert ticks[0].get_color() == "C1" and ticks[2].get_color() != "C1"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["state 1", "state 0"]
    with pytest.raises(ValueError, match="one column per letter"):
        curves.plot_state_emissions(emit, (0, 1), "ab")
    with pytest.raises(ValueError, match="exactly two states"):
        curves.plot_state_emissions(emit, (0,), "a b")


def test_em_vs_gradient_puts_each_value_at_the_e_steps_it_used():
    from types import SimpleNamespace

    em_run = SimpleNamespace(log_likelihoods=[-100.0, -60.0, -50.0])
    ga_run = SimpleNamespace(log_likelihoods=[-100.0, -80.0, -70.0], evaluations=[1, 3, 6])
    ax = curves.plot_em_vs_gradient(em_run, ga_run, zoom=0.5)
    em_line, ga_line = ax.get_lines()
    np.testing.assert_array_equal(em_line.get_xdata(), [1, 2, 3])     # one E-step per EM iteration
    np.testing.assert_array_equal(em_line.get_ydata(), em_run.log_likelihoods)
    np.testing.assert_array_equal(ga_line.get_xdata(), ga_run.evaluations)
    np.testing.assert_array_equal(ga_line.get_ydata(), ga_run.log_likelihoods)
    assert ax.get_ylim() == (-75.0, -45.0)                            # halfway up EM's climb, to L_T + 5
    with pytest.raises(ValueError, match="one evaluation count per log-likelihood"):
        curves.plot_em_vs_gradient(em_run, SimpleNamespace(log_likelihoods=[-1.0, -0.5], evaluations=[1]))
    with pytest.raises(ValueError, match="zoom"):
        curves.plot_em_vs_gradient(em_run, ga_run, zoom=1.0)
