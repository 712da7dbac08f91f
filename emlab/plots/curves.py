"""Curves the EM notebooks draw: log-likelihood per iteration, the EM lower bound, restart
histograms, k-means next to hard EM (notebooks 02, 05, 06, 07, 08).

Every function takes an optional matplotlib ``ax`` (a new figure is made without one) and returns
the ``Axes`` it drew on, so notebooks can combine panels and tests can inspect what was drawn.
They only draw: the numbers come from :mod:`emlab.em`, :mod:`emlab.bound`, :mod:`emlab.convergence`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..validation import check_bool, check_numbers, check_scalar, check_sequence
from .axes import MAX_BINS, _curve, _mapping, _panels, _text, axes_row, single_axes


def _labels(labels, n: int) -> list | None:
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
        raise TypeError(f"labels must be a list of strings, one per run, got {type(labels).__name__}")
    if len(labels) != n:
        raise ValueError(f"got {len(labels)} labels for {n} runs")
    return [str(label) for label in labels]


def plot_log_likelihoods(runs, labels: Sequence[str] | None = None, ax=None, gap: bool = False,
                         target: float | None = None, attr: str = "log_likelihoods", title: str | None = None,
                         **line_kwargs):
    """Log-likelihood against iteration for one run or many (05, 06, 07, 08).

    Parameters
    ----------
    runs : an ``EMResult``, a sequence of values, or a list of either.
    labels : one label per run (a legend is drawn when given).
    gap : plot ``L* − L_t`` on a log scale instead (``L*`` = ``target``, a number, default the largest
        value reached by any run). Linear convergence is then a straight line whose slope is ``log r²``.
    attr : which attribute of an ``EMResult`` to draw (``"objectives"`` for hard EM's objective).
    title : a str, or None for no title.
    """
    if not isinstance(attr, str):
        raise TypeError(f"attr must be the name of an EMResult attribute, got {type(attr).__name__}")
    zero_d = isinstance(runs, np.ndarray) and runs.ndim == 0
    if isinstance(runs, (str, bytes, dict)) or runs is None or np.isscalar(runs) or zero_d:
        raise TypeError(f"runs must be an EMResult, a sequence of values, or a list of either, "
                        f"got {type(runs).__name__}")
    if isinstance(runs, np.ndarray) and runs.ndim == 2:
        runs = list(runs)
    single = hasattr(runs, attr) or not hasattr(runs, "__len__") or (len(runs) > 0 and np.isscalar(runs[0]))
    if not single and len(runs) == 0:
        raise ValueError("runs is empty: give an EMResult or a list of log-likelihood histories")
    curves = ([_curve(runs, attr, "runs", attr_arg=True)] if single else
              [_curve(r, attr, f"runs[{i}]", attr_arg=True) for i, r in enumerate(runs)])
    labels = _labels(labels, len(curves))
    gap = check_bool("gap", gap)
    title = _text("title", title)
    best = check_scalar("target", target) if target is not None else max(float(np.max(c)) for c in curves)
    ax = single_axes(ax, (6, 4))
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
    With ``show_gap`` (True or False) the gap ``L − bound`` (a KL divergence) is shaded. ``xlabel`` is a
    str; ``ylim_margin`` a number ≥ 0 of extra room below the curves.
    """
    from ..bound import BoundOnPath

    if not isinstance(result, BoundOnPath):
        raise TypeError(f"result must be an emlab.bound.BoundOnPath (from bound.bound_on_path), "
                        f"got {type(result).__name__}")
    ylim_margin = check_scalar("ylim_margin", ylim_margin, low=0)
    show_gap = check_bool("show_gap", show_gap)
    xlabel = _text("xlabel", xlabel, optional=False)
    th, L, B = result.thetas, result.log_likelihoods, result.bound
    if not (np.isfinite(L).any() and np.isfinite(B).any()):
        raise ValueError("result has no finite log-likelihood on its grid: nothing to draw")
    ax = single_axes(ax, (6, 4))
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

    ``runs`` is a list of ``EMResult`` or of numbers; ``bins`` a whole number of bins in
    ``[1, MAX_BINS]``. ``reference`` (e.g. ``L`` of the true model) is marked with a vertical line; the
    best run (``best``, default the largest final value) with another. The labels are strs.
    """
    check_sequence("runs", runs, "a list of EMResults or of numbers")
    if len(runs) == 0:
        raise ValueError("runs is empty: give the results of some restarts")
    finals = check_numbers("runs", [r.log_likelihood if hasattr(r, "log_likelihood") else r for r in runs],
                           ndim=1)
    bins = check_scalar("bins", bins, low=1, high=MAX_BINS, integer=True)
    best = None if best is None else check_scalar("best", best)
    reference = None if reference is None else check_scalar("reference", reference)
    reference_label = _text("reference_label", reference_label, optional=False)
    xlabel = _text("xlabel", xlabel, optional=False)
    ax = single_axes(ax, (6, 4))
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
                               figsize=(8.8, 3.6)):
    """2-D points coloured by assignment, one panel per method (07: k-means vs hard EM).

    ``panels`` is a list of ``(title (a str), assignments (N,), centres (K, 2))``; ``axes`` one
    matplotlib ``Axes`` per panel, or None for a new row. Returns the list of axes.
    """
    X = check_numbers("X", X)
    if X.ndim != 2 or X.shape[1] < 2 or X.shape[0] == 0:
        raise ValueError(f"X must be (N, 2) points to draw, got shape {X.shape}")
    panels = _panels(panels, X.shape[0])
    axes = axes_row(axes, len(panels), figsize, sharex=True, sharey=True)
    for ax, (title, z, c) in zip(axes, panels, strict=True):
        ax.scatter(X[:, 0], X[:, 1], c=z, cmap="tab10", vmin=0, vmax=9, s=12, alpha=0.7)
        ax.scatter(c[:, 0], c[:, 1], c="k", marker="x", s=80, linewidths=2)
        ax.set_title(title)
    return axes


def plot_rate_vs(x, measured, predicted=None, ax=None, xlabel: str = "separation", label="measured"):
    """The linear convergence rate ``r`` against some property of the problem (05), measured from
    EM runs and, if given, predicted (e.g. the fraction of missing information). ``xlabel`` and
    ``label`` (the legend entry of the measured points) are strs."""
    x = check_numbers("x", x, ndim=1, min_size=1)
    measured = _same_length("measured", measured, x)
    if predicted is not None:
        predicted = _same_length("predicted", predicted, x)
    xlabel = _text("xlabel", xlabel, optional=False)
    label = _text("label", label, optional=False)
    ax = single_axes(ax, (6, 4))
    ax.plot(x, measured, "o", label=label)
    if predicted is not None:
        ax.plot(x, predicted, "-", color="C1", label="predicted (missing information)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rate r = ‖θ_t+1 − θ_t‖ / ‖θ_t − θ_t−1‖")
    ax.set_ylim(0, 1.05)
    ax.axhline(1, color="k", lw=0.5)
    ax.legend(fontsize="small")
    return ax


def _same_length(name: str, values, x: np.ndarray) -> np.ndarray:
    """1-D values, one per entry of ``x`` (NaN allowed: a rate that could not be measured)."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D sequence of numbers, one per x") from None
    if arr.shape != x.shape:
        raise ValueError(f"{name} must have one value per x ({x.size}), got shape {arr.shape}")
    return arr


