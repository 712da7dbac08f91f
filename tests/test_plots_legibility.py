"""emlab.plots.legibility: every text of a figure raised to a floor, measured on its artists."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from emlab import hmm  # noqa: E402
from emlab.plots import legibility, trellis  # noqa: E402


def _small_figure():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set_xticks([0, 0.5, 1], ["zero", "half", "one"], fontsize=7)
    ax.tick_params(axis="y", labelsize=6)
    ax.text(0.5, 0.5, "node", fontsize=8)
    ax.set_title("title", fontsize=14)
    ax.legend(fontsize=7)
    return fig, ax


def test_small_texts_are_raised_and_large_ones_kept():
    fig, ax = _small_figure()
    assert legibility.smallest_text(fig) < 9
    changed = legibility.raise_small_text(fig, 9)
    assert changed >= 5
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    assert min(sizes) >= 9
    assert ax.title.get_fontsize() == 14                      # larger text untouched
    assert all(t.get_fontsize() >= 9 for t in ax.get_xticklabels() + ax.get_yticklabels())
    assert legibility.smallest_text(fig) == 9
    plt.close(fig)


def test_ticks_created_after_the_call_get_the_floor_too():
    fig, ax = _small_figure()
    legibility.raise_small_text(fig, 10)
    ax.set_xlim(-5, 5)                                        # new ticks appear
    fig.canvas.draw()
    assert all(t.get_fontsize() >= 10 for t in ax.get_xticklabels() if t.get_text())
    plt.close(fig)


def test_trellis_node_labels_reach_nine_points():
    m = hmm.HMM([0.5, 0.5], [[0.8, 0.1], [0.1, 0.8]], [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]], stop=[0.1, 0.1])
    fig, ax = plt.subplots(figsize=(8.6, 2.8))
    seq = np.array([1, 2, 2, 1])
    trellis.draw_trellis(m, seq, ax=ax, values=hmm.forward_table(m, seq))
    assert legibility.smallest_text(fig) < 9                  # the trellis writes 8-pt nodes
    legibility.raise_small_text(fig)
    assert legibility.smallest_text(fig) >= 9
    assert legibility.width_px(fig, dpi=100) == pytest.approx(860)
    plt.close(fig)


def test_bad_arguments():
    with pytest.raises(TypeError, match="fig"):
        legibility.raise_small_text("not a figure")
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="min_size"):
        legibility.raise_small_text(fig, 0)
    plt.close(fig)
