"""Points coloured *and* marked by their cluster, one panel per method (notebook 07: k-means next to
hard EM of a spherical Gaussian mixture). Each cluster gets an Okabe-Ito colour and its own marker,
so the panels read without colour vision; centres are black crosses."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..validation import check_numbers
from .axes import _panels, axes_row
from .gaps import MARKERS, OKABE_ITO


def plot_assignments(X, panels: Sequence[tuple[str, np.ndarray, np.ndarray]], axes=None,
                     figsize=(8.8, 3.2)):
    """``panels``: ``(title (a str), assignments (N,) of cluster numbers 0, 1, …, centres (K, 2))`` per
    method; ``axes``: one matplotlib ``Axes`` per panel, or None for a new row. Returns the list of axes."""
    X = check_numbers("X", X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be (N, 2) points to draw, got shape {X.shape}")
    panels = _panels(panels, X.shape[0], labels=True)
    axes = axes_row(axes, len(panels), figsize, sharex=True, sharey=True)
    for ax, (title, z, c) in zip(axes, panels, strict=True):
        for k in np.unique(z):
            members = z == k
            ax.scatter(X[members, 0], X[members, 1], s=10, alpha=0.7, color=OKABE_ITO[k % len(OKABE_ITO)],
                       marker=MARKERS[k % len(MARKERS)], label=f"cluster {k}")
        ax.scatter(c[:, 0], c[:, 1], color="k", marker="x", s=70, linewidths=2, label="centres")
        ax.set_title(title, fontsize="medium")
    return axes
