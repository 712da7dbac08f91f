"""The initialization widget of notebook 06: choose a strategy and a seed, see where EM lands.

:func:`draw_init_run` is the plain drawing function (usable without a widget, e.g. in static
HTML or tests); :func:`init_widget` only adds the controls. The strategies are those of
:func:`emlab.experiments.hmm_init`: ``random``, ``uniform``, ``jitter`` and ``informed``.
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt

from .. import em, hmm
from ..experiments import INIT_STRATEGIES, hmm_init, match_rows, permute_hmm
from ..plots.axes import axes_row
from ..validation import as_generator, check_scalar, check_sequence, naming


def _check_reference(true, symbols, K: int, V: int) -> None:
    """``true`` (an HMM with K states and V symbols) and ``symbols`` (V names), when given."""
    if true is not None:
        if not isinstance(true, hmm.HMM):
            raise TypeError(f"true must be an emlab.hmm.HMM, got {type(true).__name__}")
        if true.emit.shape != (K, V):
            raise ValueError(f"true has {true.emit.shape[0]} states and {true.emit.shape[1]} symbols, "
                             f"but K={K} and V={V}")
    if symbols is not None:
        if not isinstance(symbols, str):
            check_sequence("symbols", symbols, f"a list of {V} symbol names")
        if len(symbols) != V:
            raise ValueError(f"symbols must name the {V} symbols, got {len(symbols)} names")


def draw_init_run(data, kind: str, seed: int, K: int, V: int, *, true=None, labelled=None,
                  scale: float = 0.1, max_iter: int = 100, axes=None, symbols=None):
    """Run soft EM on ``data`` from the ``kind`` initialization drawn with ``seed`` and draw
    (left) its log-likelihood per iteration, with the true model's ``L`` and the uniform fixed
    point's ``L`` as reference lines, and (right) the learned emission matrix, its states
    reordered to match ``true`` (Hungarian algorithm on the emission rows) when ``true`` is given.
    ``axes`` is two matplotlib Axes or None (a new figure).

    Returns the ``em.EMResult``.
    """
    init = hmm_init(kind, K, V, scale=scale, labelled=labelled)
    seed = check_scalar("seed", seed, low=0, integer=True)
    max_iter = check_scalar("max_iter", max_iter, low=1, integer=True)
    _check_reference(true, symbols, K, V)
    if axes is not None:
        axes = axes_row(axes, 2, (8.8, 3.4))
    uniform = hmm.HMM.uniform(K, V)
    with naming("data"):                        # the corpus's checks name "sequence n", not data
        uniform.prepare(data)
    start = init(as_generator(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)
        res = em.fit(start, data, max_iter=max_iter, tol=1e-9)
        # the uniform start's fixed point is reached after one M-step (the unigram model, notebook 06)
        flat = em.fit(uniform, data, max_iter=1, tol=0).log_likelihood
    if axes is None:
        axes = axes_row(None, 2, (8.8, 3.4), gridspec_kw={"width_ratios": [1.3, 1]})
    ax, hx = axes
    ax.plot(res.log_likelihoods, color="C0", lw=2, label=f"{kind}, seed {seed}")
    ax.axhline(flat, color="C7", ls="--", lw=1, label=f"uniform fixed point: {flat:.1f}")
    top = res.log_likelihood
    if true is not None:
        ref = hmm.log_likelihood(true, data)
        ax.axhline(ref, color="C3", ls=":", lw=1.5, label=f"true model: {ref:.1f}")
        top = max(top, ref)
    ax.set_ylim(flat - 0.5 * (top - flat) - 1, top + 0.1 * (top - flat) + 1)
    ax.set_xlabel("iteration t")
    ax.set_ylabel("log-likelihood L(θ_t)")
    ax.set_title(f"lands at L = {res.log_likelihood:.1f} after {res.n_iter} iterations")
    ax.legend(fontsize="small", loc="lower right")
    model = res.model
    if true is not None:
        model = permute_hmm(model, match_rows(true.emit, model.emit)[0])
    im = hx.imshow(model.emit, aspect="auto", cmap="Blues", vmin=0, vmax=1)
    hx.set_yticks(range(K), [f"state {k}" for k in range(K)])
    labels = symbols if symbols is not None else [str(v) for v in range(V)]
    hx.set_xticks(range(V), labels)
    hx.set_xlabel("symbol")
    hx.set_title("learned e(x | y)" + (" (states matched to the truth)" if true is not None else ""))
    plt.colorbar(im, ax=hx, fraction=0.046)
    return res


def init_widget(data, K: int, V: int, *, true=None, labelled=None, scale: float = 0.1,
                max_iter: int = 100, symbols=None):
    """A dropdown over the initialization strategy and a seed slider; the figure of
    :func:`draw_init_run` is redrawn for each choice (notebook 06)."""
    import ipywidgets as widgets

    hmm_init("informed" if labelled is not None else "random", K, V, scale=scale, labelled=labelled)
    max_iter = check_scalar("max_iter", max_iter, low=1, integer=True)
    _check_reference(true, symbols, K, V)
    kinds = [k for k in INIT_STRATEGIES if k != "informed" or labelled is not None]
    kind = widgets.Dropdown(options=kinds, value="random", description="init")
    seed = widgets.IntSlider(value=0, min=0, max=30, step=1, description="seed", continuous_update=False)

    def show(kind, seed):
        draw_init_run(data, kind, seed, K, V, true=true, labelled=labelled, scale=scale,
                      max_iter=max_iter, symbols=symbols)
        plt.show()

    return widgets.interactive(show, kind=kind, seed=seed)
