"""Convergence figures on a log scale, in a colour-blind-safe style (notebooks 05–08).

Linear convergence means ``L* − L(θ_t) ≈ C r^{2t}``: a straight line on a log axis. On a linear
axis the first step dominates and hides it, so every convergence argument in 05–08 is drawn here as
``L* − L(θ_t)`` on a log scale.

- :func:`use_lecture_style` — the figure style of the lectures: the Okabe & Ito (2008)
  colour-blind-safe palette *combined with* a line-style cycle (curves never differ by colour
  alone) and an 11-pt base font, so that even ``fontsize="small"`` legends are above 9 pt.
- :func:`plot_gaps` — ``L* − L(θ_t)`` of several runs against iteration or against E-steps used.
- :func:`plot_floor_sweep` — the Gaussian-mixture singularity (05): the final ``L`` of EM against
  the variance floor, a straight line of slope ``−D/2`` per collapsed point in ``ln(floor)``.
- :func:`plot_spread` — a quantity per run on a log axis (stochastic EM's fluctuation, 07).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib import cycler

from ..validation import check_bool, check_numbers, check_scalar
from .axes import _curve, _mapping, _text, single_axes

#: Okabe & Ito (2008), "Color universal design": distinguishable with every common colour-vision deficiency
#: (their yellow, too pale on a white page, is replaced by grey).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999", "#000000")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (3, 1)), (0, (1, 3)), (0, (6, 2, 1, 2, 1, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

#: Widest figure (inches) that fits the notebook column: 9 in × 100 dpi (matplotlib's default inline dpi).
MAX_WIDTH = 8.8


def lecture_rc() -> dict:
    """The rcParams of :func:`use_lecture_style`."""
    return {"axes.prop_cycle": cycler(color=OKABE_ITO) + cycler(linestyle=LINESTYLES),
            "font.size": 11.0, "figure.figsize": (7.0, 3.6), "axes.grid": True, "grid.alpha": 0.3,
            "image.cmap": "viridis"}


def use_lecture_style() -> None:
    """Apply :func:`lecture_rc` to matplotlib's global rcParams (call once at the top of a notebook)."""
    mpl.rcParams.update(lecture_rc())


def style(i: int) -> dict:
    """Colour, line style and marker of the ``i``-th curve (``i`` a whole number ≥ 0; the styles
    cycle), for artists drawn by hand."""
    i = check_scalar("i", i, low=0, integer=True)
    return {"color": OKABE_ITO[i % len(OKABE_ITO)], "linestyle": LINESTYLES[i % len(LINESTYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


def plot_gaps(runs: Mapping[str, object], target: float | Mapping[str, float] | None = None, ax=None,
              x: str = "iteration", attr: str = "log_likelihoods", floor: float = 1e-12,
              markevery: int | None = None, title: str | None = None, legend: bool = True):
    """``L* − L(θ_t)`` of each run on a log axis (05, 07, 08).

    Parameters
    ----------
    runs : a dict label → an ``EMResult`` (or anything with ``attr``, by default ``log_likelihoods``)
        or a 1-D sequence.
    target : ``L*``: one number for all runs, a dict of one per label, or ``None`` (the largest value
        any run reached).
    x : ``"iteration"`` (t) or ``"evaluations"`` (E-steps used: ``run.evaluations`` when the run has
        it — gradient methods —, else ``t + 1``, one E-step per EM iteration).
    floor : gaps below this number ≥ 0 (rounding noise once a run has converged) are not drawn.
    markevery : marker spacing, a whole number ≥ 1 (default: about 12 markers per curve).
    title : a str, or None for no title; ``legend``: True or False.
    """
    runs = _mapping("runs", runs, "label -> run")
    if not isinstance(x, str) or x not in ("iteration", "evaluations"):
        raise ValueError(f"x must be 'iteration' or 'evaluations', got {x!r}")
    if not isinstance(attr, str):
        raise TypeError(f"attr must be the name of an EMResult attribute, got {type(attr).__name__}")
    values = {k: _curve(r, attr, f"runs[{k!r}]", attr_arg=True) for k, r in runs.items()}
    if target is None:
        stars = dict.fromkeys(values, max(float(np.max(v)) for v in values.values()))
    elif isinstance(target, Mapping):
        missing = [k for k in values if k not in target]
        if missing:
            raise ValueError(f"target has no value for the run {missing[0]!r}: give one per label of runs")
        stars = {k: check_scalar(f"target[{k!r}]", target[k]) for k in values}
    else:
        stars = dict.fromkeys(values, check_scalar("target", target))
    floor = check_scalar("floor", floor, low=0)
    if markevery is not None:
        markevery = check_scalar("markevery", markevery, low=1, high=1_000_000, integer=True)
    title = _text("title", title)
    legend = check_bool("legend", legend)
    ax = single_axes(ax, (7.0, 3.6))
    for i, (label, v) in enumerate(values.items()):
        gap = stars[label] - v
        if x == "evaluations":
            xs = check_numbers(f"runs[{label!r}].evaluations",
                               getattr(runs[label], "evaluations", np.arange(1, v.size + 1)))
            if xs.shape != v.shape:
                raise ValueError(f"runs[{label!r}]: {xs.size} evaluation counts for {v.size} values")
        else:
            xs = np.arange(v.size, dtype=float)
        keep = gap > floor
        every = markevery or max(1, int(keep.sum()) // 12)
        ax.semilogy(xs[keep], gap[keep], label=label, markevery=every, markersize=5, **style(i))
    ax.set_xlabel("iteration t" if x == "iteration" else "E-steps (inference passes) used")
    ax.set_ylabel("L* − L(θ_t)  (log scale)")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(fontsize="small")
    return ax


def plot_floor_sweep(floors, final_lls, reference: float | None = None, slope: float = -0.5, ax=None,
                     reference_label: str = "true model"):
    """Final ``L`` of EM against the variance floor (05, the Gaussian-mixture singularity).

    ``floors`` and ``final_lls`` are 1-D of one length. Draws the measured points, the line
    ``L = c + slope · ln(floor)`` through the smallest floor's point (one component collapsed on one
    point in ``D`` dimensions gives ``slope = −D/2``; a number in [-1e6, 1e6]), and ``reference`` (a
    number or None) as a horizontal line labelled ``reference_label`` (a str).
    """
    floors = check_numbers("floors", floors)
    final = check_numbers("final_lls", final_lls)
    if floors.ndim != 1 or floors.shape != final.shape or floors.size < 2:
        raise ValueError(f"floors and final_lls must be 1-D of one length >= 2, got {floors.shape} "
                         f"and {final.shape}")
    if np.any(floors <= 0):
        raise ValueError("floors must be positive (they are drawn on a log axis)")
    reference = None if reference is None else check_scalar("reference", reference)
    slope = check_scalar("slope", slope, low=-1e6, high=1e6)
    reference_label = _text("reference_label", reference_label, optional=False)
    ax = single_axes(ax, (7.0, 3.6))
    ax.semilogx(floors, final, linestyle="none", label="EM's final L(θ)", **{k: v for k, v in style(0).items()
                                                                             if k != "linestyle"})
    i = int(np.argmin(floors))
    grid = np.logspace(np.log10(floors.min()), np.log10(floors.max()), 50)
    ax.semilogx(grid, final[i] + slope * (np.log(grid) - np.log(floors[i])), color=OKABE_ITO[1],
                linestyle="--", label=f"slope {slope:g} per unit of ln(floor)")
    if reference is not None:
        ax.axhline(reference, color=OKABE_ITO[2], linestyle=":", label=f"{reference_label}: {reference:.1f}")
    lowest = int(np.floor(np.log10(floors.min())))
    if lowest < -20:                       # a few round decades instead of matplotlib's odd choice
        step = max(10, 10 * round(-lowest / 60))
        ax.set_xticks(10.0 ** np.arange(0, lowest - 1, -step))
    ax.invert_xaxis()
    ax.set(xlabel="variance floor min_variance (log scale, smaller to the right)", ylabel="final L(θ)")
    ax.legend(fontsize="small")
    return ax


def plot_spread(series: Mapping[str, Sequence[float]], ax=None, xlabel: str = "iteration t",
                ylabel: str = "", title: str | None = None):
    """Several positive series on a log axis, each with its own colour, line style and marker.

    ``series`` is a dict label → 1-D sequence of numbers (entries ≤ 0 are not drawn); ``xlabel`` and
    ``ylabel`` are strs, ``title`` a str or None."""
    series = _mapping("series", series, "label -> 1-D sequence of numbers")
    arrays = {}
    for label, s in series.items():
        arrays[label] = check_numbers(f"series[{label!r}]", s)
        if arrays[label].ndim != 1:
            raise ValueError(f"series[{label!r}] must be 1-D, got shape {arrays[label].shape}")
    xlabel = _text("xlabel", xlabel, optional=False)
    ylabel = _text("ylabel", ylabel, optional=False)
    title = _text("title", title)
    ax = single_axes(ax, (7.0, 3.6))
    for i, (label, s) in enumerate(arrays.items()):
        keep = s > 0
        ax.semilogy(np.flatnonzero(keep), s[keep], label=label, markevery=max(1, int(keep.sum()) // 12),
                    markersize=5, **style(i))
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax
