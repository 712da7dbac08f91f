"""Restart outcomes, converged runs apart from cut-off ones (notebook 06).

A run stopped by ``max_iter`` has not reached a stationary point, so its final ``L`` is not an
optimum: counting "distinct end points" over all runs counts unfinished climbs as local optima.
:func:`plot_restart_outcomes` draws the final ``L`` of converged runs as solid bars and of cut-off
runs as hatched bars, on one set of bins.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .gaps import OKABE_ITO


def plot_restart_outcomes(final_lls, converged, ax=None, bins: int = 25, reference: float | None = None,
                          reference_label: str = "true model", title: str | None = None):
    """Stacked histogram of ``final_lls`` (1-D) split by the boolean ``converged`` (same length)."""
    final = np.asarray(final_lls, dtype=float)
    conv = np.asarray(converged, dtype=bool)
    if final.ndim != 1 or final.size == 0 or conv.shape != final.shape:
        raise ValueError(f"final_lls and converged must be 1-D of one non-zero length, got {final.shape} "
                         f"and {conv.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.4))
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
