"""The inside-chart explorer (emlab.widgets.chart_sheet, .chart, emlab.plots.chart).

Every chart is checked against brute-force enumeration of all trees (built from ``g.prob`` only)
on random grammars and sentences, and the edit functions refuse invalid grammars and sentences
without changing anything.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emlab import pcfg
from emlab.data import grammars
from emlab.plots.chart import plot_inside_chart
from emlab.widgets.chart import CHART_FIGURES, ChartExplorer, chart_widget
from emlab.widgets.chart_sheet import MAX_WORDS, format_rules, inside_chart_sheet, parse_rules, parse_sentence


def all_trees(g, words, A, i, j):
    """Every tree of words[i:j] rooted at A with its probability p(x, t), from g.prob alone."""
    if j == i + 1:
        q = g.prob(A, (words[i],))
        return [((A, words[i]), q)] if q > 0 else []
    out = []
    for k in range(i + 1, j):
        for B in g.nonterminals:
            for C in g.nonterminals:
                q = g.prob(A, (B, C))
                if q > 0:
                    out += [((A, lt, rt), q * lp * rp) for lt, lp in all_trees(g, words, B, i, k)
                            for rt, rp in all_trees(g, words, C, k, j)]
    return out


def spans(t, i=0):
    if len(t) == 2:
        return {(i, i + 1, t[0])}, i + 1
    left, k = spans(t[1], i)
    right, j = spans(t[2], k)
    return left | right | {(i, j, t[0])}, j


@pytest.mark.parametrize("seed", range(8))
def test_charts_match_enumeration_of_all_trees(seed):
    rng = np.random.default_rng(seed)
    nts = ["S", "A", "B"][: 2 + seed % 2]
    g = pcfg.PCFG.random(nts, ["a", "b", "c"], rng=rng, start="S")
    n = int(rng.integers(1, 5))
    words = list(rng.choice(["a", "b", "c"], size=n))
    s = inside_chart_sheet(g, words)
    trees = all_trees(g, words, "S", 0, n)
    p_x = sum(p for _, p in trees)
    assert math.isclose(s.p_x, p_x, rel_tol=1e-10)
    for i in range(n):
        for j in range(i + 1, n + 1):
            for a_idx, a in enumerate(g.nonterminals):
                inside = sum(p for _, p in all_trees(g, words, a, i, j))
                assert math.isclose(s.inside[i, j, a_idx], inside, rel_tol=1e-9, abs_tol=1e-15)
                post = sum(p for t, p in trees if (i, j, a) in spans(t)[0]) / p_x
                assert math.isclose(s.labelled[i, j, a_idx], post, abs_tol=1e-9)
            constituent = sum(p for t, p in trees if any((i, j) == sp[:2] for sp in spans(t)[0])) / p_x
            assert math.isclose(s.constituent[i, j], constituent, abs_tol=1e-9)
    counts = {}
    for t, p in trees:
        for rule in pcfg.tree_rules(t):
            counts[rule] = counts.get(rule, 0.0) + p / p_x
    for rule, c in s.counts.items():
        assert math.isclose(c, counts.get(rule, 0.0), abs_tol=1e-9), rule
    best_tree, best_p = max(trees, key=lambda tp: tp[1])
    assert math.isclose(math.exp(s.tree_log_prob), best_p, rel_tol=1e-9)
    assert s.tree_spans() == spans(s.tree)[0] and pcfg.tree_yield(s.tree) == words


def test_manning_schutze_published_numbers():
    s = inside_chart_sheet(grammars.manning_schutze_grammar(), grammars.MANNING_SCHUTZE_SENTENCE)
    assert math.isclose(s.p_x, 0.0015876, rel_tol=1e-9)
    assert math.isclose(math.exp(s.tree_log_prob), 0.0009072, rel_tol=1e-9)
    assert math.isclose(s.constituent[2, 5], 4 / 7, rel_tol=1e-9)    # "stars with ears": the NP attachment


def test_rules_round_trip_and_refusals():
    g = grammars.manning_schutze_grammar()
    again = pcfg.PCFG.from_rules(parse_rules(format_rules(g)), start=g.start)
    assert again.rules() == g.rules()
    assert parse_rules("# a comment\nS -> A A 1.0  # binary\n\nA -> a 1") == [("S", ("A", "A"), 1.0),
                                                                           ("A", ("a",), 1.0)]
    for bad, match in [("S -> A A", "probability"), ("S A A 1.0", "line 1"), ("", "no rules"),
                       ("S -> 1.0", "line 1"), ("S T -> A 1.0", "line 1")]:
        with pytest.raises(ValueError, match=match):
            parse_rules(bad)
    assert parse_sentence("  saw  stars ") == ["saw", "stars"]
    with pytest.raises(ValueError, match="empty"):
        parse_sentence("   ")


def test_sheet_refuses_unparsable_unknown_and_long_sentences():
    g = grammars.manning_schutze_grammar()
    with pytest.raises(ValueError, match="no parse"):
        inside_chart_sheet(g, ["astronomers", "saw"])
    with pytest.raises(ValueError, match="dogs"):
        inside_chart_sheet(g, ["astronomers", "saw", "dogs"])
    with pytest.raises(ValueError, match="at most"):
        inside_chart_sheet(g, ["stars"] * (MAX_WORDS + 1))


def test_explorer_refuses_invalid_edits_without_changing_anything():
    ex = ChartExplorer()
    seen = []
    ex.listeners.append(seen.append)
    before = ex.sheet
    text = format_rules(ex.grammar)
    for refused in (lambda: ex.set_sentence("astronomers saw"),
                    lambda: ex.set_sentence("astronomers saw dogs"),
                    lambda: ex.set_grammar(text.replace("NP -> NP PP 0.4", "NP -> NP PP 0.5"))):  # NP: 1.1
        assert refused() is False
        assert ex.sheet is before and "refused" in ex.message and "refused" in ex.status_html()
    assert "NP" in ex.message                      # the grammar's message names the left-hand side
    assert seen == ["refused"] * 3
    edited = text.replace("NP -> NP PP 0.4", "NP -> NP PP 0.2")
    edited = edited.replace("NP -> stars 0.18", "NP -> stars 0.38")
    assert ex.set_grammar(edited) and ex.grammar.prob("NP", ("NP", "PP")) == 0.2 and seen[-1] == "all"
    ref = inside_chart_sheet(ex.grammar, grammars.MANNING_SCHUTZE_SENTENCE)
    assert np.allclose(ex.sheet.inside, ref.inside) and ex.sheet.p_x != before.p_x
    vp = ex.sheet.tree[2]
    assert vp[0] == "VP" and vp[1][0] == "VP" and vp[2][0] == "PP"   # now "with ears" attaches to the verb
    assert ex.set_sentence("astronomers saw stars") and ex.words == ["astronomers", "saw", "stars"]
    ex.reset()
    assert ex.words == grammars.MANNING_SCHUTZE_SENTENCE
    assert ex.grammar.rules() == grammars.manning_schutze_grammar().rules()


def test_figures_show_the_chart_and_redraw_for_an_edit():
    ex = ChartExplorer()
    fig = plot_inside_chart(ex.sheet)
    assert fig.get_size_inches()[0] * fig.dpi <= 900
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "★S 0.00159" in texts and "★V 1\nNP 0.04" in texts       # β(0,5,S) = p(x), both entries of "saw"
    plt.close(fig)
    start = {n: ex.png(n) for n in CHART_FIGURES}
    ex.set_sentence("astronomers saw stars with stars")
    changed = {n: ex.png(n) for n in CHART_FIGURES}
    assert all(changed[n] != start[n] for n in CHART_FIGURES)
    other = ChartExplorer()
    other.set_sentence("astronomers saw stars with stars")
    assert all(other.png(n) == changed[n] for n in CHART_FIGURES)


def test_widget_text_boxes_edit_the_explorer_and_refused_text_springs_back():
    ui, explorer = chart_widget()
    leaves = [ui]
    i = 0
    while i < len(leaves):
        leaves += list(getattr(leaves[i], "children", ()))
        i += 1
    sentence = next(w for w in leaves if getattr(w, "description", None) == "sentence")
    rules = next(w for w in leaves if getattr(w, "description", None) == "grammar")
    status = next(w for w in leaves if "emlab-chart-status" in getattr(w, "_dom_classes", ()))
    sentence.value = "astronomers saw stars"
    assert explorer.words == ["astronomers", "saw", "stars"] and "refused" not in status.value
    good = rules.value
    rules.value = good + "\nS -> NP 1.0"
    assert rules.value == good and "refused" in status.value and "Chomsky" in status.value
    sentence.value = "stars saw"
    assert sentence.value == "astronomers saw stars" and "no parse" in status.value
