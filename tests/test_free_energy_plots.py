"""emlab.plots.free_energy: the artists hold the numbers given, curves differ by more than colour."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from emlab import free_energy as fe  # noqa: E402
from emlab import hmm  # noqa: E402
from emlab.plots import free_energy as fplots  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_bound_along_draws_l_f_gap_and_kl():
    lam = np.linspace(0, 1, 5)
    F = np.array([-5.0, -4.0, -3.5, -3.2, -3.0])
    KL = -3.0 - F
    ax = fplots.plot_bound_along(lam, -3.0, F, KL)
    L_line, F_line, gap_line, kl_line = ax.get_lines()
    assert np.allclose(L_line.get_ydata(), -3.0)
    assert np.allclose(F_line.get_ydata(), F)
    assert np.allclose(gap_line.get_ydata(), KL) and np.allclose(kl_line.get_ydata(), KL)
    styles = {(ln.get_linestyle(), ln.get_marker()) for ln in ax.get_lines()}
    assert len(styles) == 4
    with pytest.raises(ValueError, match="KL"):
        fplots.plot_bound_along(lam, -3.0, F, KL[:2])


def test_plot_staircase_follows_the_half_steps():
    truth = hmm.HMM([0.6, 0.4], [[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    seqs, _ = hmm.sample(truth, 4, 8, rng=0)
    tr = fe.trace(hmm.HMM.random(2, 3, rng=1), seqs, n_iter=3)
    ax = fplots.plot_staircase(tr, first=1)
    stairs, marks = ax.get_lines()
    assert np.allclose(stairs.get_xdata(), [1, 2, 2, 2, 3, 3])
    assert np.allclose(stairs.get_ydata(), [tr.after_e[1], tr.after_m[1], tr.after_e[2],
                                            tr.after_e[2], tr.after_m[2], tr.after_e[3]])
    assert np.allclose(marks.get_ydata(), tr.log_likelihoods[1:])
    assert marks.get_linestyle() == "None" and stairs.get_linestyle() == "-"
    with pytest.raises(ValueError, match="first"):
        fplots.plot_staircase(tr, first=3)


def test_plot_passes_uses_each_runs_passes():
    class Online:
        passes = np.array([0.0, 0.5, 1.0])
        log_likelihoods = np.array([-10.0, -4.0, -2.0])

    class Batch:
        log_likelihoods = [-10.0, -6.0, -3.0]

    runs = {"online": Online(), "batch": Batch(), "pair": ([0, 2], [-9.0, -1.0])}
    ax = fplots.plot_passes(runs, target=-1.0)
    online, batch, pair = ax.get_lines()
    assert ax.get_yscale() == "log"
    assert np.allclose(online.get_xdata(), [0, 0.5, 1]) and np.allclose(online.get_ydata(), [9, 3, 1])
    assert np.allclose(batch.get_xdata(), [0, 1, 2])
    assert np.allclose(pair.get_xdata(), [0]) and np.allclose(pair.get_ydata(), [8])    # zero gap not drawn
    assert len({(ln.get_linestyle(), ln.get_marker()) for ln in ax.get_lines()}) == 3
    with pytest.raises(ValueError, match="empty"):
        fplots.plot_passes({}, target=0.0)


def test_plot_chains_draws_each_trajectory_and_the_target():
    chains = {"a": np.array([0.5, 0.7, 0.6]), "b": [0.5, 0.8, 0.79, 0.8]}
    ax = fplots.plot_chains(chains, target=0.8)
    a, b, target = ax.get_lines()
    assert np.allclose(a.get_xdata(), [0, 1, 2]) and np.allclose(a.get_ydata(), chains["a"])
    assert np.allclose(b.get_ydata(), chains["b"]) and np.allclose(target.get_ydata(), 0.8)
    assert (a.get_linestyle(), a.get_marker()) != (b.get_linestyle(), b.get_marker())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "soft EM's fixed point"]
    with pytest.raises(ValueError, match="empty"):
        fplots.plot_chains({})
    with pytest.raises(ValueError, match="chain 'a'"):
        fplots.plot_chains({"a": np.zeros((2, 2))})
