"""emlab.plots.gaps: what is drawn is the gap L* − L on a log axis, curves differ by more than colour."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from emlab.plots import gaps  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_gaps_draws_the_gap_on_a_log_axis_with_distinct_styles():
    runs = {"fast": [-10.0, -2.0, -1.5, -1.0], "slow": [-10.0, -5.0, -3.0, -2.0]}
    ax = gaps.plot_gaps(runs, target={"fast": -1.0, "slow": -1.5})
    assert ax.get_yscale() == "log"
    fast, slow = ax.get_lines()
    assert np.allclose(fast.get_ydata(), [9.0, 1.0, 0.5])            # the zero gap is not drawn
    assert np.allclose(fast.get_xdata(), [0, 1, 2])
    assert np.allclose(slow.get_ydata(), [8.5, 3.5, 1.5, 0.5])
    assert (fast.get_linestyle(), fast.get_marker()) != (slow.get_linestyle(), slow.get_marker())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["fast", "slow"]


def test_plot_gaps_against_e_steps_uses_the_runs_evaluations():
    class Run:
        log_likelihoods = [-4.0, -2.0, -1.0]
        evaluations = [1, 3, 7]
    ax = gaps.plot_gaps({"gradient": Run(), "em": [-4.0, -3.0, -2.0]}, target=0.0, x="evaluations")
    grad, em_line = ax.get_lines()
    assert np.allclose(grad.get_xdata(), [1, 3, 7])
    assert np.allclose(em_line.get_xdata(), [1, 2, 3])               # EM: one E-step per iteration
    with pytest.raises(ValueError, match="x must be"):
        gaps.plot_gaps({"a": [1.0]}, x="seconds")


def test_plot_floor_sweep_reference_line_has_the_given_slope():
    floors = np.array([1e-2, 1e-10, 1e-100])
    finals = -0.5 * np.log(floors) + 3.0
    ax = gaps.plot_floor_sweep(floors, finals, reference=-5.0)
    points, line, ref = ax.get_lines()
    assert np.allclose(points.get_ydata(), finals)
    x, y = line.get_xdata(), line.get_ydata()
    assert np.allclose(np.diff(y) / np.diff(np.log(x)), -0.5)
    assert np.allclose(ref.get_ydata(), -5.0)
    assert ax.xaxis_inverted()
    with pytest.raises(ValueError, match="positive"):
        gaps.plot_floor_sweep([0.0, 1.0], [1.0, 2.0])


def test_lecture_style_never_separates_curves_by_colour_alone():
    with matplotlib.rc_context(gaps.lecture_rc()):
        fig, ax = plt.subplots()
        lines = [ax.plot([0, 1], [i, i + 1])[0] for i in range(4)]
        assert len({ln.get_color() for ln in lines}) == 4
        assert len({str(ln.get_linestyle()) for ln in lines}) == 4
        assert matplotlib.rcParams["font.size"] * 0.833 >= 9      # "small" legends stay >= 9 pt
        assert fig.get_figwidth() * fig.dpi <= 900


def test_plot_spread_skips_non_positive_values():
    ax = gaps.plot_spread({"a": [1.0, 0.0, 0.1]}, ylabel="spread")
    (line,) = ax.get_lines()
    assert np.allclose(line.get_xdata(), [0, 2]) and ax.get_yscale() == "log"


def test_plot_assignments_marks_each_cluster_with_its_own_marker():
    from emlab.plots.clusters import plot_assignments

    X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]])
    (ax,) = plot_assignments(X, [("one", np.array([0, 0, 1]), np.array([[0.05, 0.0], [5.0, 5.0]]))])
    first, second, centres = ax.collections
    assert np.allclose(first.get_offsets(), X[:2]) and np.allclose(second.get_offsets(), X[2:])
    assert not np.array_equal(first.get_paths()[0].vertices, second.get_paths()[0].vertices)  # marker
    assert first.get_facecolor().tolist() != second.get_facecolor().tolist()                  # and colour
    assert np.allclose(centres.get_offsets(), [[0.05, 0.0], [5.0, 5.0]])
    with pytest.raises(ValueError, match="assignments"):
        plot_assignments(X, [("bad", np.array([0, 1]), X)])


def test_plot_restart_outcomes_separates_converged_from_cut_off_runs():
    from emlab.plots.restarts import plot_restart_outcomes

    final = np.array([-10.0, -10.0, -12.0, -11.0])
    ax = plot_restart_outcomes(final, [True, True, False, True], bins=3, reference=-9.0)
    solid, hatched = ax.containers
    assert [p.get_height() for p in solid] == [0, 1, 2]             # converged: -11 and twice -10
    assert [p.get_height() for p in hatched] == [1, 0, 0]           # cut off: the run at -12
    assert all(p.get_hatch() == "///" for p in hatched)
    assert ax.get_lines()[0].get_xdata()[0] == -9.0
    with pytest.raises(ValueError, match="converged"):
        plot_restart_outcomes(final, [True])
