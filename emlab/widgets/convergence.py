"""The convergence-rate widget (notebook 05).

:func:`rate_widget`: a slider over the separation of two mixture components; EM's iterates and the
measured linear rate update. :func:`draw_rate` draws the same figure without a widget.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import convergence
from ..plots.axes import axes_row
from ..validation import as_generator, check_scalar

#: The separations :func:`draw_rate` accepts: below, the components nearly coincide and EM would
#: need far more than ``n_iter`` steps; above, it converges in a step or two and no rate is left
#: to measure. The widget's slider spans the same range.
SEPARATION_RANGE = (0.25, 5.0)


def draw_rate(separation: float, n: int = 400, weight: float = 0.3, n_iter: int = 60, rng=0, axes=None):
    """EM for the weight ``π`` of ``π N(δ, 1) + (1 − π) N(0, 1)`` with known components at
    separation ``δ``: the iterates (left) and the step ratios converging to the rate (right),
    with the predicted rate (fraction of missing information) as a line (05).
    Returns ``(measured_rate, predicted_rate)``. ``separation`` lies in :data:`SEPARATION_RANGE`,
    ``n`` in [20, 10⁶] points, ``weight`` in [0.05, 0.95] and ``n_iter`` in [10, 10⁴]; ``axes`` is two
    matplotlib Axes or None (a new figure)."""
    from scipy.stats import norm

    separation = check_scalar("separation", separation, low=SEPARATION_RANGE[0], high=SEPARATION_RANGE[1])
    n = check_scalar("n", n, low=20, high=10**6, integer=True)
    weight = check_scalar("weight", weight, low=0.05, high=0.95)
    n_iter = check_scalar("n_iter", n_iter, low=10, high=10**4, integer=True)
    if axes is not None:
        axes = axes_row(axes, 2, (8.8, 3.4))
    g = as_generator(rng)
    z = g.random(n) < weight
    x = g.standard_normal(n) + separation * z
    f = np.stack([norm.pdf(x), norm.pdf(x, loc=separation)], axis=1)
    pis = convergence.mixing_weight_em(f, 0.5, n_iter)
    long = convergence.mixing_weight_em(f, 0.5, 20 * n_iter)
    if not 1e-6 < long[-1] < 1 - 1e-6:
        raise ValueError(f"the {n} points drawn with rng={rng!r} give a maximum-likelihood weight of "
                         f"{long[-1]:.3g}, on the boundary, where no rate can be measured: use more points "
                         "(n), a weight nearer 0.5, or another rng")
    predicted = convergence.missing_information_fraction(f, long[-1])
    ratios = convergence.step_ratios(pis)
    measured = convergence.estimated_rate(pis)
    if axes is None:
        axes = axes_row(None, 2, (8.8, 3.4))
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

    lo, hi = SEPARATION_RANGE
    separation = check_scalar("separation", separation, low=lo, high=hi)
    slider = widgets.FloatSlider(value=separation, min=lo, max=hi, step=0.25, description="δ",
                                 continuous_update=False)

    def show(separation):
        draw_rate(separation)
        plt.show()

    return widgets.interactive(show, separation=slider)
