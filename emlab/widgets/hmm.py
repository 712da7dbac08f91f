"""A widget stepping Baum-Welch one iteration at a time (notebook 03).

It consumes :func:`emlab.em.steps`, the one EM loop of emlab, so what it shows is exactly what
:func:`emlab.em.fit` does. The figure lives in an ``ipywidgets.Output`` that is redrawn at each step.
"""

from __future__ import annotations

import numbers

import matplotlib.pyplot as plt

from .. import em, hmm
from ..plots.curves import plot_log_likelihoods
from ..plots.trellis import plot_posteriors
from ..validation import check_sequence, check_symbols

__all__ = ["BaumWelchStepper", "baum_welch_stepper"]

#: The ice-cream weather states spelled out in titles ("p(Hot | diary)").
_LONG_NAMES = {"H": "Hot", "C": "Cold"}


def _check_names(name: str, names, n: int, what: str) -> None:
    """``names`` (None, or a str or a sequence of at least ``n`` names, each a str or a number), else an
    error naming the argument."""
    if names is None:
        return
    if not isinstance(names, str):
        check_sequence(name, names, f"a list of {n} {what} names")
        for i, item in enumerate(names):
            if isinstance(item, bool) or not isinstance(item, (str, numbers.Number)):
                raise TypeError(f"{name}[{i}] must be a {what} name (a str), got {type(item).__name__}")
    if len(names) < n:
        raise ValueError(f"{name} has {len(names)} names but the model has {n} {what}s: give one per {what}")


class BaumWelchStepper:
    """Step-by-step Baum-Welch on one sequence: ``step()`` runs one E-step + M-step.

    ``history`` holds the log-likelihood of every model seen so far (index 0 = the initial model);
    ``model`` is the current model; ``render()`` draws the current posteriors and the history.
    Functions in ``listeners`` are called after every step and reset (the widget redraws there, so
    stepping from code updates the widget too).
    """

    def __init__(self, model, seq, method="soft", state_names=None, symbol_names=None, rng=None):
        K, V = getattr(model, "K", None), getattr(model, "V", None)
        if isinstance(V, int):              # an HMM: check what render() needs now, not at the first draw
            seq = check_symbols("seq", seq, V)
            _check_names("symbol_names", symbol_names, V, "symbol")
        if isinstance(K, int):
            _check_names("state_names", state_names, K, "state")
        self.seq = seq
        self.state_names, self.symbol_names = state_names, symbol_names
        self._method, self._rng, self._start = method, rng, model
        self.listeners = []
        self.reset()

    def reset(self):
        self._steps = em.steps(self._start, [self.seq], self._method, self._rng)
        self.model, estep = next(self._steps)
        self.history = [estep.log_likelihood]
        self._notify()

    def step(self):
        self.model, estep = next(self._steps)
        self.history.append(estep.log_likelihood)
        self._notify()

    def _notify(self):
        for listener in self.listeners:
            listener()

    def render(self):
        """The posterior of the last state (Hot, in the ice-cream data) and ``log p(x)`` so far, in a
        figure 880 px wide at 100 dpi."""
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.8, 3), gridspec_kw=dict(width_ratios=[3, 1]))
        gamma, _ = hmm.posteriors(self.model, self.seq)
        last = len(gamma[0]) - 1
        name = self.state_names[last] if self.state_names is not None else f"s{last}"
        plot_posteriors(gamma, ax1, self.state_names, observations=self.seq, symbol_names=self.symbol_names,
                        state=last,
                        title=f"iteration {len(self.history) - 1}: p({_LONG_NAMES.get(name, name)} | diary)")
        plot_log_likelihoods(self.history, ax=ax2, title=f"log p(x) = {self.history[-1]:.4f}")
        fig.tight_layout()
        return fig


def baum_welch_stepper(model, seq, state_names=None, symbol_names=None):
    """Buttons "step" and "reset" over an output area showing posteriors and log-likelihoods.

    Returns ``(widget, stepper)``; display the widget, inspect the stepper.
    """
    import ipywidgets as widgets
    from IPython.display import display

    stepper = BaumWelchStepper(model, seq, state_names=state_names, symbol_names=symbol_names)
    out = widgets.Output()
    step_button = widgets.Button(description="EM step", icon="play")
    reset_button = widgets.Button(description="reset", icon="undo")

    def redraw():
        out.clear_output(wait=True)
        with out:
            fig = stepper.render()
            display(fig)
            plt.close(fig)

    stepper.listeners.append(redraw)
    step_button.on_click(lambda _: stepper.step())
    reset_button.on_click(lambda _: stepper.reset())
    redraw()
    return widgets.VBox([widgets.HBox([step_button, reset_button]), out]), stepper