def plot_hard_vs_soft(hard, soft=None, drops=(), axes=None):
    """Hard EM's two curves (notebook 07): its objective ``Σ max_y log p(x, y)`` and ``log p(x)``
    (left, with soft EM's ``log p(x)`` from the same start when given), arrows where ``log p(x)``
    fell (iterations in ``drops``), and the change of each at every iteration from ``t = 2`` (right;
    the first step's jump would dwarf the rest). ``axes``: two matplotlib ``Axes``, or None for a new row.
    Returns the two axes."""
    objective, lls = _curve(hard, "objectives", "hard"), _curve(hard, "log_likelihoods", "hard")
    if objective.size != lls.size or lls.size < 2:
        raise ValueError(f"hard must be an EMResult with at least two iterates (one objective per "
                         f"log-likelihood), got {objective.size} objectives and {lls.size} log-likelihoods")
    soft_lls = None if soft is None else _curve(soft, "log_likelihoods", "soft")
    if isinstance(drops, (str, bytes)) or not hasattr(drops, "__iter__"):
        raise TypeError(f"drops must be a sequence of iterations, got {type(drops).__name__}")
    drops = [check_scalar("drops entry", t, low=1, high=lls.size - 1, integer=True) for t in drops]
    axes = axes_row(axes, 2, (8.8, 3.4))
    left, right = axes
    left.plot(objective, "s-", color="C1", label="hard EM: its objective  Σ max_y log p(x, y)")
    left.plot(lls, "o-", color="C0", label="hard EM: log p(x)")
    top = lls.max()
    if soft_lls is not None:
        left.plot(soft_lls, "--", color="C2", label="soft EM (same start): log p(x)")
        top = max(top, soft_lls.max())
    for t in drops:
        left.annotate("", xy=(t, lls[t]), xytext=(t - 1, lls[t - 1]),
                      arrowprops=dict(arrowstyle="->", color="C3", lw=2))
    left.set(xlabel="iteration t", ylabel="log-probability",
             title="hard EM raises its objective, not log p(x) (thick arrows: L fell)")
    left.set_ylim(objective[1:].min() - 20, top + 10)
    left.legend(fontsize="small", loc="lower right")
    steps = np.arange(2, lls.size)
    right.bar(steps - 0.2, np.diff(objective)[1:], 0.4, color="C1", label="change of the hard objective")
    right.bar(steps + 0.2, np.diff(lls)[1:], 0.4, color="C0", label="change of log p(x)")
    right.axhline(0, color="k", lw=0.8)
    right.set(xlabel="iteration t", ylabel="change from t−1", title="change at each iteration (from t = 2)")
    right.legend(fontsize="small")
    return axes


