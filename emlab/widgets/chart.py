"""The inside-chart explorer (notebook 04_pcfg_chart_explorer): edit a sentence and a grammar
table, watch the inside chart, the span posteriors and the CKY tree recompute.

As for the HMM spreadsheet (:mod:`emlab.widgets.spreadsheet`), three layers:
:mod:`emlab.widgets.chart_sheet` computes (and validates), :class:`ChartExplorer` holds the current
grammar and sentence and refuses invalid edits with a message, :func:`chart_widget` adds a text
box for the sentence and a text area for the rules.
"""

from __future__ import annotations

import html
import io
import math

from matplotlib.figure import Figure

from .. import pcfg
from ..data.grammars import MANNING_SCHUTZE_SENTENCE, manning_schutze_grammar
from ..plots.chart import plot_inside_chart
from ..plots.trees import draw_tree, plot_span_posteriors
from .chart_sheet import format_rules, inside_chart_sheet, parse_rules, parse_sentence
from .status import show_png, status_line

__all__ = ["ChartExplorer", "CHART_FIGURES", "draw_chart_explorer", "chart_widget"]

#: The explorer's figures, in display order.
CHART_FIGURES = ("chart", "spans", "tree")


class ChartExplorer:
    """The current ``grammar``, ``words`` and :class:`~emlab.widgets.chart_sheet.ChartSheet`.

    ``grammar`` defaults to Manning & Schütze's and ``words`` to their sentence; a grammar of your own
    needs ``words`` it can parse.

    ``set_sentence`` and ``set_grammar`` apply a valid edit and return True, or keep everything,
    set :attr:`message` and return False. ``listeners`` are called with ``"all"`` or ``"refused"``.
    """

    def __init__(self, grammar=None, words=None):
        default_words = words is None
        grammar = manning_schutze_grammar() if grammar is None else grammar
        if default_words:
            words = list(MANNING_SCHUTZE_SENTENCE)
        try:
            words = inside_chart_sheet(grammar, words).words    # refuse a bad starting point at once
        except ValueError as exc:
            if not default_words:
                raise
            why = str(exc).removeprefix("words: ")
            raise ValueError(f"words: the default sentence {' '.join(words)!r} (Manning & Schütze's) does "
                             f"not suit this grammar ({why}): give words= for this grammar") from None
        self._initial = (grammar, words)
        self.listeners = []
        self.reset()

    def reset(self) -> None:
        self.grammar, self.words = self._initial
        self.sheet = inside_chart_sheet(self.grammar, self.words)
        self.ok, self.message = True, "starting grammar and sentence"
        self._notify("all")

    def _try(self, what: str, grammar, words) -> bool:
        try:
            sheet = inside_chart_sheet(grammar, words)
        except ValueError as exc:
            return self._refuse(what, exc)
        self.grammar, self.words, self.sheet = grammar, list(words), sheet
        self.ok, self.message = True, what
        self._notify("all")
        return True

    def _refuse(self, what: str, exc: Exception) -> bool:
        self.ok, self.message = False, f"refused {what}: {exc}. Nothing was changed."
        self._notify("refused")
        return False

    def set_sentence(self, text: str) -> bool:
        what = f"the sentence {text!r}"
        try:
            words = parse_sentence(text)
        except (TypeError, ValueError) as exc:
            return self._refuse(what, exc)
        return self._try(what, self.grammar, words)

    def set_grammar(self, text: str) -> bool:
        """A new grammar from rule lines (``chart_sheet.parse_rules``), with the same start symbol."""
        what = "the grammar edit"
        try:
            grammar = pcfg.PCFG.from_rules(parse_rules(text), start=self.grammar.start)
        except (TypeError, ValueError) as exc:
            return self._refuse(what, exc)
        return self._try(f"new grammar of {len(grammar.rules())} rules", grammar, self.words)

    def _notify(self, kind: str) -> None:
        for listener in self.listeners:
            listener(kind)

    def status_html(self) -> str:
        s = self.sheet
        state = (f"p(x) = {s.p_x:.6g}; CKY tree p(x, t*) = {math.exp(s.tree_log_prob):.6g} "
                 f"= {math.exp(s.tree_log_prob - s.log_p):.3f} of p(x)")
        return status_line(self.ok, self.message, state)

    def counts_html(self) -> str:
        """The rules with their probabilities and expected counts in this sentence."""
        rows = "".join(
            f"<tr><td style='text-align:left;padding:1px 8px'>"
            f"{html.escape(lhs)} → {html.escape(' '.join(rhs))}</td>"
            f"<td style='padding:1px 8px'>{q:.4g}</td>"
            f"<td style='padding:1px 8px'>{self.sheet.counts[(lhs, rhs)]:.4f}</td></tr>"
            for lhs, rhs, q in self.grammar.rules())
        return ('<div style="max-height:260px;overflow:auto"><table style="font-family:monospace;'
                'font-size:12px;text-align:right;border-collapse:collapse"><caption style="text-align:left;'
                'font-weight:bold;font-family:sans-serif">expected rule counts in this sentence</caption>'
                "<tr><th>rule</th><th>q</th><th>E[count]</th></tr>" + rows + "</table></div>")

    def figure(self, name: str):
        """One of :data:`CHART_FIGURES` (a ``matplotlib.figure.Figure`` pyplot does not track)."""
        s = self.sheet
        if name == "chart":
            return plot_inside_chart(s)
        if name == "spans":
            n = len(s.words)
            ax = Figure(figsize=(min(8.8, 1.8 + 0.8 * n), min(6.0, 1.2 + 0.65 * n))).subplots()
            plot_span_posteriors(s.constituent, s.words, ax=ax)
            return ax.figure
        if name == "tree":
            n = len(s.words)
            ax = Figure(figsize=(min(8.8, max(4.0, 1.1 * n)), 3.2)).subplots()
            draw_tree(s.tree, ax=ax, title=f"CKY tree: p(x, t*) = {math.exp(s.tree_log_prob):.6g}")
            return ax.figure
        raise ValueError(f"name must be one of {CHART_FIGURES}, got {name!r}")

    def png(self, name: str) -> bytes:
        fig = self.figure(name)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()


