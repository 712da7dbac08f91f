"""Where a plotting helper draws: the caller's axes, checked, or new ones (every module of
:mod:`emlab.plots` and :mod:`emlab.widgets` takes ``ax=`` / ``axes=`` through these two functions)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes


def single_axes(ax, figsize, name: str = "ax") -> Axes:
    """``ax`` when it is a matplotlib ``Axes``; new axes of ``figsize`` when it is ``None``;
    else a ``TypeError`` naming ``name``."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(f"{name} must be a matplotlib Axes (e.g. from plt.subplots()) or None, "
                        f"got {type(ax).__name__}")
    return ax


def axes_row(axes, n: int, figsize, name: str = "axes", **subplots_kwargs) -> list[Axes]:
    """``n`` axes: the caller's ``axes`` (a sequence or array of ``n`` matplotlib ``Axes``), or a new
    row of ``n`` of ``figsize`` when ``axes`` is ``None``; else an error naming ``name``."""
    if axes is None:
        _, grid = plt.subplots(1, n, figsize=figsize, squeeze=False, **subplots_kwargs)
        return list(grid[0])
    if isinstance(axes, Axes) or isinstance(axes, (str, bytes, dict)) or not hasattr(axes, "__iter__"):
        raise TypeError(f"{name} must be a sequence of {n} matplotlib Axes or None, got {type(axes).__name__}")
    flat = list(np.ravel(np.asarray(axes, dtype=object))) if isinstance(axes, np.ndarray) else list(axes)
    if len(flat) != n:
        raise ValueError(f"{name} must hold {n} matplotlib Axes, got {len(flat)}")
    for i, ax in enumerate(flat):
        if not isinstance(ax, Axes):
            raise TypeError(f"{name}[{i}] must be a matplotlib Axes, got {type(ax).__name__}")
    return flat
