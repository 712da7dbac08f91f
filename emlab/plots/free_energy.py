"""Figures of the free-energy lecture (notebook 09), in the lecture style of :mod:`emlab.plots.gaps`.

- :func:`plot_bound_along` — ``L``, ``F(q, θ)`` and ``KL(q ‖ p(y | x))`` as ``q`` moves along a path
  of distributions (the gap ``L − F`` drawn on top of the KL: they coincide).
- :func:`plot_staircase` — coordinate ascent: F after every E- and M-step of a
  :class:`emlab.free_energy.FreeEnergyTrace`, with ``L(θ_t)`` as markers.
- :func:`plot_passes` — ``L* − L`` against data passes of E-step work for batch, incremental and
  stepwise EM (log axis).
- :func:`plot_chains` — parameter trajectories of stochastic EM, MCEM and SAEM against iterations.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..free_energy import FreeEnergyTrace
from ..validation import check_instance, check_numbers, check_scalar
from .axes import _mapping, _text, single_axes
from .gaps import OKABE_ITO, style

__all__ = ["plot_bound_along", "plot_staircase", "plot_passes", "plot_chains"]


def _vector(name: str, v, n: int | None = None) -> np.ndarray:
    """``v`` as a non-empty 1-D array of finite numbers (of length ``n`` when given), else an error
    naming ``name``."""
    v = check_numbers(name, v)
    if v.ndim != 1 or v.size == 0 or (n is not None and v.size != n):
        want = f"of length {n}" if n is not None else "non-empty"
        raise ValueError(f"{name} must be a 1-D array {want}, got shape {v.shape}")
    return v


def plot_bound_along(lam, L: float, F, KL, ax=None, xlabel: str = "λ"):
    """``L`` (a constant), ``F(q_λ, θ)`` and the gap ``L − F`` beside ``KL(q_λ ‖ p(y | x))`` along a
    path ``q_λ``. Lines: L solid, F dashed; gap dotted with circles, KL crosses (they coincide).
    ``lam``, ``F`` and ``KL`` are 1-D of one length, ``L`` a number, ``xlabel`` a str."""
    lam = _vector("lam", lam)
    F, KL = _vector("F", F, lam.size), _vector("KL", KL, lam.size)
    L = check_scalar("L", L)
    xlabel = _text("xlabel", xlabel, optional=False)
    ax = single_axes(ax, (7.0, 3.6))
    every = max(1, lam.size // 10)
    ax.plot(lam, np.full_like(lam, L), color=OKABE_ITO[0], linestyle="-", label="L(θ) = log p(x)")
    ax.plot(lam, F, color=OKABE_ITO[1], linestyle="--", label="F(q, θ)")
    ax.plot(lam, L - F, color=OKABE_ITO[2], linestyle=":", marker="o", markevery=every, markersize=6,
            label="gap L − F")
    ax.plot(lam, KL, color=OKABE_ITO[3], linestyle="none", marker="x", markevery=(every // 2, every),
            markersize=7, label="KL(q ‖ p(y | x))")
    ax.set(xlabel=xlabel, ylabel="nats")
    ax.legend(fontsize="small")
    return ax


def plot_staircase(tr, ax=None, first: int = 0, title: str | None = None):
    """F at every half-step of ``tr`` (a :class:`~emlab.free_energy.FreeEnergyTrace`) from iteration
    ``first`` on, as a staircase: the M-step moves right (θ changes, q fixed), the E-step up (q
    changes, θ fixed). ``L(θ_t)`` is drawn as open circles; for soft EM the E-step lands on them.
    ``first`` is a whole number in ``[0, n_iter)``, ``title`` a str or None."""
    check_instance("tr", tr, FreeEnergyTrace, "a free_energy.FreeEnergyTrace (from free_energy.trace)")
    n = len(tr.after_m)
    if isinstance(first, bool) or not (isinstance(first, (int, np.integer)) and 0 <= first < n):
        raise ValueError(f"first must be an iteration in [0, {n}), got {first!r}")
    title = _text("title", title)
    ax = single_axes(ax, (7.0, 3.6))
    xs, ys = [], []
    for t in range(first, n):
        xs += [t, t + 1, t + 1]
        ys += [tr.after_e[t], tr.after_m[t], tr.after_e[t + 1]]
    ax.plot(xs, ys, color=OKABE_ITO[1], linestyle="-", marker=".", label="F: M-step →, E-step ↑")
    t = np.arange(first, n + 1)
    ax.plot(t, tr.log_likelihoods[first:], color=OKABE_ITO[0], linestyle="none", marker="o",
            markerfacecolor="none", markersize=8, label="L(θ_t)")
    ax.set(xlabel="iteration t", ylabel="nats")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_passes(runs: Mapping[str, object], target: float, ax=None, floor: float = 1e-3,
                title: str | None = None):
    """``target − L`` against passes over the data, log axis. ``runs`` is a dict label → run, each an
    :class:`~emlab.online.OnlineResult` (``passes``, ``log_likelihoods``), an ``EMResult`` (one pass
    per iteration) or a pair ``(passes, log_likelihoods)``. ``target`` is a number; gaps below
    ``floor`` (a number ≥ 0) are not drawn; ``title`` is a str or None."""
    runs = _mapping("runs", runs, "label -> run")
    target = check_scalar("target", target)
    floor = check_scalar("floor", floor, low=0)
    title = _text("title", title)
    curves = {}
    for label, run in runs.items():
        if isinstance(run, tuple):
            if len(run) != 2:
                raise ValueError(f"runs[{label!r}] must be a pair (passes, log_likelihoods), "
                                 f"got a tuple of {len(run)}")
            x, v = run
        elif hasattr(run, "log_likelihoods"):
            v = run.log_likelihoods
            x = getattr(run, "passes", None)
        else:
            raise TypeError(f"runs[{label!r}] must be an OnlineResult, an EMResult or a pair "
                            f"(passes, log_likelihoods), got {type(run).__name__}")
        v = _vector(f"runs[{label!r}] log-likelihoods", v)
        x = _vector(f"runs[{label!r}] passes", np.arange(v.size) if x is None else x, v.size)
        curves[label] = x, v
    ax = single_axes(ax, (7.0, 3.6))
    for i, (label, (x, v)) in enumerate(curves.items()):
        gap = target - v
        keep = gap > floor
        ax.semilogy(x[keep], gap[keep], label=label, markersize=5,
                    markevery=max(1, int(keep.sum()) // 12), **style(i))
    ax.set(xlabel="passes over the data (E-step work)", ylabel="L* − L(θ)  (nats, log scale)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_chains(chains: Mapping[str, object], target: float | None = None, ax=None,
                ylabel: str = "θ_t", title: str | None = None, target_label: str = "soft EM's fixed point"):
    """Parameter trajectories ``θ_t`` against iteration ``t`` (one curve per scheme: stochastic EM,
    MCEM, SAEM), with an optional horizontal line at ``target`` (a number or None) labelled
    ``target_label``. ``chains`` is a dict label → 1-D array of ``θ_0 … θ_n``; ``ylabel`` and
    ``target_label`` are strs, ``title`` a str or None."""
    chains = _mapping("chains", chains, "label -> 1-D array of parameter values")
    arrays = {label: _vector(f"chain {label!r} of chains", v) for label, v in chains.items()}
    target = None if target is None else check_scalar("target", target)
    ylabel = _text("ylabel", ylabel, optional=False)
    title = _text("title", title)
    target_label = _text("target_label", target_label, optional=False)
    ax = single_axes(ax, (7.0, 3.6))
    for i, (label, v) in enumerate(arrays.items()):
        ax.plot(np.arange(v.size), v, label=label, markersize=5, markevery=max(1, v.size // 10), **style(i))
    if target is not None:
        ax.axhline(target, color="black", linewidth=0.8, linestyle=(0, (1, 3)), label=target_label)
    ax.set(xlabel="iteration t", ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax
