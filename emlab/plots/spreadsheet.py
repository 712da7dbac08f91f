"""The figures of the forward-backward spreadsheet (notebook 03_hmm_spreadsheet).

Each function draws one :class:`emlab.widgets.sheet.Sheet` (the numbers come from there) and
returns its figure, at most 8.8 inches = 880 px wide at matplotlib's default 100 dpi. The figures are
``matplotlib.figure.Figure`` objects that pyplot does not track, so a widget callback can draw
them at any moment without the inline backend also showing them; display one with IPython's
``display(fig)`` (or as a cell's value), save it with ``fig.savefig``:

- :func:`plot_alpha_beta_trellis`: ``log10 α_i(y)`` and ``log10 β_i(y)`` per day, over the trellis
  with node shade and size = ``γ_i(y) = α β / p(x)`` and edge width = ``ξ_i(y', y)``;
- :func:`plot_iterations`: ``p(x)`` per Baum-Welch iteration, and the posterior of one state for
  every iteration overlaid (iteration 0 faint and thin → N bold);
- :func:`plot_decodings`: the Viterbi path and posterior-max decoding as two labelled strips,
  the days where they differ marked.

Colours are the Okabe-Ito palette and the cividis map (both readable with colour-vision
deficiencies), and nothing is told by colour alone: states also differ in marker and line style
and are written as letters, iterations also differ in line width and opacity.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..sheets import Sheet
from ..validation import check_instance, check_scalar
from .axes import _names

__all__ = ["STATE_COLORS", "STATE_MARKERS", "plot_alpha_beta_trellis", "plot_iterations", "plot_decodings"]

#: Okabe-Ito blue, vermillion, bluish green, reddish purple (one per state).
STATE_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
STATE_MARKERS = ("s", "o", "^", "D")
WIDTH = 8.8   # inches: 880 px at 100 dpi


def _check_sheet(sheet) -> None:
    check_instance("sheet", sheet, Sheet, "an emlab.widgets.sheet.Sheet (from sheet.forward_backward_sheet)")


def _day_axis(ax, diary, symbol_names):
    """Tick labels: each day's count, and the day number under every fifth day."""
    T = len(diary)
    step = 1 if T <= 40 else int(np.ceil(T / 40))
    days = np.arange(1, T + 1)[::step]
    ax.set_xticks(days, [symbol_names[diary[d - 1]] for d in days], fontsize=8)
    numbered = [d for d in range(1, T + 1) if d == 1 or d % (5 * step) == 0]
    ax.xaxis.remove_overlapping_locs = False
    ax.set_xticks(numbered, [str(d) for d in numbered], minor=True, fontsize=7, color="0.35")
    ax.tick_params(axis="x", which="minor", length=0, pad=15)
    ax.set_xlabel("ice creams eaten each day (day numbers in grey)", fontsize=9)
    ax.set_xlim(0.4, T + 0.6)


def _mark_day(ax, day):
    if day is not None:
        ax.axvspan(day - 0.45, day + 0.45, color="0.85", zorder=0, lw=0)


def plot_alpha_beta_trellis(sheet, state_names=None, symbol_names=None, day=None):
    """Two panels over the days: ``log10`` of α and β for every state (α solid, β dashed, one
    marker per state), and the trellis (node area and shade = γ, edge width = ξ). ``day``
    (1-based, a whole number in ``[1, T]``, or None) is shaded in both panels. Returns the figure.

    ``sheet`` is a :class:`emlab.widgets.sheet.Sheet`; ``state_names`` and ``symbol_names`` are
    one str per state and per symbol (or None for ``s0, s1, …`` and ``0, 1, …``)."""
    _check_sheet(sheet)
    T, K = sheet.alpha.shape
    states = _names("state_names", state_names, K, "state", "s")
    symbols = _names("symbol_names", symbol_names, sheet.model.V, "symbol")
    if day is not None:
        day = check_scalar("day", day, low=1, high=T, integer=True)
    fig = Figure(figsize=(WIDTH, 5.0))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.25, 1]})
    fig.subplots_adjust(left=0.08, right=0.99, top=0.94, bottom=0.15, hspace=0.28)
    t = np.arange(1, T + 1)
    with np.errstate(divide="ignore"):
        la, lb = np.log10(sheet.alpha), np.log10(sheet.beta)
    for k in range(K):
        c, mk = STATE_COLORS[k % 4], STATE_MARKERS[k % 4]
        top.plot(t, la[:, k], color=c, marker=mk, ms=3.5, lw=1.4, label=f"α({states[k]})")
        top.plot(t, lb[:, k], color=c, marker=mk, ms=3.5, lw=1.4, ls="--", mfc="white",
                 label=f"β({states[k]})")
    _mark_day(top, day)
    top.set_ylabel("log10 probability", fontsize=9)
    top.set_title(f"forward α and backward β; every day Σ_y α β = p(x) = {sheet.p_x:.4g} "
                  f"(largest relative error {sheet.max_check_error:.0e})", fontsize=10)
    top.legend(ncol=2 * K, fontsize=8, loc="upper center", frameon=False)
    top.grid(axis="y", color="0.9")

    y_of = K - 1 - np.arange(K)                                   # first state on top
    segs, widths = [], []
    for i in range(T - 1):
        for a in range(K):
            for b in range(K):
                segs.append([(i + 1, y_of[a]), (i + 2, y_of[b])])
                widths.append(0.3 + 5.0 * sheet.xi[i, a, b])
    bottom.add_collection(LineCollection(segs, linewidths=widths, colors="0.35", zorder=1))
    gx, gy = np.meshgrid(t, y_of, indexing="ij")
    bottom.scatter(gx.ravel(), gy.ravel(), s=20 + 110 * sheet.gamma.ravel(), c=sheet.gamma.ravel(),
                   cmap="Greys", vmin=0, vmax=1.25, edgecolors="0.2", linewidths=0.6, zorder=2)
    _mark_day(bottom, day)
    bottom.set_yticks(y_of, states)
    bottom.set_ylim(-0.5, K - 0.5)
    bottom.set_title("trellis: node size and shade = γ = αβ / p(x), edge width = ξ (the edge posterior)",
                     fontsize=10)
    _day_axis(bottom, sheet.diary, symbols)
    for side in ("top", "right"):
        bottom.spines[side].set_visible(False)
    return fig


def plot_iterations(sheet, state: int = 1, state_names=None, symbol_names=None):
    """``log p(x)`` of each Baum-Welch iterate (left), and ``p(y_i = state | x)`` of every iterate
    overlaid (right): iteration 0 faint, thin and dashed, later ones darker and wider, the last
    bold. Returns the figure.

    ``sheet`` is a :class:`emlab.widgets.sheet.Sheet`, ``state`` a state index in ``[0, K)``;
    ``state_names`` and ``symbol_names`` as in :func:`plot_alpha_beta_trellis`."""
    _check_sheet(sheet)
    K = sheet.model.K
    state = check_scalar("state", state, low=0, high=K - 1, integer=True)
    states = _names("state_names", state_names, K, "state", "s")
    symbols = _names("symbol_names", symbol_names, sheet.model.V, "symbol")
    N = sheet.n_iter
    fig = Figure(figsize=(WIDTH, 3.4))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2.7]})
    fig.subplots_adjust(left=0.09, right=0.99, top=0.9, bottom=0.22, wspace=0.25)
    lls = sheet.log_likelihoods
    left.plot(np.arange(N + 1), lls, color="0.2", marker="o", ms=3.5, lw=1.2)
    left.set_xlabel("iteration", fontsize=9)
    left.set_ylabel("log p(x)", fontsize=9)
    left.set_title(f"p(x): {np.exp(lls[0]):.3g} → {np.exp(lls[-1]):.3g}", fontsize=10)
    left.grid(color="0.9")
    cmap = mpl.colormaps["cividis_r"]
    t = np.arange(1, len(sheet.diary) + 1)
    for it in range(N + 1):
        f = it / N
        right.plot(t, sheet.gammas[it, :, state], color=cmap(0.15 + 0.85 * f), lw=0.7 + 2.3 * f ** 2,
                   alpha=0.5 + 0.5 * f, ls="--" if it == 0 else "-", zorder=2 + it,
                   label=f"iteration {it}" if it in (0, N) else None)
    right.axhline(0.5, color="0.6", lw=0.6, ls=":")
    right.set_ylim(-0.03, 1.03)
    right.set_ylabel(f"p({states[state]} | diary)", fontsize=9)
    right.set_title(f"p({states[state]} | diary) after 0…{N} re-estimations (faint → bold)", fontsize=10)
    right.legend(fontsize=8, loc="lower left", frameon=False)
    _day_axis(right, sheet.diary, symbols)
    return fig


def plot_decodings(sheet, state_names=None, symbol_names=None):
    """Two strips, one cell per day labelled with its state: the Viterbi path (best sequence,
    ``argmax_y p(x, y)``) and posterior-max decoding (best state of each day, ``argmax_y γ_i(y)``).
    Days where they differ are outlined and marked ``≠``. Returns the figure.

    ``sheet``, ``state_names`` and ``symbol_names`` as in :func:`plot_alpha_beta_trellis`."""
    _check_sheet(sheet)
    T, K = sheet.gamma.shape
    states = _names("state_names", state_names, K, "state", "s")
    symbols = _names("symbol_names", symbol_names, sheet.model.V, "symbol")
    fig = Figure(figsize=(WIDTH, 2.1))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.14, right=0.99, top=0.84, bottom=0.33)
    rows = [("Viterbi", sheet.viterbi_path), ("posterior max", sheet.posterior_path)]
    cells = np.array([[to_rgb(STATE_COLORS[k % 4]) for k in path] for _, path in rows])
    ax.imshow(cells, extent=(0.5, T + 0.5, -0.5, 1.5), aspect="auto", alpha=0.85, interpolation="nearest")
    for i in range(1, T):                                        # white gaps between days
        ax.axvline(i + 0.5, color="white", lw=0.8)
    ax.axhline(0.5, color="white", lw=2)
    for r, (_, path) in enumerate(rows):
        for i, k in enumerate(path):
            ax.text(i + 1, 1 - r, states[k], ha="center", va="center", fontsize=8, color="white",
                    weight="bold")
    differ = sheet.decodings_differ
    for i in differ:
        ax.add_patch(Rectangle((i + 0.5, -0.5), 1.0, 2.0, fill=False, ec="black", lw=1.6, zorder=3))
        ax.text(i + 1, 1.75, "≠", ha="center", va="center", fontsize=11, weight="bold")
    ax.set_yticks([1, 0], [name for name, _ in rows], fontsize=9)
    ax.set_ylim(-0.55, 2.0)
    _day_axis(ax, sheet.diary, symbols)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if differ.size:
        days = ", ".join(str(d + 1) for d in differ[:12]) + ("…" if differ.size > 12 else "")
        title = f"the two decodings differ on {differ.size} day(s) (≠): {days}"
    else:
        title = "Viterbi and posterior-max decoding agree on every day"
    ax.set_title(title, fontsize=10)
    return fig
