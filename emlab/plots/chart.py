"""The inside chart drawn as a CKY table (notebook 04_pcfg_chart_explorer).

Cell ``(i, j)`` of the table (row = first word of the span, column = last word) lists every
nonterminal ``A`` with ``β(i, j, A) > 0`` and its inside probability; its shade is the span's
posterior ``P((i, j) is a constituent | x)`` (0 white → 1 dark, the "Blues" map), and the cells of
the CKY tree are outlined in bold with their label marked ``★``, so shade is never the only cue.
The numbers come from :class:`emlab.widgets.chart_sheet.ChartSheet`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..sheets import ChartSheet
from ..validation import check_instance, check_scalar
from .axes import single_axes

__all__ = ["plot_inside_chart"]


def plot_inside_chart(sheet, ax=None, max_labels: int = 4):
    """Draw the inside chart of ``sheet`` (a :class:`emlab.widgets.chart_sheet.ChartSheet`) on ``ax``
    (a matplotlib ``Axes``, or None for a new figure that pyplot does not track); returns the figure.
    At most ``max_labels`` (a whole number ≥ 1) nonterminals are listed per cell (the most probable;
    "+k more" says how many are left out)."""
    check_instance("sheet", sheet, ChartSheet,
                   "an emlab.widgets.chart_sheet.ChartSheet (from chart_sheet.inside_chart_sheet)")
    max_labels = check_scalar("max_labels", max_labels, low=1, integer=True)
    words = sheet.words
    n = len(words)
    if ax is None:
        width = min(8.8, 1.3 + 1.25 * n)
        ax = Figure(figsize=(width, min(6.5, 0.9 + 0.85 * n))).subplots()   # not tracked by pyplot
    else:
        ax = single_axes(ax, None)
    fig = ax.figure
    shade = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(i, n):
            shade[i, j] = sheet.constituent[i, j + 1]
    ax.imshow(shade, cmap="Blues", vmin=0, vmax=1.6, aspect="auto")
    on_tree = sheet.tree_spans()
    names = sheet.grammar.nonterminals
    for i in range(n):
        for j in range(i + 1, n + 1):
            cell = sheet.inside[i, j]
            order = [A for A in np.argsort(-cell, kind="stable") if cell[A] > 0]
            best = {a for (a_i, a_j, a) in on_tree if (a_i, a_j) == (i, j)}
            lines = [("★" if names[A] in best else "") + f"{names[A]} {cell[A]:.3g}"
                     for A in order[:max_labels]]
            if len(order) > max_labels:
                lines.append(f"+{len(order) - max_labels} more")
            ax.text(j - 1, i, "\n".join(lines) if lines else "·", ha="center", va="center", fontsize=8,
                    color="0.5" if not lines else "black")
            if best:
                ax.add_patch(Rectangle((j - 1.5, i - 0.5), 1, 1, fill=False, ec="black", lw=2.2))
    ax.set_xticks(range(n), [f"…{w}" for w in words], rotation=25, fontsize=9)
    ax.set_yticks(range(n), [f"{w}…" for w in words], fontsize=9)
    ax.set_xlabel("span ends with")
    ax.set_ylabel("span starts with")
    ax.set_title(f"inside chart β(i, j, A); p(x) = β(0, n, {sheet.grammar.start}) = {sheet.p_x:.6g}\n"
                 "shade: P(span is a constituent | x); bold ★: the CKY tree", fontsize=10)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    return fig
