"""Where a plotting helper draws: the caller's axes, checked, or new ones (every module of
:mod:`emlab.plots` and :mod:`emlab.widgets` takes ``ax=`` / ``axes=`` through these two functions).

The private checks below are the ones the plot modules share, so an argument of one kind (a text, a
dict of runs, state names, a run's history, the sheet a figure draws) is refused alike everywhere,
with a message that names it."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from ..validation import check_numbers, check_scalar, check_sequence

#: The most bins a histogram of restarts draws (more than any notebook needs; a huge ``bins`` would
#: allocate the bins before drawing).
MAX_BINS = 10_000

#: The largest figure side (inches; matplotlib's Agg renders at most 2**16 pixels a side, 655 inches at
#: 100 dpi) and the most axes in a row that a new figure is made with.
MAX_FIGSIZE = 1000.0
MAX_AXES = 100


def _figsize(figsize):
    """``figsize`` as a pair of numbers in ``(0, MAX_FIGSIZE]`` inches, or ``None`` (matplotlib's
    default), else an error naming ``figsize``."""
    if figsize is None:
        return None
    sides = check_numbers("figsize", figsize)
    if sides.shape != (2,):
        raise ValueError(f"figsize must be a pair (width, height) in inches, got shape {sides.shape}")
    return tuple(check_scalar(f"figsize[{i}]", float(v), low=0, high=MAX_FIGSIZE, low_open=True)
                 for i, v in enumerate(sides))


def single_axes(ax, figsize, name: str = "ax") -> Axes:
    """``ax`` when it is a matplotlib ``Axes``; new axes of ``figsize`` (``(width, height)`` in inches,
    each in ``(0, MAX_FIGSIZE]``, or None for matplotlib's default) when it is ``None``; else a
    ``TypeError`` naming ``name`` (a str, the caller's name of the argument)."""
    name = _text("name", name, optional=False)
    figsize = _figsize(figsize)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(f"{name} must be a matplotlib Axes (e.g. from plt.subplots()) or None, "
                        f"got {type(ax).__name__}")
    return ax


def axes_row(axes, n: int, figsize, name: str = "axes", **subplots_kwargs) -> list[Axes]:
    """``n`` axes: the caller's ``axes`` (a sequence or array of ``n`` matplotlib ``Axes``), or a new
    row of ``n`` (a whole number in ``[1, MAX_AXES]``) of ``figsize`` (as for :func:`single_axes`) when
    ``axes`` is ``None``; else an error naming ``name`` (a str, the caller's name of the argument)."""
    name = _text("name", name, optional=False)
    n = check_scalar("n", n, low=1, high=MAX_AXES, integer=True)
    figsize = _figsize(figsize)
    if axes is None:
        _, grid = plt.subplots(1, n, figsize=figsize, squeeze=False, **subplots_kwargs)
        return list(grid[0])
    if isinstance(axes, Axes) or isinstance(axes, (str, bytes, dict)) or not hasattr(axes, "__iter__"):
        raise TypeError(f"{name} must be a sequence of {n} matplotlib Axes or None, "
                        f"got {type(axes).__name__}")
    flat = list(np.ravel(np.asarray(axes, dtype=object))) if isinstance(axes, np.ndarray) else list(axes)
    if len(flat) != n:
        raise ValueError(f"{name} must hold {n} matplotlib Axes, got {len(flat)}")
    for i, ax in enumerate(flat):
        if not isinstance(ax, Axes):
            raise TypeError(f"{name}[{i}] must be a matplotlib Axes, got {type(ax).__name__}")
    return flat


def _text(name: str, value, optional: bool = True) -> str | None:
    """``value`` when it is a ``str`` (or ``None`` when ``optional``): a title, an axis label, the
    name of an attribute; else a ``TypeError`` naming ``name``."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str{' or None' if optional else ''}, got {type(value).__name__}")
    return value


def _mapping(name: str, value, what: str) -> Mapping:
    """``value`` when it is a non-empty mapping (a dict of ``what``, e.g. "label -> run"), else a
    ``TypeError`` (not a mapping) or ``ValueError`` (empty) naming ``name``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict {what}, got {type(value).__name__}")
    if len(value) == 0:
        raise ValueError(f"{name} is empty: give at least one entry ({what})")
    return value


def _names(name: str, value, n: int | None, of: str, prefix: str = "") -> list[str]:
    """Display names, one per ``of`` (e.g. "state"): ``prefix0``, ``prefix1``, … when ``value`` is
    ``None``; else ``value`` as a list when it is a sequence of ``n`` strings (any non-empty number when
    ``n`` is ``None``) or a string of ``n`` letters (``"CH"``); else an error naming ``name``."""
    if value is None:
        if n is None:
            raise TypeError(f"{name} must be a list of names, got None")
        return [f"{prefix}{i}" for i in range(n)]
    if not isinstance(value, str):
        check_sequence(name, value, f"a list of names, one per {of}, or None")
    names = list(value)
    if n is not None and len(names) != n:
        raise ValueError(f"{name} must have one name per {of} ({n}), got {len(names)}")
    if not names:
        raise ValueError(f"{name} is empty: give one name per {of}")
    for i, v in enumerate(names):
        if not isinstance(v, str):
            raise TypeError(f"{name}[{i}] must be a str, got {type(v).__name__} {v!r}")
    return names


def _curve(run, attr: str = "log_likelihoods", name: str = "run", attr_arg: bool = False) -> np.ndarray:
    """The ``attr`` history of an ``EMResult`` (or of anything with it), or a sequence of numbers:
    1-D, non-empty, finite, else an error naming ``name`` (and ``attr`` when ``attr_arg``: it is the
    caller's argument, e.g. ``plot_log_likelihoods(..., attr=...)``)."""
    if hasattr(run, attr):
        values, where = getattr(run, attr), f"{name}'s {attr}"
    elif hasattr(run, "__len__") and not isinstance(run, (str, bytes, Mapping)):
        values, where = run, name
    elif attr_arg and hasattr(run, "log_likelihoods"):
        raise TypeError(f"attr={attr!r} is not an attribute of {name} (a {type(run).__name__}): give the "
                        "name of one of its histories, e.g. attr='log_likelihoods'")
    else:
        raise TypeError(f"{name} must be an EMResult (with .{attr}) or a 1-D sequence of values, "
                        f"got {type(run).__name__}")
    arr = check_numbers(where, values)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{where} must be a non-empty 1-D sequence of values, got shape {arr.shape}")
    return arr


def _panels(panels, n_points: int, labels: bool = False) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The ``panels`` of a cluster figure, checked: a non-empty list of ``(title, assignments (N,),
    centres (K, ≥ 2))`` with ``N = n_points``; assignments are whole numbers ≥ 0 when ``labels``
    (they pick a colour and a marker), else any numbers (a colour scale). Errors name ``panels``."""
    check_sequence("panels", panels, "a list of (title, assignments, centres)")
    if len(panels) == 0:
        raise ValueError("panels is empty: give at least one (title, assignments, centres)")
    out = []
    for i, panel in enumerate(panels):
        if not (isinstance(panel, (tuple, list)) and len(panel) == 3):
            raise ValueError(f"panels[{i}] must be (title, assignments (N,), centres (K, 2)), "
                             f"got {type(panel).__name__}")
        title, z, centres = panel
        title = _text(f"panels[{i}] title", title, optional=False)
        where = f"panel {title!r} (panels[{i}])"
        z = check_numbers(f"{where}: assignments", z)
        if z.shape != (n_points,):
            raise ValueError(f"{where}: assignments must have shape ({n_points},), got {z.shape}")
        if labels:
            if (z < 0).any() or (z != np.round(z)).any():
                raise ValueError(f"{where}: assignments must be cluster numbers 0, 1, …")
            z = z.astype(np.intp)
        c = check_numbers(f"{where}: centres", centres)
        if c.ndim != 2 or c.shape[1] < 2:
            raise ValueError(f"{where}: centres must be (K, 2), got shape {c.shape}")
        out.append((title, z, c))
    return out