def draw_chart_explorer(grammar=None, words=None) -> ChartExplorer:
    """The explorer's picture without the widget: every figure and the counts table."""
    from IPython.display import HTML, display

    explorer = ChartExplorer(grammar, words)
    for name in CHART_FIGURES:
        display(explorer.figure(name))
    display(HTML(explorer.counts_html()))
    return explorer


def chart_widget(grammar=None, words=None):
    """A text box for the sentence and a text area for the rules (one per line, ``A -> B C prob``);
    the inside chart, the span posteriors, the CKY tree and the expected counts are redrawn on
    every valid edit. Returns ``(widget, explorer)``."""
    import ipywidgets as widgets

    explorer = ChartExplorer(grammar, words)
    syncing = [False]
    sentence = widgets.Text(description="sentence", continuous_update=False,
                            layout=widgets.Layout(width="520px"))
    rules = widgets.Textarea(description="grammar", continuous_update=False,
                             layout=widgets.Layout(width="520px", height="240px"))
    reset = widgets.Button(description="reset", icon="undo")
    status = widgets.HTML()
    status.add_class("emlab-chart-status")
    counts = widgets.HTML()
    counts.add_class("emlab-chart-table-counts")
    figs = {name: widgets.Output() for name in CHART_FIGURES}
    for name in CHART_FIGURES:
        figs[name].add_class(f"emlab-chart-figure-{name}")

    def redraw(kind):                      # the status line last: when it changes, the redraw is done
        syncing[0] = True
        try:
            sentence.value = " ".join(explorer.words)
            rules.value = format_rules(explorer.grammar)       # a refused edit is taken back
        finally:
            syncing[0] = False
        if kind != "refused":
            counts.value = explorer.counts_html()
            for name in CHART_FIGURES:
                show_png(figs[name], explorer.png(name))
        status.value = explorer.status_html()

    sentence.observe(lambda c: None if syncing[0] else explorer.set_sentence(c["new"]), names="value")
    rules.observe(lambda c: None if syncing[0] else explorer.set_grammar(c["new"]), names="value")
    reset.on_click(lambda _: explorer.reset())
    explorer.listeners.append(redraw)
    redraw("all")
    help_text = widgets.HTML("<b>type a sentence (words separated by spaces) or edit the rules, one per "
                             "line <code>A -&gt; B C prob</code> or <code>A -&gt; word prob</code>; each "
                             "left-hand side must sum to 1. Leave the box (or press Enter) to apply.</b>")
    ui = widgets.VBox([help_text, sentence, widgets.HBox([rules, counts]), reset, status,
                       figs["chart"], figs["spans"], figs["tree"]])
    ui.add_class("emlab-chart-explorer")
    return ui, explorer
