"""Curves the EM notebooks draw: log-likelihood per iteration, the EM lower bound, restart
histograms, k-means next to hard EM (notebooks 02, 05, 06, 07, 08).

Every function takes an optional matplotlib ``ax`` (a new figure is made without one) and returns
the ``Axes`` it drew on, so notebooks can combine panels and tests can inspect what was drawn.
They only draw: the numbers come from :mod:`emlab.em`, :mod:`emlab.bound`, :mod:`emlab.convergence`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def _axes(ax=None, figsize=(6, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _curve(run) -> np.ndarray:
    """The log-likelihood list of an ``EMResult`` (or anything with ``log_likelihoods``), or a sequence."""
    values = getattr(run, "log_likelihoods", run)
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"a run must be an EMResult or a 1-D sequence of values, got shape {arr.shape}")
    return arr


def plot_log_likelihoods(runs, labels: Sequence[str] | None = None, ax=None, gap: bool = False,
                         target: float | None = None, attr: str = "log_likelihoods", title: str | None = None,
                         **line_kwargs):
    """Log-likelihood against iteration for one run or many (05, 06, 07, 08).

    Parameters
    ----------
    runs : an ``EMResult``, a sequence of values, or a list of either.
    labels : one label per run (a legend is drawn when given).
    gap : plot ``L* − L_t`` on a log scale instead (``L*`` = ``target``, default the largest value
        reached by any run). Linear convergence is then a straight line whose slope is ``log r²``.
    attr : which attribute of an ``EMResult`` to draw (``"objectives"`` for hard EM's objective).
    """
    ax = _axes(ax)
    single = hasattr(runs, attr) or (len(runs) > 0 and np.isscalar(runs[0]))
    runs = [runs] if single else list(runs)
    curves = [np.asarray(getattr(r, attr), dtype=float) if hasattr(r, attr) else _curve(r) for r in runs]
    if labels is not None and len(labels) != len(curves):
        raise ValueError(f"got {len(labels)} labels for {len(curves)} runs")
    best = target if target is not None else max(float(np.max(c)) for c in curves)
    marker = "." if max(c.size for c in curves) <= 40 else None
    for i, c in enumerate(curves):
        label = labels[i] if labels is not None else None
        if gap:
            y = best - c
            keep = y > 0
            ax.semilogy(np.flatnonzero(keep), y[keep], marker=marker, label=label, **line_kwargs)
        else:
            ax.plot(np.arange(c.size), c, marker=marker, label=label, **line_kwargs)
    ax.set_xlabel("iteration t")
    ax.set_ylabel("L* − L(θ_t)" if gap else "log-likelihood L(θ_t)")
    if title:
        ax.set_title(title)
    if labels is not None:
        ax.legend(fontsize="small")
    return ax


def plot_lower_bound(result, ax=None, show_gap: bool = False, xlabel: str = "θ", ylim_margin: float = 0.5):
    """The EM lower bound touching ``L`` at ``θ_t`` (02).

    ``result`` is an :class:`emlab.bound.BoundOnPath`: ``L(θ)`` on a grid and the bound
    ``L(θ_t) + Q(θ|θ_t) − Q(θ_t|θ_t)``. Draws both curves, the touching point ``θ_t`` and the
    bound's maximizer ``θ_{t+1}`` (the M-step), with the guaranteed improvement as an arrow.
    With ``show_gap`` the gap ``L − bound`` (a KL divergence) is shaded.
    """
    ax = _axes(ax)
    th, L, B = result.thetas, result.log_likelihoods, result.bound
    ax.plot(th, L, color="C0", lw=2, label="L(θ) = log p(x; θ)")
    ax.plot(th, B, color="C1", lw=2, ls="--", label="bound  L(θ_t) + Q(θ|θ_t) − Q(θ_t|θ_t)")
    if show_gap:
        ok = np.isfinite(L) & np.isfinite(B)
        ax.fill_between(th[ok], B[ok], L[ok], color="C0", alpha=0.12, label="gap = KL ≥ 0")
    i_next = int(np.argmax(B))
    ax.plot([result.theta_t], [result.L_t], "o", color="k", zorder=5, label=f"θ_t = {result.theta_t:.3g}")
    ax.plot([th[i_next]], [B[i_next]], "s", color="C1", zorder=5, label=f"θ_t+1 = {th[i_next]:.3g}")
    ax.plot([th[i_next]], [L[i_next]], "o", color="C0", zorder=5)
    ax.axvline(result.theta_t, color="k", lw=0.5, ls=":")
    ax.axvline(th[i_next], color="C1", lw=0.5, ls=":")
    finite = np.concatenate([L[np.isfinite(L)], B[np.isfinite(B)]])
    top = float(np.max(finite))
    span = top - result.L_t
    ax.set_ylim(result.L_t - max(3 * span, 1.0) - ylim_margin, top + 0.3 * max(span, 1.0))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("log-likelihood")
    ax.legend(fontsize="small", loc="best")
    return ax


def plot_restart_histogram(runs, ax=None, bins: int = 20, best: float | None = None,
                           reference: float | None = None, reference_label: str = "true model",
                           xlabel: str = "final log-likelihood"):
    """Histogram of the final log-likelihood of many restarts (06): several bars = local optima.

    ``runs`` is a list of ``EMResult`` or of numbers. ``reference`` (e.g. ``L`` of the true model)
    is marked with a vertical line; the best run with another.
    """
    finals = np.array([r.log_likelihood if hasattr(r, "log_likelihood") else float(r) for r in runs])
    if finals.size == 0:
        raise ValueError("runs is empty")
    ax = _axes(ax)
    ax.hist(finals, bins=bins, color="C0", alpha=0.8)
    top = float(np.max(finals)) if best is None else best
    ax.axvline(top, color="C2", ls="--", label=f"best: {top:.2f}")
    if reference is not None:
        ax.axvline(reference, color="C3", ls=":", label=f"{reference_label}: {reference:.2f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("number of restarts")
    ax.legend(fontsize="small")
    return ax


def plot_clusters_side_by_side(X, panels: Sequence[tuple[str, np.ndarray, np.ndarray]], axes=None,
                               figsize=(10, 4)):
    """2-D points coloured by assignment, one panel per method (07: k-means vs hard EM).

    ``panels`` is a list of ``(title, assignments (N,), centres (K, 2))``. Returns the axes.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"X must be (N, 2) points to draw, got shape {X.shape}")
    if axes is None:
        _, axes = plt.subplots(1, len(panels), figsize=figsize, sharex=True, sharey=True, squeeze=False)
        axes = axes[0]
    for ax, (title, z, centres) in zip(axes, panels, strict=True):
        z = np.asarray(z)
        if z.shape != (X.shape[0],):
            raise ValueError(f"panel {title!r}: assignments must have shape ({X.shape[0]},), got {z.shape}")
        ax.scatter(X[:, 0], X[:, 1], c=z, cmap="tab10", vmin=0, vmax=9, s=12, alpha=0.7)
        c = np.asarray(centres, dtype=float)
        ax.scatter(c[:, 0], c[:, 1], c="k", marker="x", s=80, linewidths=2)
        ax.set_title(title)
    return axes


def plot_rate_vs(x, measured, predicted=None, ax=None, xlabel: str = "separation", label="measured"):
    """The linear convergence rate ``r`` against some property of the problem (05), measured from
    EM runs and, if given, predicted (e.g. the fraction of missing information)."""
    ax = _axes(ax)
    ax.plot(x, measured, "o", label=label)
    if predicted is not None:
        ax.plot(x, predicted, "-", color="C1", label="predicted (missing information)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rate r = ‖θ_t+1 − θ_t‖ / ‖θ_t − θ_t−1‖")
    ax.set_ylim(0, 1.05)
    ax.axhline(1, color="k", lw=0.5)
    ax.legend(fontsize="small")
    return ax


def plot_hard_vs_soft(hard, soft=None, drops=(), axes=None):
    """Hard EM's two curves (notebook 07): its objective ``Σ max_y log p(x, y)`` and ``log p(x)``
    (left, with soft EM's ``log p(x)`` from the same start when given), arrows where ``log p(x)``
    fell (iterations in ``drops``), and the change of each at every iteration from ``t = 2`` (right;
    the first step's jump would dwarf the rest)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(13, 4))
    objective, lls = np.asarray(hard.objectives), np.asarray(hard.log_likelihoods)
    left, right = axes
    left.plot(objective, "s-", color="C1", label="hard EM: its objective  Σ max_y log p(x, y)")
    left.plot(lls, "o-", color="C0", label="hard EM: log p(x)")
    top = lls.max()
    if soft is not None:
        left.plot(soft.log_likelihoods, "--", color="C2", label="soft EM (same start): log p(x)")
        top = max(top, max(soft.log_likelihoods))
    for t in drops:
        left.annotate("", xy=(t, lls[t]), xytext=(t - 1, lls[t - 1]),
                      arrowprops=dict(arrowstyle="->", color="C3", lw=2))
    left.set(xlabel="iteration t", ylabel="log-probability",
             title="hard EM raises its objective, not log p(x) (red: L fell)")
    left.set_ylim(objective[1:].min() - 20, top + 10)
    left.legend(fontsize="small", loc="lower right")
    steps = np.arange(2, lls.size)
    right.bar(steps - 0.2, np.diff(objective)[1:], 0.4, color="C1", label="change of the hard objective")
    right.bar(steps + 0.2, np.diff(lls)[1:], 0.4, color="C0", label="change of log p(x)")
    right.axhline(0, color="k", lw=0.8)
    right.set(xlabel="iteration t", ylabel="change from t−1", title="change at each iteration (from t = 2)")
    right.legend(fontsize="small")
    return axes
