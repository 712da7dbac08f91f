"""HMM pictures for notebook 03: the trellis of a short sequence and posterior plots.

Only drawing happens here; the numbers come from :mod:`emlab.hmm`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..validation import check_numbers, check_scalar, check_symbols
from .axes import _names, _text, single_axes

__all__ = ["draw_trellis", "plot_posteriors", "MAX_TRELLIS_LENGTH"]

#: The longest sequence :func:`draw_trellis` draws (1.4 inches per position: longer ones do not fit).
MAX_TRELLIS_LENGTH = 40

#: Slack allowed above 1 for probabilities drawn as edge widths or posteriors (rounding).
_PROB_SLACK = 1e-9


def _probabilities(name: str, value, shape: tuple) -> np.ndarray:
    arr = check_numbers(name, value, nonnegative=True)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if arr.size and arr.max() > 1 + _PROB_SLACK:
        raise ValueError(f"{name} must hold probabilities in [0, 1], found {float(arr.max())!r}")
    return arr


def draw_trellis(m, seq, ax=None, state_names=None, symbol_names=None, values=None, value_label="α",
                 edge_weights=None, path=None, title=None):
    """Draw the trellis of ``seq`` under the HMM ``m``: one column per position, one node per state.

    Parameters
    ----------
    m : emlab.hmm.HMM
    seq : short 1-D integer sequence.
    values : (T, K) array written in the nodes (e.g. ``hmm.forward_table(m, seq)`` or posteriors).
    edge_weights : (T-1, K, K) array setting edge widths (e.g. the transition posteriors ``xi``);
        by default the transition probabilities ``m.trans``.
    path : state path to draw in red (e.g. the Viterbi path).
    state_names, symbol_names : one str per state / symbol (or a str of one letter each), or None.
    value_label : a str; title : a str or None. ax : a matplotlib ``Axes``, or None for a new figure.

    START is drawn on the left and, when the model has one, STOP on the right. At most
    :data:`MAX_TRELLIS_LENGTH` positions are drawn.
    """
    from ..hmm import HMM

    if not isinstance(m, HMM):
        raise TypeError(f"m must be an emlab.hmm.HMM, got {type(m).__name__}")
    K, V = m.emit.shape
    seq = check_symbols("seq", seq, V)
    T = len(seq)
    if T > MAX_TRELLIS_LENGTH:
        raise ValueError(f"seq has {T} positions: a trellis fits at most {MAX_TRELLIS_LENGTH} "
                         "(draw a window such as seq[:8])")
    states = _names("state_names", state_names, K, "state", "s")
    symbols = _names("symbol_names", symbol_names, V, "symbol")
    value_label = _text("value_label", value_label, optional=False)
    title = _text("title", title)
    if values is not None:
        values = check_numbers("values", values)
        if values.shape != (T, K):
            raise ValueError(f"values must have shape (T, K) = {(T, K)}, got {values.shape}")
    if edge_weights is not None:
        edge_weights = _probabilities("edge_weights", edge_weights, (T - 1, K, K))
    if path is not None:
        path = check_symbols("path", path, K)
        if path.size != T:
            raise ValueError(f"path must have one state per position of seq ({T}), got {path.size}")
    ax = single_axes(ax, (1.4 * (T + 2), 0.9 * K + 1.4))
    y_of = {k: K - 1 - k for k in range(K)}
    mid = (K - 1) / 2

    def edge(x0, y0, x1, y1, w, red):
        ax.plot([x0, x1], [y0, y1], color="crimson" if red else "0.45",
                lw=0.4 + 5 * float(w), alpha=0.9 if red else 0.6, zorder=1)

    on_path = set()
    if path is not None:
        on_path = {(t, int(path[t]), int(path[t + 1])) for t in range(T - 1)}
    for k in range(K):   # START → first column, weighted by start probabilities
        edge(-1, mid, 0, y_of[k], m.start[k], path is not None and int(path[0]) == k)
    for t in range(T - 1):
        w = edge_weights[t] if edge_weights is not None else m.trans
        for i in range(K):
            for j in range(K):
                edge(t, y_of[i], t + 1, y_of[j], w[i, j], (t, i, j) in on_path)
    if m.stop is not None:
        for k in range(K):
            edge(T - 1, y_of[k], T, mid, m.stop[k], path is not None and int(path[-1]) == k)
        ax.text(T, mid, "STOP", ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round", fc="lightyellow", ec="0.3"), zorder=3)
    ax.text(-1, mid, "START", ha="center", va="center", fontsize=9,
            bbox=dict(boxstyle="round", fc="lightyellow", ec="0.3"), zorder=3)
    for t in range(T):
        ax.text(t, K - 0.35, f"x={symbols[seq[t]]}", ha="center", va="bottom", fontsize=10, weight="bold")
        for k in range(K):
            label = states[k] if values is None else f"{states[k]}\n{value_label}={values[t, k]:.3g}"
            red = path is not None and int(path[t]) == k
            ax.text(t, y_of[k], label, ha="center", va="center", fontsize=8, zorder=3,
                    bbox=dict(boxstyle="circle" if values is None else "round",
                              fc="mistyrose" if red else "white", ec="crimson" if red else "0.3"))
    ax.set_xlim(-1.6, T + 0.6 if m.stop is not None else T - 0.4)
    ax.set_ylim(-0.7, K + 0.1)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def plot_posteriors(gamma, ax=None, state_names=None, kind="line", observations=None, symbol_names=None,
                    title=None, state=None):
    """Plot state posteriors ``gamma`` (T, K).

    ``kind="line"``: one line per state (or only ``state``), ``p(y_t = k | x)`` against ``t``, with the
    observations as tick labels when given; ``kind="heatmap"``: a K × T image. ``state_names``: one
    str per state (or None); ``symbol_names``: one str per symbol (or None: the symbol numbers);
    ``title``: a str or None; ``ax``: a matplotlib ``Axes``, or None for a new figure.
    """
    arr = check_numbers("gamma", gamma, nonnegative=True)
    if arr.ndim != 2 or 0 in arr.shape:
        hint = (": pass the whole (T, K) table and pick a state with state=k" if arr.ndim == 1 else "")
        raise ValueError(f"gamma must be a (T, K) table of state posteriors, got shape {arr.shape}{hint}")
    gamma = _probabilities("gamma", arr, arr.shape)
    T, K = gamma.shape
    states = _names("state_names", state_names, K, "state", "s")
    if symbol_names is not None:
        symbol_names = _names("symbol_names", symbol_names, None, "symbol")
    title = _text("title", title)
    if state is not None:
        state = check_scalar("state", state, low=0, high=K - 1, integer=True)
    if observations is not None:
        n_symbols = len(symbol_names) if symbol_names is not None else None
        observations = check_symbols("observations", observations,
                                     n_symbols if n_symbols is not None else np.iinfo(np.intp).max)
        if observations.size != T:
            raise ValueError(f"observations must have one symbol per row of gamma ({T}), "
                             f"got {observations.size}")
    if not isinstance(kind, str) or kind not in ("line", "heatmap"):
        raise ValueError(f"kind must be 'line' or 'heatmap', got {kind!r}")
    ax = single_axes(ax, (min(12, 2 + 0.3 * T), 3))
    t = np.arange(1, T + 1)
    if kind == "heatmap":
        im = ax.imshow(gamma.T, aspect="auto", cmap="viridis", vmin=0, vmax=1,
                       extent=(0.5, T + 0.5, K - 0.5, -0.5))
        ax.set_yticks(range(K), states)
        plt.colorbar(im, ax=ax, label="p(state | x)")
    elif kind == "line":
        for k in range(K) if state is None else [state]:
            ax.plot(t, gamma[:, k], marker=".", label=f"p(y_t = {states[k]} | x)")
        ax.set_ylim(-0.03, 1.03)
        ax.set_ylabel("posterior")
        ax.legend(loc="best", fontsize=8)
    else:
        raise ValueError(f"kind must be 'line' or 'heatmap', got {kind!r}")
    if observations is not None and T <= 60:
        symbols = symbol_names if symbol_names is not None else [str(v) for v in
                                                                 range(int(observations.max()) + 1)]
        ax.set_xticks(t, [symbols[v] for v in observations], fontsize=7)
        ax.set_xlabel("day (label: observation)")
    else:
        ax.set_xlabel("t")
    if title:
        ax.set_title(title)
    return ax
