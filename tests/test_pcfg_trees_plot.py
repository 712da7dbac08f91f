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
