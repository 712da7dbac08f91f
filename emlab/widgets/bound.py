"""The EM lower bound widget (notebook 02).

:func:`lower_bound_widget`: a slider over ``θ_t``; the EM lower bound built at ``θ_t`` is redrawn
below ``L``, touching it at ``θ_t``, with the M-step's ``θ_{t+1}`` marked. :func:`draw_lower_bound`
draws the same figure without a widget.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np

from .. import bound
from ..plots.axes import single_axes
from ..plots.curves import plot_lower_bound
from ..validation import check_bool, check_scalar


def draw_lower_bound(family: Callable, data, theta_t: float, thetas=None, ax=None, xlabel: str = "θ",
                     show_gap: bool = True):
    """Compute (:func:`emlab.bound.bound_on_path`) and draw the bound built at ``theta_t``.
    Returns the :class:`~emlab.bound.BoundOnPath` so callers can assert on it.

    A mistake in ``data`` (found when the model at ``theta_t`` prepares it) is reported naming ``data``."""
    if ax is not None:
        single_axes(ax, (7, 4.5))
    show_gap = check_bool("show_gap", show_gap)
    grid = np.linspace(0.01, 0.99, 197) if thetas is None else thetas
    try:
        result = bound.bound_on_path(family, data, grid, theta_t)
    except (ValueError, TypeError) as exc:      # only the data's checks name none of the arguments
        if any(name in str(exc) for name in ("family", "data", "thetas", "theta_t")):
            raise
        raise type(exc)(f"data: {exc}") from None
    ax = single_axes(ax, (7, 4.5))
    plot_lower_bound(result, ax=ax, xlabel=xlabel, show_gap=show_gap)
    gain = result.bound.max() - result.L_t
    ax.set_title(f"EM lower bound at θ_t = {theta_t:.2f}: guaranteed improvement {gain:.3f}")
    return result


def lower_bound_widget(family: Callable, data, theta_t: float = 0.6, thetas=None, xlabel: str = "θ",
                       lo: float = 0.05, hi: float = 0.95, step: float = 0.01):
    """A slider over ``θ_t`` redrawing :func:`draw_lower_bound` (02). Returns the
    ``ipywidgets.interactive`` (display it as the last expression of a cell)."""
    import ipywidgets as widgets

    lo = check_scalar("lo", lo)
    hi = check_scalar("hi", hi)
    if not lo < hi:
        raise ValueError(f"lo must be below hi, got lo={lo!r}, hi={hi!r}")
    step = check_scalar("step", step, low=0, high=hi - lo, low_open=True)
    theta_t = check_scalar("theta_t", theta_t)
    if not lo <= theta_t <= hi:
        raise ValueError(f"theta_t must lie in the slider's range [lo, hi] = [{lo:g}, {hi:g}], "
                         f"got {theta_t!r}")
    if not callable(family):
        raise TypeError(f"family must be a function theta -> model, got {type(family).__name__}")
    slider = widgets.FloatSlider(value=theta_t, min=lo, max=hi, step=step, description="θ_t",
                                 continuous_update=False, readout_format=".2f")

    def show(theta_t):
        draw_lower_bound(family, data, theta_t, thetas=thetas, xlabel=xlabel)
        plt.show()

    return widgets.interactive(show, theta_t=slider)
