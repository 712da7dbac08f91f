"""Restart outcomes, converged runs apart from cut-off ones (notebook 06).

A run stopped by ``max_iter`` has not reached a stationary point, so its final ``L`` is not an
optimum: counting "distinct end points" over all runs counts unfinished climbs as local optima.
:func:`plot_restart_outcomes` draws the final ``L`` of converged runs as solid bars and of cut-off
runs as hatched bars, on one set of bins.
"""

from __future__ import annotations

import numpy as np

from ..validation import check_numbers, check_scalar
from .axes import MAX_BINS, _text, single_axes
from .gaps import OKABE_ITO


def plot_restart_outcomes(final_lls, converged, ax=None, bins: int = 25, reference: float | None = None,
                          reference_label: str = "true model", title: str | None = None):
    """Stacked histogram of ``final_lls`` (1-D numbers) split by the booleans ``converged`` (same
    length), in ``bins`` bins (a whole number in ``[1, MAX_BINS]``); ``reference`` (a number or None) is
    marked with a vertical line labelled ``reference_label`` (a str); ``title`` is a str or None."""
    final = check_numbers("final_lls", final_lls)
    try:
        conv = np.asarray(converged)
    except ValueError:                                   # ragged nesting
        conv = np.asarray(None)
    if not (conv.dtype == bool or (conv.dtype.kind in "iu" and np.isin(conv, (0, 1)).all())):
        raise TypeError(f"converged must be True or False for each run, got {type(converged).__name__} "
                        f"of dtype {conv.dtype}")
    conv = conv.astype(bool)
    if final.ndim != 1 or final.size == 0 or conv.shape != final.shape:
        raise ValueError(f"final_lls and converged must be 1-D of one non-zero length, got {final.shape} "
                         f"and {conv.shape}")
    bins = check_scalar("bins", bins, low=1, high=MAX_BINS, integer=True)
    reference = None if reference is None else check_scalar("reference", reference)
    reference_label = _text("reference_label", reference_label, optional=False)
    title = _text("title", title)
    ax = single_axes(ax, (6.5, 3.4))
    edges = np.histogram_bin_edges(final, bins=bins)
    ax.hist([final[conv], final[~conv]], bins=edges, stacked=True, color=[OKABE_ITO[0], "white"],
            edgecolor=[OKABE_ITO[0], OKABE_ITO[1]], hatch=["", "///"],
            label=[f"converged ({conv.sum()})", f"cut off by max_iter ({(~conv).sum()})"])
    if reference is not None:
        ax.axvline(reference, color=OKABE_ITO[2], linestyle=":", label=f"{reference_label}: {reference:.1f}")
    ax.set(xlabel="final log-likelihood", ylabel="number of restarts")
    if title:
        ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small")
    return ax
