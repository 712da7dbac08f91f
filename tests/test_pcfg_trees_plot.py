import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from emlab.plots import trees  # noqa: E402


def test_tree_layout_puts_words_in_order_and_parents_over_children():
    tree = ("S", ("NP", "astronomers"), ("VP", ("V", "saw"), ("NP", "stars")))
    nodes, edges = trees.tree_layout(tree)
    words = sorted((x, text) for x, y, text, kind in nodes if kind == "word")
    assert words == [(0.0, "astronomers"), (1.0, "saw"), (2.0, "stars")]
    assert {y for _, y, _, kind in nodes if kind == "word"} == {-3}
    root = [(x, y) for x, y, text, kind in nodes if text == "S"]
    assert root == [((0.0 + 1.5) / 2, 0)]  # centred over NP (x=0) and VP (x=1.5)
    assert len(edges) == len(nodes) - 1  # a tree: one edge into every node but the root


def test_draw_tree_returns_axes_and_rejects_non_trees():
    ax = trees.draw_tree(("S", ("A", "a"), ("B", "b")), title="t")
    assert len(ax.texts) == 5 and ax.get_title() == "t"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="a tree is"):
        trees.draw_tree(("S", ("A",), ("B", "b")))


def test_span_posterior_chart_writes_each_span_value_in_its_cell():
    import numpy as np

    from emlab.plots.trees import plot_span_posteriors

    words = ["a", "b", "c"]
    constituent = np.zeros((4, 4))
    constituent[0, 1], constituent[1, 3], constituent[0, 3] = 1.0, 0.25, 1.0
    ax = plot_span_posteriors(constituent, words)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    # row = first word (i), column = last word (j - 1)
    assert cells[(0, 0)] == "1.00" and cells[(1, 2)] == "0.25" and cells[(0, 2)] == "1.00"
    assert cells[(1, 1)] == "0.00" and len(cells) == 6     # only spans i < j are written
    with pytest.raises(ValueError, match="shape"):
        plot_span_posteriors(np.zeros((3, 3)), words)
