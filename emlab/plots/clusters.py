"""Points coloured *and* marked by their cluster, one panel per method (notebook 07: k-means next to
hard EM of a spherical Gaussian mixture). Each cluster gets an Okabe-Ito colour and its own marker,
so the panels read without colour vision; centres are black crosses."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .gaps import MARKERS, OKABE_ITO


def plot_assignments(X, panels: Sequence[tuple[str, np.ndarray, np.ndarray]], axes=None,
                     figsize=(8.8, 3.2)):
    """``panels``: ``(title, assignments (N,), centres (K, 2))`` per method. Returns the axes."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be (N, 2) points to draw, got shape {X.shape}")
    if len(panels) == 0:
        raise ValueError("panels is empty")
    if axes is None:
        _, axes = plt.subplots(1, len(panels), figsize=figsize, sharex=True, sharey=True, squeeze=False)
        axes = axes[0]
    for ax, (title, z, centres) in zip(axes, panels, strict=True):
        z = np.asarray(z)
        if z.shape != (X.shape[0],):
            raise ValueError(f"panel {title!r}: assignments must have shape ({X.shape[0]},), got {z.shape}")
        for k in np.unique(z):
            members = z == k
            ax.scatter(X[members, 0], X[members, 1], s=10, alpha=0.7, color=OKABE_ITO[k % len(OKABE_ITO)],
                       marker=MARKERS[k % len(MARKERS)], label=f"cluster {k}")
        c = np.asarray(centres, dtype=float)
        ax.scatter(c[:, 0], c[:, 1], color="k", marker="x", s=70, linewidths=2, label="centres")
        ax.set_title(title, fontsize="medium")
    return axes
