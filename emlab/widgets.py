"""Notebook widgets (ipywidgets) for the lectures on the EM bound and convergence (02, 05).

Each widget is a thin shell around a plain drawing function, so the same figure can be drawn
without a widget (static HTML, tests) and the widget only adds the slider:

- :func:`lower_bound_widget` (02): a slider over ``θ_t``; the EM lower bound built at ``θ_t`` is
  redrawn below ``L``, touching it at ``θ_t``, with the M-step's ``θ_{t+1}`` marked.
- :func:`rate_widget` (05): a slider over the separation of two mixture components; EM's
  iterates and the measured linear rate update.

The HMM stepping widget (03) lives with the HMM code, the initialization widget (06) with the
experiments.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np

from . import bound, convergence
from .plots.curves import plot_lower_bound


def draw_lower_bound(family: Callable, data, theta_t: float, thetas=None, ax=None, xlabel: str = "θ",
                     show_gap: bool = True):
    """Compute (:func:`emlab.bound.bound_on_path`) and draw the bound built at ``theta_t``.
    Returns the :class:`~emlab.bound.BoundOnPath` so callers can assert on it."""
    grid = np.linspace(0.01, 0.99, 197) if thetas is None else np.asarray(thetas, dtype=float)
    result = bound.bound_on_path(family, data, grid, theta_t)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    plot_lower_bound(result, ax=ax, xlabel=xlabel, show_gap=show_gap)
    gain = result.bound.max() - result.L_t
    ax.set_title(f"EM lower bound at θ_t = {theta_t:.2f}: guaranteed improvement {gain:.3f}")
    return result


def lower_bound_widget(family: Callable, data, theta_t: float = 0.6, thetas=None, xlabel: str = "θ",
                       lo: float = 0.05, hi: float = 0.95, step: float = 0.01):
    """A slider over ``θ_t`` redrawing :func:`draw_lower_bound` (02). Returns the
    ``ipywidgets.interactive`` (display it as the last expression of a cell)."""
    import ipywidgets as widgets

    slider = widgets.FloatSlider(value=theta_t, min=lo, max=hi, step=step, description="θ_t",
                                 continuous_update=False, readout_format=".2f")

    def show(theta_t):
        draw_lower_bound(family, data, theta_t, thetas=thetas, xlabel=xlabel)
        plt.show()

    return widgets.interactive(show, theta_t=slider)


def draw_rate(separation: float, n: int = 400, weight: float = 0.3, n_iter: int = 60, rng=0, axes=None):
    """EM for the weight ``π`` of ``π N(δ, 1) + (1 − π) N(0, 1)`` with known components at
    separation ``δ``: the iterates (left) and the step ratios converging to the rate (right),
    with the predicted rate (fraction of missing information) as a line (05).
    Returns ``(measured_rate, predicted_rate)``."""
    from scipy.stats import norm

    g = np.random.default_rng(rng)
    z = g.random(n) < weight
    x = g.standard_normal(n) + separation * z
    f = np.stack([norm.pdf(x), norm.pdf(x, loc=separation)], axis=1)
    pis = convergence.mixing_weight_em(f, 0.5, n_iter)
    long = convergence.mixing_weight_em(f, 0.5, 20 * n_iter)
    predicted = convergence.missing_information_fraction(f, long[-1])
    ratios = convergence.step_ratios(pis)
    measured = convergence.estimated_rate(pis)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    axes[0].plot(pis, ".-")
    axes[0].set_xlabel("iteration t")
    axes[0].set_ylabel("π_t")
    axes[0].set_title(f"separation δ = {separation:.2f}")
    axes[1].plot(np.arange(1, ratios.size + 1), ratios, ".", label="step ratio")
    axes[1].axhline(predicted, color="C1", label=f"missing information {predicted:.3f}")
    axes[1].set_ylim(0, 1.05)
    axes[1].set_xlabel("iteration t")
    axes[1].set_ylabel("‖θ_t+1 − θ_t‖ / ‖θ_t − θ_t−1‖")
    axes[1].legend(fontsize="small")
    return measured, predicted


def rate_widget(separation: float = 1.0):
    """A slider over the separation ``δ`` redrawing :func:`draw_rate` (05)."""
    import ipywidgets as widgets

    slider = widgets.FloatSlider(value=separation, min=0.25, max=5.0, step=0.25, description="δ",
                                 continuous_update=False)

    def show(separation):
        draw_rate(separation)
        plt.show()

    return widgets.interactive(show, separation=slider)
