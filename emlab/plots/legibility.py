"""Make a finished figure legible in the notebook column (notebooks 01-04).

The lecture figures must fit the column of a 1280-px window (at most 900 px wide at the inline
dpi, which is matplotlib's ``figure.dpi``: 100 with matplotlib-inline ≥ 0.1.7) with text of at
least 9 pt. Some drawing helpers write node labels or tick labels in 7-8 pt; :func:`raise_small_text`
lifts every text of a figure to a floor after drawing, and :func:`smallest_text` /
:func:`width_px` measure what a reader will see.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.text as mtext
from matplotlib.figure import Figure

from ..validation import check_instance, check_scalar

__all__ = ["raise_small_text", "smallest_text", "width_px"]


def _is_tick_label(text: mtext.Text, fig: Figure) -> bool:
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if text in axis.get_ticklabels(which="both"):
                return True
    return False


def raise_small_text(fig: Figure, min_size: float = 9.0) -> int:
    """Set every non-empty text of ``fig`` smaller than ``min_size`` points to ``min_size``.

    Covers titles, axis labels, legends, annotations and ``ax.text`` labels; tick labels are set
    through ``Axes.tick_params`` so that ticks matplotlib creates later get the size too.
    Returns the number of texts changed. Larger texts are left alone.
    """
    check_instance("fig", fig, Figure, "a matplotlib Figure")
    min_size = check_scalar("min_size", min_size, low=0, high=100, low_open=True, high_open=True)
    changed = 0
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            labels = [t for t in axis.get_ticklabels(which="both") if t.get_text()]
            small = sum(t.get_fontsize() < min_size for t in labels)
            if small:
                ax.tick_params(axis=name, which="both", labelsize=min_size)
                changed += small
    for text in fig.findobj(mtext.Text):
        if text.get_text() and text.get_fontsize() < min_size and not _is_tick_label(text, fig):
            text.set_fontsize(min_size)
            changed += 1
    return changed


def smallest_text(fig: Figure) -> float:
    """The smallest font size (points) of any visible, non-empty text of ``fig`` (a matplotlib
    ``Figure``) after drawing it."""
    check_instance("fig", fig, Figure, "a matplotlib Figure")
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(mtext.Text) if t.get_text() and t.get_visible()]
    return float(min(sizes)) if sizes else float("inf")


def width_px(fig: Figure, dpi: float | None = None) -> float:
    """The width in pixels of ``fig`` (a matplotlib ``Figure``) at ``dpi`` (a number in (0, 10000]; default:
    ``rcParams['figure.dpi']``, the inline dpi)."""
    check_instance("fig", fig, Figure, "a matplotlib Figure")
    dpi = mpl.rcParams["figure.dpi"] if dpi is None else check_scalar("dpi", dpi, low=0, high=10_000,
                                                                       low_open=True)
    return float(fig.get_figwidth() * dpi)