def plot_runs_against_truth(runs: dict, truth: dict, axes=None):
    """One panel per model (notebook 05): ``L(θ_t)`` of each EM run in ``runs`` (name → run) with a
    dotted line at the log-likelihood of the true model that generated the data (``truth``, name →
    value). EM climbs towards — and, on a finite sample, usually past — the truth's ``L``.
    ``axes``: one matplotlib ``Axes`` per model, or None for a new row. Returns the list of axes."""
    runs = _mapping("runs", runs, "model name -> run")
    truth = _mapping("truth", truth, "model name -> log-likelihood")
    if set(runs) != set(truth):
        raise ValueError(f"runs and truth must name the same models, got {sorted(map(str, runs))} and "
                         f"{sorted(map(str, truth))}")
    truth = {name: check_scalar(f"truth[{name!r}]", value) for name, value in truth.items()}
    for name, run in runs.items():                   # every run checked before a figure is made
        _curve(run, "log_likelihoods", f"runs[{name!r}]")
    axes = axes_row(axes, len(runs), (min(8.8, 2.9 * len(runs)), 3.4))
    for ax, (name, run) in zip(axes, runs.items(), strict=True):
        plot_log_likelihoods(run, ax=ax, title=str(name))
        ax.axhline(truth[name], color="C3", ls=":", label="true model")
        ax.legend(fontsize="small")
    axes[0].figure.tight_layout()
    return axes


def plot_stopping_rules(run, stopped_at: int, tol: float = 1e-8, axes=None):
    """Two stopping rules on one run (notebook 05). Left: ``L(θ_t)`` with a dotted line at the
    iteration ``stopped_at`` where the relative-change rule stopped. Right, on a log axis, what each
    rule looks at: ``|L_t − L_{t−1}| / |L_{t−1}|`` and the largest parameter change
    (``run.param_changes``), with the threshold ``tol``. ``axes``: two matplotlib ``Axes``, or None for
    a new row. Returns the two axes."""
    try:
        tol = check_scalar("tol", tol, low=0, low_open=True)
    except ValueError:
        raise ValueError(f"tol must be positive for a log axis, got {tol}") from None
    lls = _curve(run)
    stopped_at = check_scalar("stopped_at", stopped_at, integer=True)
    if not 0 <= stopped_at < lls.size:
        raise ValueError(f"stopped_at={stopped_at} is outside the run's {lls.size} iterations")
    changes = _curve(run, "param_changes", "run") if lls.size > 1 else np.zeros(0)
    if changes.size != lls.size - 1:
        raise ValueError(f"run needs one param_change per iteration ({lls.size - 1}), got {changes.size}")
    axes = axes_row(axes, 2, (8.8, 3.2))
    left, right = axes
    plot_log_likelihoods(run, ax=left, title="L(θ_t): a plateau, then the climb")
    left.axvline(stopped_at, color="C3", ls=":", label="relative-change rule stops")
    left.legend(fontsize="small")
    right.semilogy(np.abs(np.diff(lls)) / np.where(lls[:-1] == 0, 1.0, np.abs(lls[:-1])), ".-",
                   label="relative change of L")   # the absolute change where L is 0, like em.fit
    right.semilogy(changes, ".-", label="largest parameter change")
    right.axhline(tol, color="k", lw=0.5)
    right.set(xlabel="iteration t", title="what each rule looks at")
    right.legend(fontsize="small")
    return axes


def plot_saddle(eps, up, down, runs, labels: Sequence[str], axes=None, ylim=(-3, 1.5)):
    """A saddle point of ``L`` and EM near it (notebook 05). Left: ``L − L(symmetric)`` along two
    directions out of the symmetric point, one that goes up (``up``) and one that goes down
    (``down``), against the step size ``eps``. Right: ``L(θ_t)`` of EM runs started at and next to it.
    ``ylim`` is the left panel's (bottom, top); ``axes`` two matplotlib ``Axes`` or None for a new row.
    Returns the two axes."""
    eps, up, down = (check_numbers(name, a) for name, a in (("eps", eps), ("up", up), ("down", down)))
    if not (eps.ndim == 1 and eps.size > 0 and up.shape == eps.shape and down.shape == eps.shape):
        raise ValueError(f"eps, up and down must be 1-D of one length, got shapes "
                         f"{eps.shape}, {up.shape}, {down.shape}")
    if check_numbers("ylim", ylim).shape != (2,):
        raise ValueError(f"ylim must be a pair (bottom, top), got {ylim!r}")
    axes = axes_row(axes, 2, (8.8, 3.3))
    left, right = axes
    left.plot(eps, up, label="states differ (sticky, opposite emissions)")
    left.plot(eps, down, label="both states move the same way")
    left.axhline(0, color="k", lw=0.5)
    left.set(xlabel="step ε away from the symmetric point", ylabel="L − L(symmetric)", ylim=ylim,
             title="the symmetric point is a saddle")
    left.legend(fontsize="small")
    plot_log_likelihoods(runs, labels=labels, ax=right, title="EM from the saddle and from next to it")
    left.figure.tight_layout()
    return axes


def plot_state_alignment(confusion, mapping, true_emit, learned_emit, axes=None, vmax: float = 0.6):
    """How well learned HMM states match true ones (notebook 06). Left: the confusion counts
    (true state × learned state, as EM numbered them) written in each cell, with the matching
    ``learned j → true mapping[j]`` in the title. Middle and right: the true emission matrix
    ``e(x | y)`` and the learned one with its states permuted to match, on one colour scale (0 to
    ``vmax`` > 0). ``axes``: three matplotlib ``Axes``, or None for a new row. Returns the three axes."""
    confusion = check_numbers("confusion", confusion, nonnegative=True)
    true_emit = check_numbers("true_emit", true_emit, ndim=2, nonnegative=True)
    learned_emit = check_numbers("learned_emit", learned_emit, ndim=2, nonnegative=True)
    vmax = check_scalar("vmax", vmax, low=0, low_open=True)
    check_sequence("mapping", mapping, "a list of the true state of each learned state")
    if confusion.ndim != 2 or len(mapping) != confusion.shape[1]:
        raise ValueError(f"mapping needs one entry per learned state (column of confusion "
                         f"{confusion.shape}), got {len(mapping)}")
    mapping = [check_scalar(f"mapping[{j}]", t, low=0, high=confusion.shape[0] - 1, integer=True)
               for j, t in enumerate(mapping)]
    if true_emit.shape != learned_emit.shape:
        raise ValueError(f"true_emit {true_emit.shape} and learned_emit {learned_emit.shape} differ in shape")
    axes = axes_row(axes, 3, (8.8, 3.0))
    n_states, n_symbols = true_emit.shape
    axes[0].imshow(confusion, cmap="Greens")
    axes[0].set(xlabel="learned state (as numbered by EM)", ylabel="true state",
                title="confusion; matched: " + ", ".join(f"{j}→{t}" for j, t in enumerate(mapping)))
    for (i, j), c in np.ndenumerate(confusion):
        axes[0].text(j, i, int(c), ha="center", va="center")
    for ax, emit, title in ((axes[1], true_emit, "true e(x | y)"),
                            (axes[2], learned_emit, "learned e(x | y), states matched")):
        ax.imshow(emit, cmap="Blues", vmin=0, vmax=vmax)
        ax.set(xlabel="symbol", ylabel="state", title=title, xticks=range(n_symbols))
    for ax in axes:
        ax.set_yticks(range(n_states))
    axes[0].set_xticks(range(confusion.shape[1]))
    axes[0].figure.tight_layout()
    return axes


def plot_state_emissions(emit, states, alphabet, highlight=(), ax=None,
                         title: str = "best restart: emission probabilities of the two states"):
    """Emission probabilities ``e(letter | state)`` of two HMM states as paired bars, one pair per
    letter (notebook 06); the letters at indices ``highlight`` (e.g. the vowels) get tick labels in
    the first state's colour, and a space is shown as ``␣``. ``alphabet`` is a str (or a list of strs),
    one letter per column of ``emit``; ``title`` a str.
    """
    emit = check_numbers("emit", emit, nonnegative=True)
    if not isinstance(alphabet, str):
        check_sequence("alphabet", alphabet, "a str or a list of strs, one letter per column of emit")
        for i, c in enumerate(alphabet):
            if not isinstance(c, str):
                raise TypeError(f"alphabet[{i}] must be a str, got {type(c).__name__} {c!r}")
    title = _text("title", title, optional=False)
    check_sequence("states", states, "a pair of state indices")
    if len(states) != 2:
        raise ValueError(f"states must name exactly two states, got {states!r}")
    if emit.ndim != 2 or emit.shape[1] != len(alphabet):
        raise ValueError(f"emit must have one column per letter of the alphabet ({len(alphabet)}), "
                         f"got shape {emit.shape}")
    states = [check_scalar("states entry", s, low=0, high=emit.shape[0] - 1, integer=True) for s in states]
    check_sequence("highlight", highlight, "a list of letter indices")
    highlight = [check_scalar("highlight entry", i, low=0, high=len(alphabet) - 1, integer=True)
                 for i in highlight]
    ax = single_axes(ax, (9, 3.8))
    x = np.arange(len(alphabet))
    for (s, shift, color) in zip(states, (-0.2, 0.2), ("C1", "C0"), strict=True):
        ax.bar(x + shift, emit[s], 0.4, label=f"state {s}", color=color)
    ax.set_xticks(x, [c if c != " " else "␣" for c in alphabet])
    for i in highlight:
        ax.get_xticklabels()[i].set_color("C1")
    ax.set(ylabel="e(letter | state)", title=title)
    ax.legend()
    return ax


def plot_em_vs_gradient(em_run, ga_run, ax=None, zoom: float = 0.8):
    """EM against direct gradient ascent on one budget of inference passes (notebook 08):
    ``L`` against the number of E-steps used (EM spends one per iteration, so its ``t``-th value is
    drawn at ``t + 1``; gradient ascent's line search spends several, ``ga_run.evaluations``). The
    y-axis starts ``zoom`` (in [0, 1)) of the way up EM's climb, where the two methods differ."""
    em_lls = _curve(em_run, name="em_run")
    ga_lls = _curve(ga_run, name="ga_run")
    if not hasattr(ga_run, "evaluations"):
        raise TypeError(f"ga_run must be a gradient.GradientResult (with evaluations), "
                        f"got {type(ga_run).__name__}")
    evaluations = check_numbers("ga_run.evaluations", ga_run.evaluations)
    if evaluations.shape != ga_lls.shape:
        raise ValueError(f"ga_run needs one evaluation count per log-likelihood, got {evaluations.size} "
                         f"and {ga_lls.size}")
    zoom = check_scalar("zoom", zoom, low=0, high=1, high_open=True)
    ax = single_axes(ax, (7, 4))
    ax.plot(np.arange(1, em_lls.size + 1), em_lls, label="EM (closed-form M-step)")
    ax.plot(evaluations, ga_lls, label="gradient ascent (backtracking)")
    ax.set(xlabel="E-steps (inference passes) used", ylabel="log-likelihood",
           ylim=(em_lls[0] + zoom * (em_lls[-1] - em_lls[0]), em_lls[-1] + 5),
           title="HMM: EM vs direct gradient ascent")
    ax.legend()
    return ax
